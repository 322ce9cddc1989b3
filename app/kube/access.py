"""The Kubernetes client of this worker for one cluster (kubeconfig context), and how a call is made.

Clients are created lazily on first use (never at import), once per worker process and
context. Every call has connect and read timeouts; reads retry briefly on connection errors,
writes never retry (they may have been applied). Tools never call this directly: they go
through their `KubeSession` (app/kube/session.py), which adds the caller's identity and the
namespace allow-list.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import kubernetes
import yaml
from kubernetes.client.rest import ApiException

# kubernetes 37 imports each API module (and the model classes it names) on first attribute
# access. Importing the ones this server calls here means it happens once in the gunicorn master,
# whose memory the forked workers share, rather than in every worker on its first tool call.
# Importing creates no client: that stays lazy. (core/v1 goes through app.kube.core instead.)
from kubernetes.client.api import (  # noqa: F401 - imported for their side effect (see above)
    authorization_v1_api,
    batch_v1_api,
    custom_objects_api,
    version_api,
)
from urllib3.exceptions import HTTPError, MaxRetryError, ReadTimeoutError
from urllib3 import HTTPHeaderDict
from urllib3.util.retry import Retry

from app import metrics
from app.kube.errors import KubeError, KubeNotConfigured, KubeUnavailable, from_api_exception
from app.settings import Settings

T = TypeVar("T")
_GROUPS_CARRIER = "X-Cnpg-Mcp-Impersonate-Groups"
_READ_RETRY_DELAYS = (0.2, 0.5)
# Independent reads a request may have in flight besides its own (cluster_get: pods and events).
_PREFETCH_PER_THREAD = 2


class CallerIdentity(Protocol):
    """Who a call runs as, when not the server itself: `Identity` (impersonation, with the server's
    credentials) or `ExchangedIdentity` (app/kube/exchange.py: the caller's exchanged token, without)."""

    own_credentials: bool
    """Whether the server's own credentials go with the call (False: a client without them is used)."""

    def headers(self, access: KubeAccess, context: str | None) -> dict[str, Any]: ...

    def seen_as(self, context: str | None) -> str | None: ...


@dataclass(frozen=True)
class Identity:
    """Who a call runs as (Kubernetes impersonation). None means the server's own identity."""

    user: str
    groups: tuple[str, ...] = field(default_factory=tuple)
    own_credentials = True  # impersonation is the server's right, exercised with its credentials

    def seen_as(self, context: str | None) -> str | None:
        return self.user

    def headers(self, access: KubeAccess | None = None, context: str | None = None) -> dict[str, Any]:
        headers: dict[str, Any] = {"Impersonate-User": self.user}
        if self.groups:
            # Kubernetes wants one Impersonate-Group header per group; the generated client keeps one
            # value per header name, so the list travels in a private header that _repeat_groups expands.
            headers[_GROUPS_CARRIER] = json.dumps(list(self.groups))
        return headers


def _timed_out(exc: BaseException) -> bool:
    """A read timeout, bare or wrapped by urllib3's retry machinery."""
    return isinstance(exc, ReadTimeoutError) or (
        isinstance(exc, MaxRetryError) and isinstance(exc.reason, ReadTimeoutError))


def _repeat_groups(request: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the private groups header into repeated Impersonate-Group headers (urllib3 sends each
    value of an HTTPHeaderDict on its own line), so a caller with several groups is impersonated
    with all of them. The private header never leaves this process."""

    def send(method: str, url: str, headers: Any = None, **kwargs: Any) -> Any:
        if headers and _GROUPS_CARRIER in headers:
            expanded = HTTPHeaderDict({k: v for k, v in headers.items() if k != _GROUPS_CARRIER})
            for group in json.loads(headers[_GROUPS_CARRIER]):
                expanded.add("Impersonate-Group", group)
            headers = expanded
        return request(method, url, headers=headers, **kwargs)

    return send


def current_context(kubeconfig: str) -> str | None:
    """The kubeconfig's current context as kubectl reads it: of several files (KUBECONFIG=a:b), the
    first that sets one wins. The Python client lets the last file win; users expect kubectl's rule.

    None when no file sets one (the loader then reports what is missing); unreadable files are left
    to the loader too, which names them.
    """
    for path in kubeconfig.split(os.pathsep):
        try:
            with open(os.path.expanduser(path), encoding="utf-8") as file:
                loaded = yaml.safe_load(file)
        except (OSError, yaml.YAMLError):
            continue
        name = loaded.get("current-context") if isinstance(loaded, dict) else None
        if isinstance(name, str) and name:
            return name
    return None


def _without_credentials(config: kubernetes.client.Configuration) -> kubernetes.client.Configuration:
    """`config` with every credential the loaders may have set removed (client certificate, static or
    exec-plugin token and its refresh hook, basic auth), keeping the host, CA and TLS settings."""
    config.cert_file = config.key_file = None
    config.api_key, config.api_key_prefix = {}, {}
    config.refresh_api_key_hook = None
    config.username = config.password = None
    return config


class KubeAccess:
    """Holds this worker's Kubernetes API client for one context, created on first use."""

    def __init__(self, settings: Settings, context: str | None = None) -> None:
        self.settings = settings
        self.context = context
        """The kubeconfig context; None: in-cluster, or KUBE_CONTEXT / the current context."""
        self._lock = threading.Lock()
        self._client: kubernetes.client.ApiClient | None = None
        self._bare_client: kubernetes.client.ApiClient | None = None
        self._prefetcher: ThreadPoolExecutor | None = None

    def api_client(self, own_credentials: bool = True) -> kubernetes.client.ApiClient:
        """The shared client for this worker.

        `own_credentials=False`: the same API server and CA, but without the server's client
        certificate, token or token-refresh hook, for calls that bring the caller's own bearer token
        (KUBE_AUTH=exchange) — the API server must authenticate the caller, never the server.

        Raises:
            KubeNotConfigured: no in-cluster config and no kubeconfig.
        """
        if not own_credentials:
            if self._bare_client is None:
                with self._lock:
                    if self._bare_client is None:
                        self._bare_client = kubernetes.client.ApiClient(_without_credentials(self._load_configuration()))
            return self._bare_client
        if self._client is None:
            with self._lock:
                if self._client is None:
                    client = kubernetes.client.ApiClient(self._load_configuration())
                    client.rest_client.request = _repeat_groups(client.rest_client.request)
                    self._client = client
        return self._client

    def _load_configuration(self) -> kubernetes.client.Configuration:
        config = kubernetes.client.Configuration()
        if os.environ.get("KUBERNETES_SERVICE_HOST") and self.settings.kubeconfig is None and self.context is None:
            kubernetes.config.load_incluster_config(client_configuration=config)
        else:
            path = self.settings.kubeconfig or os.path.expanduser(kubernetes.config.KUBE_CONFIG_DEFAULT_LOCATION)
            if not os.path.exists(path.split(os.pathsep)[0]):
                raise KubeNotConfigured(
                    "No Kubernetes configuration: not running in a pod and no kubeconfig at "
                    f"{path}; set KUBECONFIG (and optionally KUBE_CONTEXT)"
                )
            try:
                kubernetes.config.load_kube_config(
                    config_file=path, context=self.context or self.settings.kube_context or current_context(path),
                    client_configuration=config
                )
            except (kubernetes.config.ConfigException, ValueError, OSError) as exc:
                raise KubeNotConfigured(f"Cannot use kubeconfig {path}: {exc}") from None
        # Both loaders install a token-refresh hook that runs before every API call and re-assigns
        # `host`, whose setter re-reads the proxy from the environment (urllib's getproxies() walks
        # all of os.environ: ~45 µs per call here, ~400 µs in a pod with a few hundred service
        # variables, three times per cluster_get). The proxy is only read once, when the ApiClient
        # builds its connection pool, and the environment does not change under us: pinning the
        # value resolved now keeps the same proxy and makes the hook cheap. Token refresh is unchanged.
        config.proxy = config.proxy
        # Connection pool sized for the worker's threads plus their prefetched reads, so nothing queues.
        config.connection_pool_maxsize = max(4, self.settings.gunicorn_threads * (1 + _PREFETCH_PER_THREAD))
        # A refused connection never reached the server, so retrying it is safe even for writes;
        # a request that was sent is never re-sent here (reads are retried in `call`).
        config.retries = Retry(total=2, connect=2, read=0, status=0, redirect=0, other=0, backoff_factor=0.1)
        return config

    def call(self, doing: str, fn: Callable[..., T], *args: Any, read: bool, **kwargs: Any) -> T:
        """`_call`, measured: latency by read/write and failures by error class (app.metrics)."""
        started = time.monotonic()
        try:
            return self._call(doing, fn, *args, read=read, **kwargs)
        except KubeError as exc:
            metrics.KUBE_ERRORS.labels(error=type(exc).__name__).inc()
            raise
        finally:
            metrics.KUBE_CALL_SECONDS.labels(kind="read" if read else "write").observe(time.monotonic() - started)

    def _call(self, doing: str, fn: Callable[..., T], *args: Any, read: bool, **kwargs: Any) -> T:
        """Run one API call with timeouts, error mapping and (for reads) brief retries.

        `doing` describes the call for error messages ("list clusters in namespace 'db'").

        Raises:
            KubeError: a domain error (NotFound, Forbidden, Invalid, Conflict, Unavailable, ...).
        """
        timeout = self.settings.kube_timeout_seconds
        kwargs["_request_timeout"] = (min(3.0, timeout), timeout)
        attempts = len(_READ_RETRY_DELAYS) + 1 if read else 1
        for attempt in range(attempts):
            try:
                return fn(*args, **kwargs)
            except ApiException as exc:
                raise from_api_exception(exc.status or 0, exc.body, doing) from None
            except (HTTPError, OSError) as exc:
                if _timed_out(exc):
                    # Never retried: the full timeout was already spent, and a write may have been applied.
                    raise self._timed_out(doing, read) from None
                if attempt + 1 < attempts:
                    time.sleep(_READ_RETRY_DELAYS[attempt])
                    continue
                raise KubeUnavailable(f"Kubernetes API unavailable: cannot connect to {doing}") from None
        raise KubeError(f"unreachable: {doing}")  # pragma: no cover - the loop always returns or raises

    def _timed_out(self, doing: str, read: bool) -> KubeUnavailable:
        timeout = self.settings.kube_timeout_seconds
        if read:
            return KubeUnavailable(f"Kubernetes API unavailable: no answer within {timeout:g}s to {doing}")
        return KubeUnavailable(
            f"Kubernetes API did not answer within {timeout:g}s to {doing}; the change may or may not "
            "have been applied: read the object before retrying"
        )

    def prefetch(self, read: Callable[[], T]) -> Future[T]:
        """Start an independent read now and collect it with `.result()` later.

        A tool that needs a Cluster, its pods and its events then waits for about one API round
        trip instead of three, while still reporting errors in the order it checks them. The
        worker's small pool is created on first use, after gunicorn forked the worker.
        """
        if self._prefetcher is None:
            with self._lock:
                if self._prefetcher is None:
                    self._prefetcher = ThreadPoolExecutor(
                        max_workers=max(2, self.settings.gunicorn_threads * _PREFETCH_PER_THREAD),
                        thread_name_prefix="kube-prefetch",
                    )
        return self._prefetcher.submit(read)

    def probe(self) -> str:
        """The API server's version ("v1.36.3"), as the server's own identity (for /health).

        Raises:
            KubeNotConfigured, KubeUnavailable.
        """
        response = self.call("read the API server version", kubernetes.client.VersionApi(self.api_client()).get_code,
                             read=True, _preload_content=False)
        return str(json.loads(response.data).get("gitVersion", "unknown"))
