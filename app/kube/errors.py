"""Domain errors of the Kubernetes layer, and the one place an ApiException becomes one.

Each error carries a message fit for a model: the API Status message plus what we
were doing. `str(ApiException)` is never used: it prints response headers and body.
"""

from __future__ import annotations

import json
from typing import Any


class KubeError(Exception):
    """Base of every error the Kubernetes layer raises."""


class KubeNotConfigured(KubeError):
    """Neither in-cluster credentials nor a kubeconfig were found."""


class KubeUnavailable(KubeError):
    """The Kubernetes API did not answer (in time, or at all)."""


class NotFound(KubeError):
    pass


class AlreadyExists(KubeError):
    pass


class Conflict(KubeError):
    """The object changed underneath us (resourceVersion mismatch)."""


class Forbidden(KubeError):
    pass


class Invalid(KubeError):
    """The API server (or the CRD schema) rejected the object; `causes` name the fields."""

    def __init__(self, message: str, causes: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.causes = causes or []


def _status(body: Any) -> dict[str, Any]:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        parsed = json.loads(body) if isinstance(body, str) else None
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) and parsed.get("kind") == "Status" else {}


def from_api_exception(status: int, body: Any, doing: str) -> KubeError:
    """Map an API error response to a domain error.

    `doing` says what we tried ("get cluster 'pg' in namespace 'db'"); the API's
    own Status message follows it, because it names fields, users and verbs.
    """
    info = _status(body)
    message = str(info.get("message") or "").strip()
    reason = info.get("reason", "")
    detail = f": {message}" if message else ""
    if status == 404:
        return NotFound(f"Not found while trying to {doing}{detail}")
    if status == 409 and reason == "AlreadyExists":
        return AlreadyExists(f"Already exists: cannot {doing}{detail}")
    if status == 409:
        return Conflict(f"Conflict while trying to {doing} (the object changed; read it again and retry){detail}")
    if status == 403:
        return Forbidden(f"Forbidden: not allowed to {doing}{detail}")
    if status in (400, 422):
        causes = [
            {"field": str(c.get("field", "")), "message": str(c.get("message", ""))}
            for c in (info.get("details") or {}).get("causes") or []
        ]
        fields = "; ".join(f"{c['field']}: {c['message']}" if c["field"] else c["message"] for c in causes)
        return Invalid(f"Invalid request to {doing}: {fields or message or 'rejected by the API server'}", causes)
    if status == 401:
        return KubeUnavailable("Kubernetes API rejected this server's credentials (HTTP 401); check its kubeconfig or ServiceAccount")
    if status == 429 or status >= 500:
        return KubeUnavailable(f"Kubernetes API unavailable (HTTP {status}) while trying to {doing}; retry shortly")
    return KubeError(f"Kubernetes API answered HTTP {status} while trying to {doing}{detail}")
