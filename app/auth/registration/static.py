"""The static-client backend: every registration gets the one public client the operator
pre-registered at the IdP (Okta, Entra ID and others without open registration).

Nothing is created and nothing is stored: the answer is the configured client id with the
validated metadata. No secret exists to hand out. A redirect URI the IdP-side app does not list
would fail later at the IdP's authorization endpoint with a page the user cannot act on, so it
is refused here, at registration, with a message naming what the client may use instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from app.auth.registration.errors import invalid_redirect_uri
from app.auth.registration.request import ClientMetadata
from app.redirect_uris import RedirectPattern, parse_uri


class StaticClientRegistrar:
    name = "static"

    def __init__(self, client_id: str, allowed: tuple[RedirectPattern, ...],
                 clock: Callable[[], float] = time.time) -> None:
        self.client_id = client_id
        self._allowed = allowed
        self._clock = clock

    def register(self, metadata: ClientMetadata, provider: Mapping[str, Any] | None) -> dict[str, Any]:
        for uri in metadata.redirect_uris:
            if not any(pattern.matches(parse_uri(uri)) for pattern in self._allowed):
                raise invalid_redirect_uri(
                    f"Redirect URI {uri[:100]!r} is not registered for the pre-registered client "
                    f"{self.client_id!r}; it allows " + ", ".join(p.text for p in self._allowed))
        return {
            "client_id": self.client_id,
            "client_id_issued_at": int(self._clock()),
            **metadata.as_json(),
        }
