"""Reads for diagnosing a cluster: its pods, PVCs, jobs and backups, namespace events and instance logs.

Core lists are read as raw JSON (no typed models), like `resources.list_pods`.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes.client.rest import ApiException

from app.kube.errors import KubeletUnreachable
from app.kube.session import KubeSession

JSON = dict[str, Any]
POSTGRES_CONTAINER = "postgres"


def _message(body: Any) -> str:
    """The `message` of a Kubernetes Status body, or ''."""
    try:
        status = json.loads(body) if isinstance(body, (str, bytes)) else None
    except ValueError:
        return ""
    return str(status.get("message") or "").strip() if isinstance(status, dict) else ""


def list_namespace_events(session: KubeSession, namespace: str) -> list[JSON]:
    """All Events of a namespace: one call, filtered by the caller on several involved objects at once."""
    found = session.raw(f"list events in {session.where(namespace)}", session.core().list_namespaced_event,
                        namespace, namespace=namespace)
    return list(found.get("items", []))


def list_pvcs(session: KubeSession, namespace: str, label_selector: str) -> list[JSON]:
    found = session.raw(f"list persistent volume claims in {session.where(namespace)}",
                        session.core().list_namespaced_persistent_volume_claim, namespace,
                        label_selector=label_selector, namespace=namespace)
    return list(found.get("items", []))


def list_jobs(session: KubeSession, namespace: str, label_selector: str) -> list[JSON]:
    found = session.raw(f"list jobs in {session.where(namespace)}", session.batch().list_namespaced_job, namespace,
                        label_selector=label_selector, namespace=namespace)
    return list(found.get("items", []))


def read_container_log(session: KubeSession, namespace: str, pod: str, container: str, *, tail_lines: int,
                       since_seconds: int | None = None, previous: bool = False) -> str:
    """The container's log text (undecodable bytes replaced).

    Raises:
        KubeletUnreachable: the API server answered 5xx for the log itself. It proxies the
            request to the node's kubelet, so a 500/502/504 here (right after the pod was read
            successfully) means the kubelet could not be reached or answered badly.
        KubeError: as `KubeSession.call` otherwise.
    """
    core = session.core()

    def read(*args: Any, **kwargs: Any) -> Any:
        try:
            return core.read_namespaced_pod_log(*args, **kwargs)
        except ApiException as exc:
            if exc.status in (500, 502, 504):
                raise KubeletUnreachable(_message(exc.body) or f"HTTP {exc.status}") from None
            raise

    options: dict[str, Any] = {"container": container, "tail_lines": tail_lines, "previous": previous}
    if since_seconds is not None:
        options["since_seconds"] = since_seconds
    # Raw bytes: with a preloaded response the client json-decodes the text first, so a log
    # that happens to be one JSON document (CNPG logs JSON lines) would come back as a dict repr.
    response = session.call(f"read the log of container {container!r} of pod {pod!r} in {session.where(namespace)}",
                            read, pod, namespace, namespace=namespace, read=True, _preload_content=False, **options)
    return bytes(response.data).decode("utf-8", "replace")
