"""The Dynamic Client Registration proxy, without Flask: validation and the two backends.

`app/web/registration.py` is the thin HTTP side. Nothing here stores a registration: the static
backend creates nothing, the upstream backend's IdP keeps the client it creates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from app.auth.registration.errors import RegistrationError
from app.auth.registration.request import ClientMetadata, parse_registration
from app.auth.registration.static import StaticClientRegistrar
from app.auth.registration.upstream import UpstreamRegistrar
from app.redirect_uris import RedirectPattern, parse_patterns
from app.settings import Settings

__all__ = ["ClientMetadata", "RegistrationError", "RegistrationProxy", "build_proxy"]


class Registrar(Protocol):
    name: str

    def register(self, metadata: ClientMetadata, provider: Mapping[str, Any] | None) -> dict[str, Any]:
        """The RFC 7591 response body of a successful registration.

        Raises:
            RegistrationError: refused (400) or failed (502/503/504).
        """
        ...


@dataclass(frozen=True)
class RegistrationProxy:
    """Validation rules plus the backend that registers what passes them."""

    allowed: tuple[RedirectPattern, ...]
    registrar: Registrar

    @property
    def backend(self) -> str:
        return self.registrar.name

    def register(self, body: Any, provider: Mapping[str, Any] | None) -> tuple[ClientMetadata, dict[str, Any]]:
        """Validate `body` (decoded JSON) and register it: (the validated metadata, the response body).

        Raises:
            RegistrationError: the first problem, with its RFC 7591 code and status.
        """
        metadata = parse_registration(body, self.allowed, provider)
        return metadata, self.registrar.register(metadata, provider)


def build_proxy(settings: Settings) -> RegistrationProxy | None:
    """The proxy DCR_PROXY_BACKEND asks for, or None when it is unset. Settings were validated already."""
    registrar: Registrar
    if settings.dcr_backend == "static":
        assert settings.dcr_static_client_id is not None
        registrar = StaticClientRegistrar(settings.dcr_static_client_id,
                                          parse_patterns(settings.dcr_static_redirect_uris))
    elif settings.dcr_backend == "upstream":
        registrar = UpstreamRegistrar(settings.dcr_upstream_registration_url,
                                      settings.dcr_upstream_initial_access_token,
                                      settings.oidc_http_timeout_seconds, settings.oidc_tls_verify)
    else:
        return None
    return RegistrationProxy(parse_patterns(settings.dcr_redirect_uri_patterns), registrar)
