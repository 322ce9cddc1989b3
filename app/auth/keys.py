"""PyJWKClient with a last-known-good key set, for identity-provider outages."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from jwt import PyJWK, PyJWKClient, PyJWKSet
from jwt.exceptions import PyJWKClientError, PyJWKSetError

from app import metrics

log = logging.getLogger(__name__)


class KeysUnavailable(Exception):
    """No keys could ever be fetched from the JWKS endpoint."""


class LastKnownGoodJWKClient(PyJWKClient):
    """Serves the last good JWKS for `stale_seconds` when the endpoint fails.

    PyJWT replaces its cache only on success but, once `lifespan` has passed, a
    failed refetch fails every request even though good keys are in memory. Here a
    failed fetch returns the last good set (and is not retried for `cooldown`
    seconds), so tokens signed with known keys keep working through an outage,
    while a rotated-in key is picked up by the first fetch that succeeds.
    """

    def __init__(self, uri: str, *, stale_seconds: float, **kwargs: Any) -> None:
        super().__init__(uri, **kwargs)
        self._stale_seconds = stale_seconds
        self._good: Any = None
        self._good_at = 0.0
        self._failed_at: float | None = None
        self._forced_at: float | None = None
        self._state_lock = threading.Lock()
        self.fetches = 0

    def fetch_data(self) -> Any:
        now = time.monotonic()
        with self._state_lock:
            recently_failed = self._failed_at is not None and now - self._failed_at < self.cooldown_duration
            if recently_failed and self._usable(now):
                return self._good
        try:
            self.fetches += 1
            data = super().fetch_data()
            PyJWKSet.from_dict(data)  # an empty or unusable set is a failure, not a new good state
        except (PyJWKClientError, PyJWKSetError, ValueError) as exc:  # ValueError: a non-JSON body (an HTML error page)
            metrics.JWKS_FETCHES.labels(outcome="error").inc()
            with self._state_lock:
                self._failed_at = now
                if self._usable(now):
                    log.warning("JWKS fetch from %s failed (%s); using last-known-good keys", self.uri,
                                type(exc).__name__)
                    return self._good
            if self._good is None:
                raise KeysUnavailable(f"Cannot fetch signing keys from {self.uri}") from None
            raise
        metrics.JWKS_FETCHES.labels(outcome="ok").inc()
        with self._state_lock:
            self._good, self._good_at, self._failed_at = data, now, None
        return data

    def get_signing_key(self, kid: str) -> PyJWK:
        """The key for `kid`; an unknown kid forces one refetch unless another forced refetch
        happened within `cooldown_duration`.

        PyJWT starts its cooldown at every successful fetch, so a key rotated in just after a
        routine fetch would be refused for up to 30 s. Here only unknown-kid refetches are
        rate-limited: the first token with a new kid picks it up, while a flood of made-up
        kids still costs at most one fetch per cooldown.
        """
        with self._client_lock:
            signing_key = self.match_kid(self.get_signing_keys(), kid)
            if signing_key is None:
                now = time.monotonic()
                if self._forced_at is None or now - self._forced_at >= self.cooldown_duration:
                    self._forced_at = now
                    signing_key = self.match_kid(self.get_signing_keys(refresh=True), kid)
            if signing_key is None:
                raise PyJWKClientError(f'Unable to find a signing key that matches: "{kid}"')
            return signing_key

    def _usable(self, now: float) -> bool:
        return self._good is not None and now - self._good_at < self._stale_seconds
