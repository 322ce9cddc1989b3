"""Lazy per-worker Kubernetes client and a reachability probe."""

from __future__ import annotations

import os
import threading

import kubernetes
from kubernetes.client.rest import ApiException
from urllib3.exceptions import HTTPError

from app.kube.errors import KubeNotConfigured, KubeUnavailable
from app.settings import Settings


class KubeAccess:
    """Holds this worker's Kubernetes API client, created on first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._client: kubernetes.client.ApiClient | None = None

    def api_client(self) -> kubernetes.client.ApiClient:
        """The shared client for this worker.

        Raises:
            KubeNotConfigured: no in-cluster config and no kubeconfig.
        """
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = kubernetes.client.ApiClient(self._load_configuration())
        return self._client

    def _load_configuration(self) -> kubernetes.client.Configuration:
        config = kubernetes.client.Configuration()
        if os.environ.get("KUBERNETES_SERVICE_HOST") and self._settings.kubeconfig is None:
            kubernetes.config.load_incluster_config(client_configuration=config)
            return config
        path = self._settings.kubeconfig or os.path.expanduser(kubernetes.config.KUBE_CONFIG_DEFAULT_LOCATION)
        if not os.path.exists(path.split(os.pathsep)[0]):
            raise KubeNotConfigured(
                "No Kubernetes configuration: not running in a pod and no kubeconfig at "
                f"{path}; set KUBECONFIG (and optionally KUBE_CONTEXT)"
            )
        kubernetes.config.load_kube_config(
            config_file=path, context=self._settings.kube_context, client_configuration=config
        )
        return config

    def probe(self) -> str:
        """Ask the API server for its version.

        Returns:
            The server's git version, e.g. "v1.35.0".

        Raises:
            KubeNotConfigured, KubeUnavailable.
        """
        client = self.api_client()
        try:
            info = kubernetes.client.VersionApi(client).get_code(_request_timeout=self._settings.kube_timeout_seconds)
        except ApiException as exc:
            # Only the status line: the body and headers may carry details we must not echo.
            raise KubeUnavailable(f"Kubernetes API answered HTTP {exc.status} to a version probe") from None
        except (HTTPError, OSError):
            raise KubeUnavailable("Kubernetes API unavailable") from None
        return str(info.git_version)
