"""KUBE_AUTH=exchange: each caller's access token, exchanged at the identity provider (RFC 8693) for a
token whose audience is the Kubernetes API server, so every call runs as the caller and RBAC decides
with their own identity. The server's ServiceAccount then needs no `impersonate` and no
CloudNativePG rights; the API server must trust the identity provider (a JWT authenticator).

Exchanged tokens are kept per worker, keyed by the SHA-256 of the caller's token (never the token),
in a bounded LRU, until shortly before they expire. Neither token is ever logged or returned.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jwt
import kubernetes
import requests

from app import metrics
from app.identity import SubjectToken
from app.kube.errors import CredentialsRejected, ExchangeRefused, ExchangeUnavailable
from app.settings import Settings

if TYPE_CHECKING:
    from app.kube.access import KubeAccess

log = logging.getLogger(__name__)

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
_USER_AGENT = "cnpg-mcp-server (token exchange)"
# Renew this long before `exp`: a call must not start with a token that expires on the way
# (clock skew with the API server, slow calls). Short-lived tokens renew at half their life.
_RENEW_EARLY_SECONDS = 30.0
# A failed exchange is the answer for this long (a tool's parallel reads, a client's quick retries).
_FAILURE_KEPT_SECONDS = 5.0
# OAuth error codes that mean the server's own client is misconfigured, not the caller refused.
_SERVER_SIDE_ERRORS = {"invalid_client", "unauthorized_client", "unsupported_grant_type", "server_error",
                       "temporarily_unavailable"}


@dataclass
class Exchanged:
    """One exchanged token and what the API servers made of it."""

    token: str = field(repr=False)
    renew_at: float
    """time.time() after which it is exchanged again."""
    seen_as: dict[str | None, str] = field(default_factory=dict)
    """Per context: the username the API server authenticated (SelfSubjectReview)."""


class TokenExchanger:
    """Per worker: exchanges callers' tokens and keeps the results until shortly before they expire."""

    def __init__(self, settings: Settings, token_endpoint: Callable[[], str]) -> None:
        """`token_endpoint`: KUBE_EXCHANGE_TOKEN_URL, else the IdP's discovered one (called on first use;
        raises an exception with a message for the operator when it cannot be had)."""
        assert settings.exchange_audience and settings.exchange_client_id and settings.exchange_client_secret
        self.settings = settings
        self._endpoint = (lambda: settings.exchange_token_url) if settings.exchange_token_url else token_endpoint
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Exchanged] = OrderedDict()
        self._exchanging: dict[str, threading.Lock] = {}
        self._failed: dict[str, tuple[float, ExchangeRefused | ExchangeUnavailable]] = {}
        self._http: requests.Session | None = None
        self.exchanges = 0
        """Exchanges made (cache misses that reached the identity provider), for tests and benchmarks."""

    def token(self, subject: SubjectToken, who: str) -> Exchanged:
        """The exchanged token for `subject` (`who`: the caller's `sub`, for log lines only).

        Raises:
            ExchangeRefused: the identity provider refused this caller's token (403-class).
            ExchangeUnavailable: the identity provider cannot be reached or refused this server (502-class).
        """
        key = subject.digest()
        found = self._fresh(key)
        if found is not None:
            return found
        # One exchange per caller token at a time: a tool's parallel reads (prefetch) wait for it.
        with self._lock:
            exchanging = self._exchanging.setdefault(key, threading.Lock())
        with exchanging:
            found = self._fresh(key)
            if found is not None:
                return found
            with self._lock:
                failed = self._failed.get(key)
            if failed is not None and time.monotonic() < failed[0]:
                raise failed[1]  # the same answer for the calls that waited, without asking again
            try:
                exchanged = self._exchange(subject, who)
            except (ExchangeRefused, ExchangeUnavailable) as exc:
                with self._lock:
                    while len(self._failed) >= self.settings.exchange_cache_size:
                        self._failed.pop(next(iter(self._failed)))
                    self._failed[key] = (time.monotonic() + _FAILURE_KEPT_SECONDS, exc)
                raise
            finally:
                with self._lock:
                    self._exchanging.pop(key, None)
            with self._lock:
                self._failed.pop(key, None)
                self._cache[key] = exchanged
                self._cache.move_to_end(key)
                while len(self._cache) > self.settings.exchange_cache_size:
                    self._cache.popitem(last=False)
        return exchanged

    def _fresh(self, key: str) -> Exchanged | None:
        with self._lock:
            found = self._cache.get(key)
            if found is None or time.time() >= found.renew_at:
                return None
            self._cache.move_to_end(key)
        metrics.TOKEN_EXCHANGES.labels(outcome="cached").inc()
        return found

    def cached(self, subject: SubjectToken) -> Exchanged | None:
        """The cached exchanged token of `subject`, without exchanging (None when there is none)."""
        with self._lock:
            return self._cache.get(subject.digest())

    def forget(self, subject: SubjectToken) -> None:
        """Drop the cached exchanged token (the API server rejected it): the next call exchanges again."""
        with self._lock:
            self._cache.pop(subject.digest(), None)

    def _session(self) -> requests.Session:
        if self._http is None:
            session = requests.Session()
            # OIDC_CA_FILE must win over REQUESTS_CA_BUNDLE, which requests prefers to a Session's `verify`.
            session.trust_env = self.settings.oidc_ca_file is None
            session.verify = self.settings.oidc_tls_verify
            self._http = session
        return self._http

    def _exchange(self, subject: SubjectToken, who: str) -> Exchanged:
        try:
            url = self._endpoint()
        except Exception as exc:  # noqa: BLE001 - discovery's own error names what failed
            raise self._unavailable(who, None, "discovery_failed",
                                    f"its token endpoint is unknown ({exc})") from None
        self.exchanges += 1
        try:
            response = self._session().post(url, timeout=self.settings.oidc_http_timeout_seconds,
                                             allow_redirects=False, headers={"User-Agent": _USER_AGENT}, data={
                "grant_type": GRANT_TYPE, "subject_token": subject.value, "subject_token_type": ACCESS_TOKEN_TYPE,
                "requested_token_type": ACCESS_TOKEN_TYPE, "audience": self.settings.exchange_audience,
            }, auth=(self.settings.exchange_client_id or "", self.settings.exchange_client_secret or ""))
        except requests.Timeout:
            raise self._unavailable(who, url, "timeout", "it did not answer within "
                                    f"{self.settings.oidc_http_timeout_seconds:g}s") from None
        except requests.RequestException as exc:
            raise self._unavailable(who, url, "unreachable", f"it cannot be reached ({type(exc).__name__})") from None
        answer = _json(response)
        token = answer.get("access_token")
        if response.status_code == 200 and isinstance(token, str) and token:
            metrics.TOKEN_EXCHANGES.labels(outcome="exchanged").inc()
            return Exchanged(token=token, renew_at=_renew_at(answer, token))
        error = answer.get("error") if isinstance(answer.get("error"), str) else None
        description = answer.get("error_description") if isinstance(answer.get("error_description"), str) else None
        if response.status_code == 200:
            raise self._unavailable(who, url, "bad_answer", "it answered without an access_token")
        if response.status_code >= 500 or error is None or error in _SERVER_SIDE_ERRORS:
            raise self._unavailable(who, url, error or f"http_{response.status_code}",
                                    f"it answered HTTP {response.status_code}" + (f" {error}" if error else ""))
        metrics.TOKEN_EXCHANGES.labels(outcome="refused").inc()
        log.warning("token exchange refused", extra={"event": "token_exchange", "outcome": "refused",
                                                     "subject": who, "error": error, "status": response.status_code,
                                                     "description": _short(description)})
        detail = f"{error}: {_short(description)}" if description else error
        raise ExchangeRefused(
            f"The identity provider refused to exchange your token for one the Kubernetes API accepts ({detail}); "
            "sign in again, or ask the operator whether your account may use this server's Kubernetes access")

    def _unavailable(self, who: str, url: str | None, reason: str, what: str) -> ExchangeUnavailable:
        metrics.TOKEN_EXCHANGES.labels(outcome="failed").inc()
        host = urlsplit(url).netloc if url else None
        log.warning("token exchange failed: %s", what, extra={"event": "token_exchange", "outcome": "failed",
                                                             "subject": who, "reason": reason, "idp": host})
        return ExchangeUnavailable(
            f"Cannot run this call as you: exchanging your token at the identity provider failed ({what}); "
            "retry later, or report it to the server operator (see its log)")


@dataclass(frozen=True)
class ExchangedIdentity:
    """The caller, to the API server: their token exchanged for a Kubernetes one (KUBE_AUTH=exchange).

    Calls go through a client without the server's own credentials (`KubeAccess.api_client`), with the
    exchanged token as the bearer, so the API server authenticates the caller and nobody else."""

    exchanger: TokenExchanger = field(repr=False)
    subject: SubjectToken = field(repr=False)
    who: str
    """The caller's `sub`, for log lines."""
    own_credentials = False

    def headers(self, access: KubeAccess, context: str | None) -> dict[str, Any]:
        """`Authorization` for this call, exchanging first when no valid exchanged token is cached.

        Raises:
            ExchangeRefused, ExchangeUnavailable: as `TokenExchanger.token`.
        """
        exchanged = self.exchanger.token(self.subject, self.who)
        if context not in exchanged.seen_as:
            exchanged.seen_as[context] = self._review(access, exchanged)
        return {"Authorization": f"Bearer {exchanged.token}"}

    def renew(self) -> None:
        """The API server rejected the exchanged token (expired or revoked): the next call exchanges again."""
        self.exchanger.forget(self.subject)

    def seen_as(self, context: str | None) -> str | None:
        """The username the API server authenticated in `context` (None before any call there)."""
        exchanged = self.exchanger.cached(self.subject)
        return exchanged.seen_as.get(context) if exchanged else None

    def _review(self, access: KubeAccess, exchanged: Exchanged) -> str:
        """Ask the API server who the exchanged token is (SelfSubjectReview, open to every user):
        the audit line names the user as RBAC saw them, not as we guessed."""
        review = kubernetes.client.AuthenticationV1Api(access.api_client(own_credentials=False))
        try:
            response = access.call("ask the API server who the exchanged token is", review.create_self_subject_review,
                                   {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}, read=True,
                                   _headers={"Authorization": f"Bearer {exchanged.token}"}, _preload_content=False)
        except CredentialsRejected:
            raise CredentialsRejected(
                "The Kubernetes API did not accept your exchanged token (HTTP 401): the API server must trust "
                f"the identity provider for the audience {self.exchanger.settings.exchange_audience!r}; "
                "report it to the server operator") from None
        info = json.loads(response.data).get("status", {}).get("userInfo", {})
        return str(info.get("username") or "unknown")


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _renew_at(answer: dict[str, Any], token: str) -> float:
    """When to exchange again: before `expires_in` (else the token's own `exp`) runs out."""
    now = time.time()
    lifetime = answer.get("expires_in")
    if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or lifetime <= 0:
        try:  # the token came straight from the IdP over TLS: its exp is only read, not trusted for access
            exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
        except jwt.PyJWTError:
            exp = None
        lifetime = (exp - now) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else 0
    return now + max(0.0, lifetime - min(_RENEW_EARLY_SECONDS, lifetime / 2))


def _short(text: str | None, limit: int = 200) -> str:
    """An IdP's error_description, one printable line, bounded (it is shown to the caller)."""
    if not text:
        return ""
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    return cleaned[:limit]
