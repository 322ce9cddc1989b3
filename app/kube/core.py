"""The core/v1 endpoints this server calls, through the kubernetes client's ApiClient, without its
generated CoreV1Api.

Why: importing `kubernetes.client.CoreV1Api` loads the model class of every core object (~21 MiB
per process, measured by `make bench`) for its typed method signatures, while this server reads
every core response as raw JSON and never builds those models. The ApiClient still does the work
that matters — URL building and quoting, authentication, TLS, the connection pool, timeouts and
the impersonation headers — and non-2xx answers raise the same ApiException, exactly as the
generated methods do when called with `_preload_content=False`.

Methods keep the generated names and signatures used here, so call sites read the same; each
returns the unread urllib3 response (its `.data` is the body's bytes).

`CustomObjectReads` does the same for the custom-object reads every CloudNativePG tool makes
(get, list). Why: the generated `CustomObjectsApi` methods run pydantic's `validate_call` on their
arguments and build the request through generic serialization, ~50 µs of CPU per call (measured
in-process against the local control plane) for arguments this server builds itself. Writes keep
the generated client.
"""

from __future__ import annotations

from typing import Any

import kubernetes
from kubernetes.client.exceptions import ApiException

_AUTH = ["BearerToken"]
_NS = "/api/v1/namespaces/{namespace}"


class _Raw:
    def __init__(self, api_client: kubernetes.client.ApiClient) -> None:
        self._api = api_client

    def _send(self, method: str, path: str, path_params: dict[str, str], *, body: Any = None,
              accept: str = "application/json", _content_type: str | None = None, _headers: dict | None = None,
              _request_timeout: Any = None, _preload_content: bool = False, **query: Any) -> Any:
        if _preload_content:
            raise ValueError("these calls are raw: use KubeSession.raw")
        headers = {"Accept": accept, **(_headers or {})}
        if body is not None:
            headers["Content-Type"] = _content_type or "application/json"
        request = self._api.param_serialize(
            method=method, resource_path=path, path_params=path_params,
            query_params=[(_camel(name), value) for name, value in query.items() if value is not None],
            header_params=headers, body=body, auth_settings=_AUTH,
        )
        response = self._api.call_api(*request, _request_timeout=_request_timeout)
        if not 200 <= response.status <= 299:
            response.read()
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return response.response


class CoreV1(_Raw):

    # ----- reads ---------------------------------------------------------------------

    def read_namespace(self, name: str, **options: Any) -> Any:
        return self._send("GET", "/api/v1/namespaces/{name}", {"name": name}, **options)

    def read_namespaced_pod(self, name: str, namespace: str, **options: Any) -> Any:
        return self._send("GET", _NS + "/pods/{name}", {"namespace": namespace, "name": name}, **options)

    def list_namespaced_pod(self, namespace: str, **options: Any) -> Any:
        return self._send("GET", _NS + "/pods", {"namespace": namespace}, **options)

    def list_namespaced_event(self, namespace: str, **options: Any) -> Any:
        return self._send("GET", _NS + "/events", {"namespace": namespace}, **options)

    def list_namespaced_persistent_volume_claim(self, namespace: str, **options: Any) -> Any:
        return self._send("GET", _NS + "/persistentvolumeclaims", {"namespace": namespace}, **options)

    def read_namespaced_pod_log(self, name: str, namespace: str, **options: Any) -> Any:
        return self._send("GET", _NS + "/pods/{name}/log", {"namespace": namespace, "name": name},
                          accept="text/plain, application/json", **options)

    # ----- writes --------------------------------------------------------------------

    def create_namespaced_secret(self, namespace: str, body: dict[str, Any], **options: Any) -> Any:
        return self._send("POST", _NS + "/secrets", {"namespace": namespace}, body=body, **options)

    def patch_namespaced_secret(self, name: str, namespace: str, body: Any, **options: Any) -> Any:
        return self._send("PATCH", _NS + "/secrets/{name}", {"namespace": namespace, "name": name}, body=body,
                          **options)

    def delete_namespaced_secret(self, name: str, namespace: str, **options: Any) -> Any:
        return self._send("DELETE", _NS + "/secrets/{name}", {"namespace": namespace, "name": name}, **options)

    def delete_namespaced_pod(self, name: str, namespace: str, **options: Any) -> Any:
        return self._send("DELETE", _NS + "/pods/{name}", {"namespace": namespace, "name": name}, **options)


class CustomObjectReads(_Raw):
    """`CustomObjectsApi`'s reads, same names and arguments, without its argument validation."""

    def get_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str, name: str,
                                     **options: Any) -> Any:
        return self._send("GET", "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}",
                          {"group": group, "version": version, "namespace": namespace, "plural": plural,
                           "name": name}, **options)

    def list_namespaced_custom_object(self, group: str, version: str, namespace: str, plural: str,
                                      **options: Any) -> Any:
        return self._send("GET", "/apis/{group}/{version}/namespaces/{namespace}/{plural}",
                          {"group": group, "version": version, "namespace": namespace, "plural": plural}, **options)

    def list_cluster_custom_object(self, group: str, version: str, plural: str, **options: Any) -> Any:
        return self._send("GET", "/apis/{group}/{version}/{plural}",
                          {"group": group, "version": version, "plural": plural}, **options)


def _camel(name: str) -> str:
    """label_selector → labelSelector, as the API's query parameters are spelled."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
