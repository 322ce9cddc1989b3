"""PostgreSQL databases declared as CloudNativePG `Database` objects: list, get, create, delete.

The operator creates, alters and drops the database in PostgreSQL from these objects; the
tools only write the objects and report what the operator says (status.applied/message).
"""

from __future__ import annotations

import re
from typing import Any

from app.kube import cnpg, resources
from app.tools.clusters import get_cluster_or_explain
from app.tools.common import (
    missing_namespace,
    get_or_explain,
    CLUSTER_NAME,
    DRY_RUN,
    NAMESPACE,
    age,
    confirmation,
    nullable,
    obj,
    require_confirmation,
)
from app.tools.context import ToolContext
from app.tools.errors import ToolError
from app.tools.spec import ToolHints, ToolSpec

IDENTIFIER = {"type": "string", "pattern": "^[a-z_][a-z0-9_]{0,62}$", "maxLength": 63}
# DNS-1123 subdomain: what the API server accepts as a custom object's name.
OBJECT_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
OBJECT_NAME = {"type": "string", "pattern": OBJECT_NAME_RE.pattern, "maxLength": 253,
               "description": "Name of the Database object (not the PostgreSQL name)"}
LOCALE = {"type": "string", "pattern": r"^[A-Za-z0-9_.@-]+$", "maxLength": 100}

# Tool argument → field of the Database spec, for the optional settings passed through as given.
# Encoding, locales and template are immutable once created (the CRD's own rules say so).
OPTIONS = {
    "encoding": "encoding", "locale": "locale", "locale_collate": "localeCollate", "locale_ctype": "localeCType",
    "locale_provider": "localeProvider", "icu_locale": "icuLocale", "icu_rules": "icuRules",
    "builtin_locale": "builtinLocale", "template": "template", "tablespace": "tablespace",
    "connection_limit": "connectionLimit",
}

_SUMMARY = obj(
    {
        "name": {"type": "string"}, "cluster": {"type": "string"}, "database": {"type": "string"},
        "owner": {"type": "string"}, "ensure": {"type": "string"}, "reclaim_policy": {"type": "string"},
        "applied": nullable({"type": "boolean"}), "message": nullable({"type": "string"}),
    },
    ["name", "cluster", "database", "owner", "ensure", "reclaim_policy", "applied", "message"],
)


def database_summary(database: dict[str, Any]) -> dict[str, Any]:
    spec, status = database.get("spec") or {}, database.get("status") or {}
    return {
        "name": database["metadata"]["name"],
        "cluster": (spec.get("cluster") or {}).get("name", ""),
        "database": spec.get("name", ""),
        "owner": spec.get("owner", ""),
        "ensure": spec.get("ensure", "present"),
        "reclaim_policy": spec.get("databaseReclaimPolicy", "retain"),
        "applied": status.get("applied"),
        "message": status.get("message") or None,
    }


def _get_database(ctx: ToolContext, namespace: str, name: str) -> dict[str, Any]:
    """The Database object, or a not-found error naming those that exist."""
    return get_or_explain(ctx, cnpg.DATABASE, namespace, name)


def object_name(cluster: str, database: str) -> str:
    """`<cluster>-<database>` with '_' (invalid in object names) turned into '-'."""
    return f"{cluster}-{database.replace('_', '-')}"


# --- database_list -----------------------------------------------------------


def _list(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, cluster = args["namespace"], args.get("cluster")
    kube = ctx.kube
    found = kube.list(cnpg.DATABASE, namespace)
    if cluster is not None:
        # By the spec's reference, not a label: objects made by others need not carry cnpg.io/cluster.
        found = [d for d in found if ((d.get("spec") or {}).get("cluster") or {}).get("name") == cluster]
    if not found:
        if cluster is not None:
            get_cluster_or_explain(ctx, namespace, cluster)  # a typo in the cluster name is an error, not an empty list
        elif not resources.namespace_exists(kube, namespace):
            raise missing_namespace(ctx.kube, namespace)
    databases = sorted((database_summary(d) for d in found), key=lambda d: (d["cluster"], d["database"], d["name"]))
    return {"namespace": namespace, "cluster": cluster, "count": len(databases), "databases": databases}


DATABASE_LIST = ToolSpec(
    name="database_list",
    title="List PostgreSQL databases",
    description=(
        "List the databases declared as CloudNativePG Database objects, for one cluster or a whole namespace: "
        "object name, PostgreSQL name, owner, ensure, reclaim policy and whether the operator applied it. "
        "Databases created by other means (SQL, initdb) are not Database objects and are not listed."
    ),
    input_schema=obj(
        {"namespace": NAMESPACE, "cluster": {**CLUSTER_NAME, "description": "Only databases of this cluster"}},
        ["namespace"],
    ),
    output_schema=obj(
        {"namespace": {"type": "string"}, "cluster": nullable({"type": "string"}), "count": {"type": "integer"},
         "databases": {"type": "array", "items": _SUMMARY}},
        ["namespace", "cluster", "count", "databases"],
    ),
    hints=ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False),
    handler=_list,
)


# --- database_get ------------------------------------------------------------


def _objects(spec_items: list[dict[str, Any]] | None,
             status_items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Extensions or schemas as declared, each with the operator's report for it."""
    reports = {s.get("name"): s for s in status_items or []}
    return [
        {"name": item.get("name", ""), "ensure": item.get("ensure", "present"),
         **{k: item[k] for k in ("version", "schema", "owner") if item.get(k)},
         "applied": reports.get(item.get("name"), {}).get("applied"),
         "message": reports.get(item.get("name"), {}).get("message") or None}
        for item in spec_items or []
    ]


def _get(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace = args["namespace"]
    database = _get_database(ctx, namespace, args["name"])
    meta, spec, status = database["metadata"], database.get("spec") or {}, database.get("status") or {}
    generation, observed = meta.get("generation"), status.get("observedGeneration")
    return {
        **database_summary(database),
        "namespace": namespace,
        "age": age(meta.get("creationTimestamp")),
        "settings": {arg: spec[field] for arg, field in OPTIONS.items() if field in spec},
        "extensions": _objects(spec.get("extensions"), status.get("extensions")),
        "schemas": _objects(spec.get("schemas"), status.get("schemas")),
        # The operator has not yet acted on the latest change while these differ.
        "up_to_date": observed is not None and observed == generation,
        "deleting": bool(meta.get("deletionTimestamp")),
    }


DATABASE_GET = ToolSpec(
    name="database_get",
    title="Get a PostgreSQL database",
    description=(
        "Show one Database object in detail: its PostgreSQL name, owner, settings, extensions and schemas, "
        "and the operator's status (applied, message, whether it has caught up with the latest change). "
        "Use it after database_create or database_delete to see whether CloudNativePG has acted."
    ),
    input_schema=obj({"name": OBJECT_NAME, "namespace": NAMESPACE}, ["name", "namespace"]),
    output_schema=obj(
        {**_SUMMARY["properties"], "namespace": {"type": "string"}, "age": nullable({"type": "string"}),
         "settings": {"type": "object"},
         "extensions": {"type": "array", "items": {"type": "object"}},
         "schemas": {"type": "array", "items": {"type": "object"}},
         "up_to_date": {"type": "boolean"}, "deleting": {"type": "boolean"}},
        [*_SUMMARY["required"], "namespace", "settings", "extensions", "schemas", "up_to_date", "deleting"],
    ),
    hints=ToolHints(read_only=True, destructive=False, idempotent=True, open_world=False),
    handler=_get,
)


# --- database_create ---------------------------------------------------------


def _owner_warning(cluster: dict[str, Any], owner: str) -> list[str]:
    """Warn (not refuse) when the owner is not a role the cluster is known to create."""
    spec = cluster.get("spec") or {}
    roles = {r.get("name") for r in ((spec.get("managed") or {}).get("roles") or []) if r.get("ensure") != "absent"}
    initdb = (spec.get("bootstrap") or {}).get("initdb") or {}
    roles.add(initdb.get("owner") or initdb.get("database") or "app")
    if owner in roles:
        return []
    return [f"Owner {owner!r} is neither a managed role of cluster {cluster['metadata']['name']!r} nor its initdb "
            "owner; the operator reports an error until that role exists (create it with role_create)."]


def _create(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, cluster_name, database = args["namespace"], args["cluster"], args["database"]
    name = args.get("object_name") or object_name(cluster_name, database)
    if not OBJECT_NAME_RE.fullmatch(name) or len(name) > 253:
        raise ToolError(f"The object name {name!r} made from cluster and database is not a valid Kubernetes name; "
                        "give object_name explicitly (lower-case letters, digits and '-')")
    dry_run = args["dry_run"]
    kube = ctx.kube
    cluster = get_cluster_or_explain(ctx, namespace, cluster_name)
    for other in kube.list(cnpg.DATABASE, namespace):
        spec = other.get("spec") or {}
        if (spec.get("cluster") or {}).get("name") == cluster_name and spec.get("name") == database \
                and spec.get("ensure", "present") == "present":
            raise ToolError(f"Database {database!r} of cluster {cluster_name!r} is already managed by Database "
                            f"object {other['metadata']['name']!r}; change or delete that one")
    spec: dict[str, Any] = {
        "cluster": {"name": cluster_name}, "name": database, "owner": args["owner"], "ensure": "present",
        "databaseReclaimPolicy": args.get("reclaim_policy", "retain"),
        **{field: args[arg] for arg, field in OPTIONS.items() if arg in args},
    }
    if args.get("extensions"):
        spec["extensions"] = [{"ensure": "present", **ext} for ext in args["extensions"]]
    body = {
        "apiVersion": f"{cnpg.GROUP}/{cnpg.VERSION}", "kind": "Database",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {cnpg.LABEL_CLUSTER: cluster_name, cnpg.LABEL_MANAGED_BY: cnpg.MANAGED_BY}},
        "spec": spec,
    }
    created = kube.create(cnpg.DATABASE, namespace, body, dry_run=dry_run)
    return {
        "created": not dry_run, "dry_run": dry_run, "namespace": namespace,
        "database": database_summary(created), "spec": created.get("spec", {}),
        "warnings": _owner_warning(cluster, args["owner"]),
        "next_step": ("Dry run: nothing was created. " if dry_run else "") + "CloudNativePG then creates the "
                     "database in PostgreSQL; check status.applied with database_get.",
    }


DATABASE_CREATE = ToolSpec(
    name="database_create",
    title="Create a PostgreSQL database",
    description=(
        "Declare a database in a cluster as a CloudNativePG Database object named <cluster>-<database> "
        "('_' becomes '-'); the operator then creates it in PostgreSQL with the given owner, encoding, locale, "
        "template and extensions. Encoding, locale and template cannot be changed afterwards."
    ),
    input_schema=obj(
        {
            "cluster": CLUSTER_NAME, "namespace": NAMESPACE,
            "database": {**IDENTIFIER, "description": "PostgreSQL database name"},
            "owner": {**IDENTIFIER, "description": "Role that owns the database (must exist, e.g. via role_create)"},
            "object_name": {**OBJECT_NAME, "description": "Name of the Database object (default <cluster>-<database>)"},
            "reclaim_policy": {"type": "string", "enum": ["retain", "delete"], "default": "retain",
                               "description": "When the object is deleted: retain keeps the PostgreSQL database, "
                                             "delete drops it"},
            "encoding": {"type": "string", "pattern": "^[A-Za-z0-9_]+$", "maxLength": 30, "description": "e.g. UTF8"},
            "locale": {**LOCALE, "description": "LOCALE (sets both collate and ctype), e.g. en_US.UTF-8"},
            "locale_collate": {**LOCALE, "description": "LC_COLLATE"},
            "locale_ctype": {**LOCALE, "description": "LC_CTYPE"},
            "locale_provider": {"type": "string", "enum": ["libc", "icu", "builtin"]},
            "icu_locale": {**LOCALE, "description": "ICU locale (needs locale_provider icu)"},
            "icu_rules": {"type": "string", "maxLength": 1024,
                          "description": "ICU collation rules (locale_provider icu)"},
            "builtin_locale": {**LOCALE, "description": "Builtin locale, e.g. C.UTF-8 (locale_provider builtin)"},
            "template": {**IDENTIFIER, "description": "Template database (default template1)"},
            "tablespace": {**IDENTIFIER, "description": "Default tablespace"},
            "connection_limit": {"type": "integer", "minimum": -1, "maximum": 100000,
                                 "description": "-1 means no limit"},
            "extensions": {"type": "array", "maxItems": 50, "description": "Extensions to create in the database",
                           "items": obj({
                               "name": {"type": "string", "pattern": "^[a-z_][a-z0-9_-]{0,62}$"},
                               "version": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]+$", "maxLength": 64},
                               "schema": IDENTIFIER,
                           }, ["name"])},
            "dry_run": DRY_RUN,
        },
        ["cluster", "namespace", "database", "owner"],
    ),
    output_schema=obj(
        {"created": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "namespace": {"type": "string"},
         "database": _SUMMARY, "spec": {"type": "object"}, "warnings": {"type": "array", "items": {"type": "string"}},
         "next_step": {"type": "string"}},
        ["created", "dry_run", "namespace", "database", "spec", "warnings"],
    ),
    hints=ToolHints(read_only=False, destructive=False, idempotent=False, open_world=False),
    handler=_create,
)


# --- database_delete ---------------------------------------------------------


def _delete(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    namespace, name, mode = args["namespace"], args["name"], args["mode"]
    verb = "drop the database of" if mode == "drop" else "delete"
    require_confirmation(ctx, args, name, f"{verb} Database object {name!r}")
    dry_run = args["dry_run"]
    kube = ctx.kube
    database = _get_database(ctx, namespace, name)
    spec = database.get("spec") or {}
    pg_name, policy = spec.get("name", ""), spec.get("databaseReclaimPolicy", "retain")
    if mode == "drop":
        already = spec.get("ensure") == "absent"
        if not already:
            kube.patch(cnpg.DATABASE, namespace, name, {"spec": {"ensure": "absent"}}, dry_run=dry_run)
        note = (f"The Database object {name!r} is {'already ' if already else 'now '}set to ensure: absent; "
                f"CloudNativePG drops the PostgreSQL database {pg_name!r}. The object is kept (delete it later with "
                "mode delete_object); check progress with database_get.")
        changed = not dry_run and not already
    else:
        kube.delete(cnpg.DATABASE, namespace, name, dry_run=dry_run)
        if spec.get("ensure") == "absent":
            outcome = f"The PostgreSQL database {pg_name!r} had been set to absent, so it is dropped or already gone."
        elif policy == "delete":
            outcome = (f"Its databaseReclaimPolicy is delete: CloudNativePG DROPS the PostgreSQL database "
                       f"{pg_name!r} and all its data.")
        else:
            outcome = (f"Its databaseReclaimPolicy is retain: the PostgreSQL database {pg_name!r} and its data are "
                       "KEPT, no longer managed by CloudNativePG.")
        note = f"The Database object {name!r} {'would be' if dry_run else 'is'} deleted. {outcome}"
        changed = not dry_run
    return {
        "changed": changed, "dry_run": dry_run, "namespace": namespace, "name": name, "database": pg_name,
        "mode": mode, "reclaim_policy": policy,
        "note": ("Dry run: nothing was changed. " if dry_run else "") + note,
    }


DATABASE_DELETE = ToolSpec(
    name="database_delete",
    title="Delete a PostgreSQL database",
    description=(
        "Remove a declared database, in one of two explicit modes: drop sets ensure: absent so CloudNativePG drops "
        "the PostgreSQL database (its data is lost) and keeps the object; delete_object deletes the Database object, "
        "and the PostgreSQL database is then dropped or kept according to its reclaim policy (the result says which). "
        "Requires confirm equal to the Database object name."
    ),
    input_schema=obj(
        {
            "name": OBJECT_NAME, "namespace": NAMESPACE,
            "mode": {"type": "string", "enum": ["drop", "delete_object"],
                     "description": "drop: DROP DATABASE via ensure: absent, object kept; delete_object: delete the "
                                    "object, database dropped only if its reclaim policy is delete"},
            "confirm": confirmation("Repeat the Database object name to confirm"),
            "dry_run": DRY_RUN,
        },
        ["name", "namespace", "mode", "confirm"],
    ),
    output_schema=obj(
        {"changed": {"type": "boolean"}, "dry_run": {"type": "boolean"}, "namespace": {"type": "string"},
         "name": {"type": "string"}, "database": {"type": "string"},
         "mode": {"type": "string", "enum": ["drop", "delete_object"]}, "reclaim_policy": {"type": "string"},
         "note": {"type": "string"}},
        ["changed", "dry_run", "namespace", "name", "database", "mode", "reclaim_policy", "note"],
    ),
    hints=ToolHints(read_only=False, destructive=True, idempotent=False, open_world=False),
    handler=_delete,
)

DATABASES_TOOLS: list[ToolSpec] = [DATABASE_LIST, DATABASE_GET, DATABASE_CREATE, DATABASE_DELETE]
