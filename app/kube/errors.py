"""Domain errors of the Kubernetes layer, and the one place an ApiException becomes one.

Each error carries a message fit for a model: the API Status message plus what we
were doing. `str(ApiException)` is never used: it prints response headers and body.
"""

from __future__ import annotations

import json
import re
from typing import Any

# How the API server words an admission webhook's refusal, and a webhook it could not call.
_DENIED = re.compile(r'^admission webhook "(?P<hook>[^"]+)" denied the request:\s*(?P<rest>.*)$', re.DOTALL)
_UNREACHABLE = re.compile(r'^Internal error occurred: failed calling webhook "(?P<hook>[^"]+)"')
# The object summary the API server puts before a webhook's field errors: Kind.group "name" is invalid:
_INVALID_PREFIX = re.compile(r'^\S+ "[^"]*" is invalid:\s*')


class KubeError(Exception):
    """Base of every error the Kubernetes layer raises."""


class KubeNotConfigured(KubeError):
    """Neither in-cluster credentials nor a kubeconfig were found."""


class KubeUnavailable(KubeError):
    """The Kubernetes API did not answer (in time, or at all)."""


class NotFound(KubeError):
    pass


class NamespaceNotServed(KubeError):
    """The namespace is outside the context's allow-list (MCP_NAMESPACES): refused before any call."""


class ContextNotServed(KubeError):
    """The kubeconfig context is not one this server may reach (KUBE_CONTEXTS)."""


class KubeletUnreachable(KubeError):
    """The API server accepted a log request but could not get the log from the node's kubelet."""


class CallerNotMapped(Exception):
    """The caller's verified token cannot be mapped to a Kubernetes identity (impersonation claims).

    An authorization failure of the request, not a tool error: it is not a KubeError, so no tool
    catches it, and the transport answers 403 before anything runs.
    """


class AlreadyExists(KubeError):
    pass


class Conflict(KubeError):
    """The object changed underneath us (resourceVersion mismatch)."""


class Forbidden(KubeError):
    pass


class CredentialsRejected(KubeUnavailable):
    """The API server did not authenticate the call (HTTP 401): the server's credentials, or with
    KUBE_AUTH=exchange the caller's exchanged token (which the session renews once)."""


class ExchangeRefused(Forbidden):
    """KUBE_AUTH=exchange: the identity provider refused to exchange this caller's token."""


class ExchangeUnavailable(KubeUnavailable):
    """KUBE_AUTH=exchange: the identity provider could not be reached, or refused this server's client."""


class Invalid(KubeError):
    """The API server (the CRD schema, or an admission webhook) rejected the object; `causes` name
    the fields, `webhook` the admission webhook that refused it (e.g. "vcluster.cnpg.io")."""

    def __init__(self, message: str, causes: list[dict[str, str]] | None = None, webhook: str | None = None) -> None:
        super().__init__(message)
        self.causes = causes or []
        self.webhook = webhook


def _refuser(hook: str) -> str:
    """Who refused, in words: CloudNativePG's webhooks are all named <x><kind>.cnpg.io."""
    return f"the CloudNativePG operator ({hook})" if hook.endswith(".cnpg.io") else f"admission webhook {hook!r}"


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
    if status in (400, 403, 422) and (denied := _DENIED.match(message)):
        # An admission webhook's refusal: its reasons are the operator's, so say whose they are.
        hook = denied.group("hook")
        causes = _causes(info)
        reasons = _fields(causes) or _INVALID_PREFIX.sub("", denied.group("rest").strip()) or "no reason given"
        return Invalid(f"Invalid request to {doing}: {_refuser(hook)} refused it: {reasons}", causes, webhook=hook)
    if status == 500 and (unreachable := _UNREACHABLE.match(message)):
        hook = unreachable.group("hook")
        return KubeUnavailable(
            f"Cannot {doing}: the API server could not reach {_refuser(hook)}, whose approval every such write "
            "needs; check that the operator is running, then retry"
        )
    if status == 403:
        return Forbidden(f"Forbidden: not allowed to {doing}{detail}")
    if status in (400, 422):
        causes = _causes(info)
        return Invalid(f"Invalid request to {doing}: {_fields(causes) or message or 'rejected by the API server'}", causes)
    if status == 401:
        return CredentialsRejected("Kubernetes API rejected this server's credentials (HTTP 401); check its kubeconfig or ServiceAccount")
    if status == 429 or status >= 500:
        return KubeUnavailable(f"Kubernetes API unavailable (HTTP {status}) while trying to {doing}; retry shortly")
    return KubeError(f"Kubernetes API answered HTTP {status} while trying to {doing}{detail}")


def _causes(info: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"field": str(c.get("field", "")), "message": str(c.get("message", ""))}
        for c in (info.get("details") or {}).get("causes") or []
    ]


def _fields(causes: list[dict[str, str]]) -> str:
    return "; ".join(f"{c['field']}: {c['message']}" if c["field"] else c["message"] for c in causes)
