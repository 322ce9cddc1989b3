"""Schema fragments and guards shared by the tool modules."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from app.kube import ALL_NAMESPACES, KubeSession, NotFound, cnpg, resources
from app.tools.context import ToolContext
from app.tools.errors import ToolError

# These three appear in most of the 40 tools, so every word in them is paid ~30 times in each
# model context: the property name and the pattern already say what they are, the words stay short.
# DNS-1123 label: what Kubernetes accepts for namespaces; cluster names are also pod-name prefixes.
# x-mcp-header: 2026-07-28 clients repeat the value as the Mcp-Param-Namespace header, so a gateway can
# route or authorize on it without reading the body; the server checks the two agree.
NAMESPACE = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63,
             "x-mcp-header": "Namespace"}
CLUSTER_NAME = {
    "type": "string", "pattern": "^[a-z]([-a-z0-9]*[a-z0-9])?$", "maxLength": 50,
    "description": "CloudNativePG Cluster name",
}
DRY_RUN = {"type": "boolean", "default": False, "description": "Server-side dry run: validate, change nothing"}
# Kubernetes resource quantity for storage (e.g. 10Gi, 500Mi).
STORAGE_SIZE = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$", "maxLength": 20}


def obj(properties: dict[str, Any], required: list[str] | None = None, description: str | None = None) -> dict[str, Any]:
    """A closed object schema."""
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    if description:
        schema["description"] = description
    return schema


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` or null. A plain `{"type": T}` becomes `{"type": [T, "null"]}` (the same meaning in
    one third of the bytes of an `anyOf`, and these appear ~60 times in output schemas)."""
    if set(schema) == {"type"} and isinstance(schema["type"], str):
        return {"type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def age(timestamp: str | None, now: datetime | None = None) -> str | None:
    """Kubernetes-style age ("3d4h", "12m") of an RFC 3339 timestamp."""
    if not timestamp:
        return None
    created = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - created).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{seconds}s"


_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "": 1}


def quantity_bytes(quantity: str) -> float:
    """Bytes in a Kubernetes storage quantity ("10Gi" → 10737418240)."""
    for suffix, factor in (*_BINARY.items(), *_DECIMAL.items()):
        if suffix and quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor
    return float(quantity)


def confirmation(description: str) -> dict[str, Any]:
    """Schema of the `confirm` argument destructive tools require."""
    return {"type": "string", "maxLength": 253, "description": description}


def require_confirmation(ctx: ToolContext, args: dict[str, Any], target: str, action: str) -> None:
    """Destructive tools act only once confirmed: `confirm` repeating the exact target name, or a person
    asked through the client (MCP_CONFIRM, app/tools/confirmation.py). Call it before any change."""
    ctx.confirmation.require(args, target, action)


def missing_namespace(kube: KubeSession, namespace: str) -> ToolError:
    """"Namespace 'db' does not exist" (naming the context when there are several)."""
    where = kube.where(namespace)
    return ToolError(f"{where[:1].upper()}{where[1:]} does not exist")


def get_or_explain(ctx: ToolContext, kind: cnpg.Kind, namespace: str, name: str) -> dict[str, Any]:
    """A CNPG object, or a not-found error a model can act on: it names what does exist.

    e.g. "Cluster 'pg-mian' not found in namespace 'db'; clusters there: pg-main, pg-test".
    """
    kube = ctx.kube
    try:
        return kube.get(kind, namespace, name)
    except NotFound:
        if not resources.namespace_exists(kube, namespace):
            raise missing_namespace(kube, namespace) from None
        names = sorted(o["metadata"]["name"] for o in kube.list(kind, namespace))
        there = f"{kind.word}s there: {', '.join(names)}" if names else f"there are no {kind.word}s in that namespace"
        raise ToolError(f"{kind.label} {name!r} not found in {kube.where(namespace)}; {there}") from None


def namespaces_to_list(ctx: ToolContext, kind: cnpg.Kind = cnpg.CLUSTER) -> list[str]:
    """Where a list without a namespace should look: [ALL_NAMESPACES] means one cluster-wide call.

    With a namespace allow-list, those namespaces. Under impersonation, only the ones the caller
    may list (asked with SelfSubjectAccessReview), so a caller bound to one namespace gets that
    namespace's objects instead of a cluster-wide Forbidden.
    """
    kube, allowed = ctx.kube, list(ctx.kube.namespaces)
    if kube.identity is None:
        return allowed or [ALL_NAMESPACES]
    if allowed:
        return [ns for ns in allowed if kube.can_i("list", cnpg.GROUP, kind.plural, ns)]
    if kube.can_i("list", cnpg.GROUP, kind.plural, None):
        return [ALL_NAMESPACES]
    raise ToolError(
        f"{kube.identity.user} may not list {kind.word}s in all namespaces: give a namespace, or ask the operator "
        "to list the namespaces to search in MCP_NAMESPACES"
    )


def scale_schemas(name_schema: dict[str, Any], maximum: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Input and output schemas shared by the scale tools (cluster_scale, pooler_scale)."""
    inputs = obj({"name": name_schema, "namespace": NAMESPACE,
                  "instances": {"type": "integer", "minimum": 1, "maximum": maximum}, "dry_run": DRY_RUN},
                 ["name", "namespace", "instances"])
    outputs = obj({"name": {"type": "string"}, "namespace": {"type": "string"}, "dry_run": {"type": "boolean"},
                   "previous_instances": {"type": "integer"}, "instances": {"type": "integer"}},
                  ["name", "namespace", "dry_run", "previous_instances", "instances"])
    return inputs, outputs
