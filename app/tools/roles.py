"""PostgreSQL roles declared in a Cluster's `spec.managed.roles`: list, create, update, delete.

Every change rewrites only that list, computed from the Cluster as read and sent with its
resourceVersion, so a concurrent edit is retried on a fresh read rather than overwritten.
Passwords live in Secrets this server creates by name and never reads; no result or log
line carries one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.kube import AlreadyExists, KubeError, NotFound, cnpg, resources
from app.kube import roles as kube_roles
from app.tools.clusters import get_cluster_or_explain
from app.tools.common import (
    CLUSTER_NAME,
    DRY_RUN,
    NAMESPACE,
    confirmation,
    nullable,
    obj,
    require_confirmation,
)
from app.tools.context import ToolContext
from app.tools.errors import ToolError
from app.tools.spec import ToolHints, ToolSpec

log = logging.getLogger(__name__)

IDENTIFIER = {"type": "string", "pattern": "^[a-z_][a-z0-9_]{0,62}$", "maxLength": 63}
ROLE_NAME = {**IDENTIFIER, "description": "PostgreSQL role name"}
# Roles the operator owns or PostgreSQL reserves; CloudNativePG refuses to manage them.
RESERVED_ROLES = frozenset({"postgres", "streaming_replica"})
RESERVED_PREFIXES = ("pg_", "cnpg_")
TIMESTAMP = {"type": "string", "maxLength": 40,
             "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
             "description": "RFC 3339 time after which the password is no longer valid, e.g. 2027-01-01T00:00:00Z"}

# Tool argument → field of a CloudNativePG RoleConfiguration.
FIELDS = {
    "login": "login", "superuser": "superuser", "createdb": "createdb", "createrole": "createrole",
    "inherit": "inherit", "replication": "replication", "bypassrls": "bypassrls",
    "connection_limit": "connectionLimit", "in_roles": "inRoles", "valid_until": "validUntil", "comment": "comment",
}
_FLAG_SCHEMAS: dict[str, Any] = {
    "login": {"type": "boolean", "description": "May log in (LOGIN)"},
    "superuser": {"type": "boolean", "description": "SUPERUSER; bypasses every permission check"},
    "createdb": {"type": "boolean", "description": "May create databases (CREATEDB)"},
    "createrole": {"type": "boolean", "description": "May create roles (CREATEROLE)"},
    "inherit": {"type": "boolean", "description": "Inherits privileges of roles it is a member of (INHERIT)"},
    "replication": {"type": "boolean", "description": "May start streaming replication (REPLICATION)"},
    "bypassrls": {"type": "boolean", "description": "Bypasses row-level security (BYPASSRLS)"},
    "connection_limit": {"type": "integer", "minimum": -1, "maximum": 100000,
                         "description": "Maximum concurrent connections; -1 means no limit"},
    "in_roles": {"type": "array", "items": IDENTIFIER, "maxItems": 50, "uniqueItems": True,
                 "description": "Roles this role is a member of, e.g. pg_read_all_data (replaces the whole list)"},
}

_ROLE = obj(
    {
        "name": {"type": "string"}, "ensure": {"type": "string", "enum": ["present", "absent"]},
        **{flag: {"type": "boolean"} for flag in
           ("login", "superuser", "createdb", "createrole", "inherit", "replication", "bypassrls")},
        "connection_limit": {"type": "integer"}, "in_roles": {"type": "array", "items": {"type": "string"}},
        "password_secret": nullable({"type": "string"}), "password_disabled": {"type": "boolean"},
        "valid_until": nullable({"type": "string"}), "comment": nullable({"type": "string"}),
        "reconcile_status": nullable({"type": "string"}),
        "errors": {"type": "array", "items": {"type": "string"}},
    },
    ["name", "ensure", "login", "superuser", "createdb", "createrole", "inherit", "replication", "bypassrls",
     "connection_limit", "in_roles", "password_secret", "password_disabled", "valid_until", "comment",
     "reconcile_status", "errors"],
)


def _roles(cluster: dict[str, Any]) -> list[dict[str, Any]]:
    return list(((cluster.get("spec") or {}).get("managed") or {}).get("roles") or [])


def role_summary(role: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    """One role as the tools show it: flags, the password secret's NAME only, and the operator's report."""
    status = status or {}
    name = role.get("name", "")
    state = next((key for key, names in (status.get("byStatus") or {}).items() if name in (names or [])), None)
    return {
        "name": name,
        "ensure": role.get("ensure", "present"),
        **{flag: bool(role.get(flag, False)) for flag in
           ("login", "superuser", "createdb", "createrole", "replication", "bypassrls")},
        "inherit": bool(role.get("inherit", True)),
        "connection_limit": int(role.get("connectionLimit", -1)),
        "in_roles": list(role.get("inRoles") or []),
        "password_secret": (role.get("passwordSecret") or {}).get("name"),
        "password_disabled": bool(role.get("disablePassword", False)),
        "valid_until": role.get("validUntil"),
        "comment": role.get("comment"),
        "reconcile_status": state,
        "errors": [str(e) for e in (status.get("cannotReconcile") or {}).get(name) or []],
    }


def _check_role_name(name: str) -> None:
    if name in RESERVED_ROLES or name.startswith(RESERVED_PREFIXES):
        raise ToolError(
            f"Role {name!r} is reserved (postgres, streaming_replica and names starting with pg_ or cnpg_ "
            "belong to PostgreSQL or CloudNativePG); choose another name"
        )


def _check_valid_until(args: dict[str, Any]) -> None:
    """A real date and time, not just its shape: CloudNativePG's defaulting webhook parses validUntil
    before anything else and refuses an impossible one without naming the field."""
    value = args.get("valid_until")
    if value is None:
        return
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ToolError(f"valid_until {value!r} is not a real date and time (RFC 3339, e.g. "
                        "2027-01-01T00:00:00Z)") from None


def _find(cluster: dict[str, Any], name: str) -> dict[str, Any]:
    """The role's entry, or an error naming the roles the cluster does declare."""
    for role in _roles(cluster):
        if role.get("name") == name:
            return role
    names = sorted(r.get("name", "") for r in _roles(cluster))
    there = f"roles declared: {', '.join(names)}" if names else "it declares no managed roles"
    raise ToolError(f"Role {name!r} is not managed by cluster {cluster['metadata']['name']!r}; {there}")


def _secret_name(cluster: str, role: str) -> str:
    """`<cluster>-role-<role>`, with '_' (not allowed in object names) turned into '-'."""
    tail = role.replace("_", "-")
    if tail.endswith("-"):
        # A trailing '_' would leave an invalid trailing '-'; a digest keeps the name unique.
        tail += hashlib.sha256(role.encode()).hexdigest()[:8]
    return f"{cluster}-role-{tail}"


def _roles_patch(roles: list[dict[str, Any]], created: list[str] | None = None) -> dict[str, Any]:
    """Only the roles list (and, when it changes, the record of secrets we created)."""
    patch: dict[str, Any] = {"spec": {"managed": {"roles": roles}}}
    if created is not None:
        patch["metadata"] = {"annotations": {cnpg.ANNOTATION_CREATED_SECRETS: json.dumps(sorted(set(created)))}}
    return patch


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _new_password(ctx: ToolContext, namespace: str, secret: str, role: str, dry_run: bool) -> None:
    """Replace the password in a Secret this server created, by name, without reading it."""
    patch = {"metadata": {"labels": {kube_roles.LABEL_RELOAD: "true"}},
             "data": {"username": _b64(role), "password": _b64(secrets.token_urlsafe(24))}}
    kube_roles.patch_secret(ctx.kube, namespace, secret, patch, dry_run=dry_run)


def _create_secret(ctx: ToolContext, cluster: dict[str, Any], secret: str, role: str, dry_run: bool) -> bool:
    """Create the role's password Secret with a generated password. A Secret of that name this
    server created earlier (kept by role_delete remove_from_spec) gets a new password instead.

    Returns:
        True if the Secret was created now (so a failed Cluster patch must remove it).
    """
    namespace = cluster["metadata"]["namespace"]
    body = kube_roles.password_secret(namespace, secret, cluster, role, secrets.token_urlsafe(24))
    try:
        kube_roles.create_secret(ctx.kube, namespace, body, dry_run=dry_run)
        return True
    except AlreadyExists:
        if secret not in cnpg.created_secrets(cluster):
            raise ToolError(
                f"Secret {secret!r} already exists and was not created by this server, which never overwrites "
                "other secrets; delete or rename it, or create the role with password 'none'"
            ) from None
    _new_password(ctx, namespace, secret, role, dry_run)
    return False


def _discard_secret(ctx: ToolContext, namespace: str, secret: str, failure: Exception) -> None:
    """Undo a Secret created for a Cluster patch that failed, so no half-made role is left behind."""
    try:
        resources.delete_secret(ctx.kube, namespace, secret, dry_run=False)
    except NotFound:
        pass
    except KubeError as exc:
        log.warning("could not remove unused password secret %s/%s: %s", namespace, secret, exc)
        raise ToolError(f"{failure}; the password secret {secret!r} created for it could not be removed "
                        f"either ({exc}): delete it") from None


def _patch_roles(ctx: ToolContext, cluster: dict[str, Any], compute: Callable[[dict[str, Any]], dict[str, Any]],
                 dry_run: bool, new_secret: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Patch the roles list; if that fails, remove the Secret created for it just before."""
    namespace, name = cluster["metadata"]["namespace"], cluster["metadata"]["name"]
    try:
        return kube_roles.patch_cluster_locked(ctx.kube, namespace, name, compute, current=cluster, dry_run=dry_run)
    except (ToolError, KubeError) as exc:
        if new_secret is not None and not dry_run:
            _discard_secret(ctx, namespace, new_secret, exc)
        raise


def _where(args: dict[str, Any], ctx: ToolContext) -> tuple[str, str, dict[str, Any]]:
    namespace = args["namespace"]
    return namespace, args["cluster"], get_cluster_or_explain(ctx, namespace, args["cluster"])


_DRY_RUN_NOTE = "Dry run: nothing was changed; the API server accepted this. "
_PASSWORD_NOTE = ("The password is in Secret {secret!r} (keys username and password); it is never shown here. "
                  "Mount or read that Secret where the application needs it.")


# --- role_list ---------------------------------------------------------------


def _list(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name, cluster = _where(args, ctx)
    status = (cluster.get("status") or {}).get("managedRolesStatus")
    roles = [role_summary(r, status) for r in _roles(cluster)]
    return {
        "cluster": name, "namespace": namespace, "count": len(roles), "roles": roles,
        "status": None if status is None else {
            "by_status": {k: list(v or []) for k, v in (status.get("byStatus") or {}).items()},
            "cannot_reconcile": {k: list(v or []) for k, v in (status.get("cannotReconcile") or {}).items()},
        },
    }


ROLE_LIST = ToolSpec(
    name="role_list",
    title="List PostgreSQL roles",
    description=(
        "List the roles a cluster manages declaratively (spec.managed.roles): flags, memberships, the name of the "
        "Secret holding each password, and what the operator reports (reconciled, pending, errors). "
        "Roles not listed here are not managed: the operator neither creates nor drops them."
    ),
    input_schema=obj({"cluster": CLUSTER_NAME, "namespace": NAMESPACE}, ["cluster", "namespace"]),
    output_schema=obj(
        {"cluster": {"type": "string"}, "namespace": {"type": "string"}, "count": {"type": "integer"},
         "roles": {"type": "array", "items": _ROLE}, "status": nullable({"type": "object"})},
        ["cluster", "namespace", "count", "roles", "status"],
    ),
    hints=ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False),
    handler=_list,
)


# --- role_create -------------------------------------------------------------


def _create(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    role = args["name"]
    _check_role_name(role)
    _check_valid_until(args)
    namespace, name, cluster = _where(args, ctx)
    dry_run = args["dry_run"]

    def refuse_duplicate(current: dict[str, Any]) -> None:
        for existing in _roles(current):
            if existing.get("name") == role and existing.get("ensure", "present") != "absent":
                raise ToolError(f"Role {role!r} already exists in cluster {name!r}; change it with role_update")

    refuse_duplicate(cluster)  # before making a Secret
    entry: dict[str, Any] = {"name": role, "ensure": "present", "login": True}
    entry.update({FIELDS[k]: v for k, v in args.items() if k in FIELDS})
    secret = None
    if args.get("password", "generate") == "generate":
        secret = _secret_name(name, role)
        entry["passwordSecret"] = {"name": secret}
    else:
        entry["disablePassword"] = True
    created = secret is not None and _create_secret(ctx, cluster, secret, role, dry_run)

    def compute(current: dict[str, Any]) -> dict[str, Any]:
        refuse_duplicate(current)
        # An entry left with ensure: absent by role_delete is replaced: the role is created again.
        roles = [r for r in _roles(current) if r.get("name") != role] + [entry]
        recorded = cnpg.created_secrets(current)
        return _roles_patch(roles, recorded + [secret] if secret and secret not in recorded else None)

    _, patched = _patch_roles(ctx, cluster, compute, dry_run, secret if created else None)
    return {
        "created": not dry_run, "dry_run": dry_run, "cluster": name, "namespace": namespace,
        "role": role_summary(_find(patched, role)),
        "password_secret": secret,
        "note": (_DRY_RUN_NOTE if dry_run else "") + (_PASSWORD_NOTE.format(secret=secret) if secret else
                 "The role has no password (disablePassword); it can authenticate only by other means, "
                 "e.g. certificates."),
    }


ROLE_CREATE = ToolSpec(
    name="role_create",
    title="Create a PostgreSQL role",
    description=(
        "Add a role to a cluster's managed roles; CloudNativePG then creates it in PostgreSQL. By default a "
        "password is generated into a new Secret <cluster>-role-<role> (the result names it, never shows it); "
        "password 'none' creates a role without a password."
    ),
    input_schema=obj(
        {
            "cluster": CLUSTER_NAME, "namespace": NAMESPACE, "name": ROLE_NAME,
            **_FLAG_SCHEMAS,
            "login": {"type": "boolean", "default": True, "description": "May log in (LOGIN); default true"},
            "valid_until": TIMESTAMP,
            "comment": {"type": "string", "maxLength": 1024, "description": "COMMENT ON ROLE"},
            "password": {"type": "string", "enum": ["generate", "none"], "default": "generate",
                         "description": "generate: a random password in a new Secret; none: no password"},
            "dry_run": DRY_RUN,
        },
        ["cluster", "namespace", "name"],
    ),
    output_schema=obj(
        {"created": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "cluster": {"type": "string"},
         "namespace": {"type": "string"}, "role": _ROLE, "password_secret": nullable({"type": "string"}),
         "note": {"type": "string"}},
        ["created", "dry_run", "cluster", "namespace", "role", "password_secret", "note"],
    ),
    hints=ToolHints(read_only=False, destructive=False, idempotent=False, open_world=False),
    handler=_create,
)


# --- role_update -------------------------------------------------------------


def _update(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    role = args["name"]
    _check_role_name(role)
    _check_valid_until(args)
    changes = {FIELDS[k]: v for k, v in args.items() if k in FIELDS}
    rotate = bool(args.get("rotate_password", False))
    if not changes and not rotate:
        raise ToolError("Nothing to change: give at least one flag, valid_until, comment or rotate_password")
    namespace, name, cluster = _where(args, ctx)
    dry_run = args["dry_run"]
    entry = _find(cluster, role)
    if entry.get("ensure") == "absent":
        raise ToolError(f"Role {role!r} is marked absent (CloudNativePG drops it); re-create it with role_create")
    secret = (entry.get("passwordSecret") or {}).get("name")
    if rotate and secret is not None and secret not in cnpg.created_secrets(cluster):
        raise ToolError(
            f"Role {role!r} takes its password from Secret {secret!r}, which this server did not create and never "
            "changes; update the password in that Secret yourself"
        )
    # A role without a password secret gets one: rotating means "set a fresh generated password".
    new_secret = _secret_name(name, role) if rotate and secret is None else None
    created = new_secret is not None and _create_secret(ctx, cluster, new_secret, role, dry_run)

    def compute(current: dict[str, Any]) -> dict[str, Any]:
        found = _find(current, role)
        updated = {k: v for k, v in {**found, **changes}.items() if v is not None}  # null clears a field
        recorded = None
        if new_secret is not None:
            updated["passwordSecret"] = {"name": new_secret}
            updated.pop("disablePassword", None)
            recorded = cnpg.created_secrets(current)
            recorded = recorded + [new_secret] if new_secret not in recorded else None
        return _roles_patch([updated if r is found else r for r in _roles(current)], recorded)

    patched = cluster
    if changes or new_secret is not None:
        _, patched = _patch_roles(ctx, cluster, compute, dry_run, new_secret if created else None)
    if rotate and secret is not None:
        try:
            _new_password(ctx, namespace, secret, role, dry_run)
        except NotFound:
            _create_secret(ctx, cluster, secret, role, dry_run)  # ours but deleted: make it again
        except KubeError as exc:
            done = "The other changes were applied, but the" if changes else "The"
            raise ToolError(f"{done} password was not rotated: {exc}") from None
    password_secret = new_secret or secret
    return {
        "updated": not dry_run, "dry_run": dry_run, "cluster": name, "namespace": namespace,
        "changed": sorted(k for k in args if k in FIELDS), "password_rotated": rotate,
        "role": role_summary(_find(patched, role)), "password_secret": password_secret,
        "note": (_DRY_RUN_NOTE if dry_run else "") + (
            _PASSWORD_NOTE.format(secret=password_secret) + " CloudNativePG applies the new password (the Secret "
            "carries cnpg.io/reload); clients using the old one must reconnect with it."
            if rotate else "CloudNativePG applies the changed attributes at its next reconciliation."),
    }


ROLE_UPDATE = ToolSpec(
    name="role_update",
    title="Change a PostgreSQL role",
    description=(
        "Change the attributes of a managed role (login, superuser, memberships, connection limit, validity, "
        "comment; null clears valid_until or comment), and/or rotate its password: rotate_password writes a new "
        "generated password into the Secret this server created for the role (never shown)."
    ),
    input_schema=obj(
        {
            "cluster": CLUSTER_NAME, "namespace": NAMESPACE, "name": ROLE_NAME,
            **_FLAG_SCHEMAS,
            "valid_until": nullable(TIMESTAMP),
            "comment": nullable({"type": "string", "maxLength": 1024, "description": "COMMENT ON ROLE"}),
            "rotate_password": {"type": "boolean", "default": False,
                                "description": "Generate a new password into the role's Secret"},
            "dry_run": DRY_RUN,
        },
        ["cluster", "namespace", "name"],
    ),
    output_schema=obj(
        {"updated": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "cluster": {"type": "string"},
         "namespace": {"type": "string"}, "changed": {"type": "array", "items": {"type": "string"}},
         "password_rotated": {"type": "boolean"}, "role": _ROLE, "password_secret": nullable({"type": "string"}),
         "note": {"type": "string"}},
        ["updated", "dry_run", "cluster", "namespace", "changed", "password_rotated", "role", "password_secret"],
    ),
    hints=ToolHints(read_only=False, destructive=False, idempotent=False, open_world=False),
    handler=_update,
)


# --- role_delete -------------------------------------------------------------


def _delete(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    role = args["name"]
    _check_role_name(role)
    require_confirmation(ctx, args, role, f"delete role {role!r}")
    remove = bool(args.get("remove_from_spec", False))
    namespace, name, cluster = _where(args, ctx)
    dry_run = args["dry_run"]
    entry = _find(cluster, role)
    secret = (entry.get("passwordSecret") or {}).get("name")
    # When the role is dropped its password is useless: the Secret we made for it goes too. When it is
    # only unlisted it lives on in PostgreSQL with that password, so the Secret stays.
    ours = secret if secret in cnpg.created_secrets(cluster) and not remove else None
    if not remove and entry.get("ensure") == "absent" and ours is None:
        return _deleted(name, namespace, role, dry_run, remove, None, already=True)

    def compute(current: dict[str, Any]) -> dict[str, Any]:
        found = _find(current, role)
        if remove:
            return _roles_patch([r for r in _roles(current) if r is not found])
        absent = {k: v for k, v in found.items() if not (ours and k == "passwordSecret")}
        absent["ensure"] = "absent"
        recorded = [s for s in cnpg.created_secrets(current) if s != ours] if ours else None
        return _roles_patch([absent if r is found else r for r in _roles(current)], recorded)

    kube_roles.patch_cluster_locked(ctx.kube, namespace, name, compute, current=cluster, dry_run=dry_run)
    if ours is not None:
        try:
            resources.delete_secret(ctx.kube, namespace, ours, dry_run=dry_run)
        except NotFound:
            pass  # already gone
    return _deleted(name, namespace, role, dry_run, remove, secret if remove else ours)


def _deleted(cluster: str, namespace: str, role: str, dry_run: bool, remove: bool, secret: str | None,
             already: bool = False) -> dict[str, Any]:
    if remove:
        note = (f"Role {role!r} was removed from spec.managed.roles. CloudNativePG now IGNORES it: the role is NOT "
                "dropped and keeps its attributes, memberships and password in PostgreSQL"
                + (f" (still in Secret {secret!r})" if secret else "")
                + ". To drop it, re-add it with role_create and use role_delete without remove_from_spec.")
    else:
        note = (f"Role {role!r} is {'already ' if already else ''}marked ensure: absent; CloudNativePG drops it "
                "from PostgreSQL (it fails if the role still owns objects: see role_list errors)."
                + (f" Its password Secret {secret!r} was deleted." if secret else ""))
    return {
        "changed": not dry_run and not already, "dry_run": dry_run, "cluster": cluster, "namespace": namespace,
        "role": role, "mode": "remove_from_spec" if remove else "drop",
        "password_secret_deleted": None if remove else secret,
        "note": (_DRY_RUN_NOTE if dry_run and not already else "") + note,
    }


ROLE_DELETE = ToolSpec(
    name="role_delete",
    title="Delete a PostgreSQL role",
    description=(
        "Drop a managed role: by default sets ensure: absent so CloudNativePG drops it from PostgreSQL (and deletes "
        "the password Secret this server made). remove_from_spec instead only removes the entry, and the role then "
        "stays in PostgreSQL unmanaged. Requires confirm equal to the role name."
    ),
    input_schema=obj(
        {
            "cluster": CLUSTER_NAME, "namespace": NAMESPACE, "name": ROLE_NAME,
            "confirm": confirmation("Repeat the role name to confirm"),
            "remove_from_spec": {"type": "boolean", "default": False,
                                 "description": "Remove the entry instead: CloudNativePG then ignores the role, "
                                                "which stays in PostgreSQL (NOT dropped)"},
            "dry_run": DRY_RUN,
        },
        ["cluster", "namespace", "name", "confirm"],
    ),
    output_schema=obj(
        {"changed": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "cluster": {"type": "string"},
         "namespace": {"type": "string"}, "role": {"type": "string"},
         "mode": {"type": "string", "enum": ["drop", "remove_from_spec"]},
         "password_secret_deleted": nullable({"type": "string"}), "note": {"type": "string"}},
        ["changed", "dry_run", "cluster", "namespace", "role", "mode", "password_secret_deleted", "note"],
    ),
    hints=ToolHints(read_only=False, destructive=True, idempotent=False, open_world=False),
    handler=_delete,
)

ROLES_TOOLS: list[ToolSpec] = [ROLE_LIST, ROLE_CREATE, ROLE_UPDATE, ROLE_DELETE]
