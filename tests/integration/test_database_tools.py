"""Database tools (CloudNativePG Database objects) against the real local API server with the real CRDs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes
import pytest

from app import create_app
from app.settings import Settings
from tests.support.mcp_calls import ToolCaller, tool_caller

GROUP, VERSION = "postgresql.cnpg.io", "v1"
MUTATING = {
    "database_create": {"cluster": "pg", "database": "shop", "owner": "app"},
    "database_delete": {"name": "pg-shop", "mode": "drop", "confirm": "pg-shop"},
}


def _custom(api: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api)


def _make_cluster(api: kubernetes.client.ApiClient, namespace: str, name: str = "pg") -> None:
    _custom(api).create_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Cluster", "metadata": {"name": name},
        "spec": {"instances": 1, "storage": {"size": "1Gi"}, "managed": {"roles": [{"name": "shopper"}]}}})


@pytest.fixture
def cluster(admin_api, namespace: str) -> str:
    _make_cluster(admin_api, namespace)
    return "pg"


def _make_database(api: kubernetes.client.ApiClient, namespace: str, name: str, cluster: str, database: str,
                   **spec: Any) -> None:
    _custom(api).create_namespaced_custom_object(GROUP, VERSION, namespace, "databases", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Database", "metadata": {"name": name},
        "spec": {"cluster": {"name": cluster}, "name": database, "owner": "app", **spec}})


def _set_status(api: kubernetes.client.ApiClient, namespace: str, name: str, **status: Any) -> None:
    """What the operator would report after reconciling the Database."""
    _custom(api).patch_namespaced_custom_object_status(GROUP, VERSION, namespace, "databases", name,
                                                       {"status": status})


def _read(api: kubernetes.client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    return _custom(api).get_namespaced_custom_object(GROUP, VERSION, namespace, "databases", name)


def _names(api: kubernetes.client.ApiClient, namespace: str) -> list[str]:
    items = _custom(api).list_namespaced_custom_object(GROUP, VERSION, namespace, "databases")["items"]
    return sorted(item["metadata"]["name"] for item in items)


# --- database_create ---------------------------------------------------------


def test_create_declares_the_database_under_a_valid_generated_name(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    out = tools.ok("database_create", cluster="pg", namespace=namespace, database="web_shop", owner="shopper",
                   reclaim_policy="delete", encoding="UTF8", locale_provider="icu", icu_locale="en-US",
                   template="template0", connection_limit=50,
                   extensions=[{"name": "pg_trgm"}, {"name": "uuid-ossp", "version": "1.1", "schema": "public"}])

    assert out["created"] is True and out["warnings"] == []
    assert out["database"] == {"name": "pg-web-shop", "cluster": "pg", "database": "web_shop", "owner": "shopper",
                               "ensure": "present", "reclaim_policy": "delete", "applied": None, "message": None}
    stored = _read(admin_api, namespace, "pg-web-shop")
    assert stored["metadata"]["labels"] == {"cnpg.io/cluster": "pg", "app.kubernetes.io/managed-by": "cnpg-mcp-server"}
    spec = stored["spec"]
    assert spec["cluster"] == {"name": "pg"} and spec["name"] == "web_shop" and spec["owner"] == "shopper"
    assert (spec["ensure"], spec["databaseReclaimPolicy"], spec["encoding"]) == ("present", "delete", "UTF8")
    assert (spec["localeProvider"], spec["icuLocale"], spec["template"]) == ("icu", "en-US", "template0")
    assert spec["connectionLimit"] == 50
    assert spec["extensions"] == [
        {"name": "pg_trgm", "ensure": "present"},
        {"name": "uuid-ossp", "version": "1.1", "schema": "public", "ensure": "present"},
    ]


def test_create_defaults_to_retain_and_warns_about_an_unknown_owner(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    known = tools.ok("database_create", cluster="pg", namespace=namespace, database="a", owner="app")
    unknown = tools.ok("database_create", cluster="pg", namespace=namespace, database="b", owner="nobody")

    assert known["warnings"] == [] and known["database"]["reclaim_policy"] == "retain"
    assert "Owner 'nobody' is neither a managed role" in unknown["warnings"][0]
    assert _read(admin_api, namespace, "pg-b")["spec"]["databaseReclaimPolicy"] == "retain"


def test_create_dry_run_shows_the_accepted_object_and_creates_nothing(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    out = tools.ok("database_create", cluster="pg", namespace=namespace, database="shop", owner="app", dry_run=True)

    assert out["created"] is False and out["dry_run"] is True
    assert out["database"]["name"] == "pg-shop" and out["spec"]["databaseReclaimPolicy"] == "retain"
    assert _names(admin_api, namespace) == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"database": "postgres"}, "the name postgres is reserved"),
        ({"database": "template1"}, "the name template1 is reserved"),
        ({"icu_locale": "en-US"}, "icuLocale is only available when localeProvider is set to `icu`"),
        # Not the CRD: the operator's validating webhook (vdatabase.cnpg.io), quoted with its name.
        ({"extensions": [{"name": "pgcrypto"}, {"name": "pgcrypto", "version": "1.3"}]},
         'the CloudNativePG operator (vdatabase.cnpg.io) refused it: spec.extensions[1].name: Duplicate value: '
         '"pgcrypto"'),
    ],
)
def test_create_returns_the_crd_rejections_verbatim(
    tools: ToolCaller, admin_api, namespace: str, cluster: str, arguments: dict[str, Any], expected: str
) -> None:
    message = tools.error("database_create", **{"cluster": "pg", "namespace": namespace, "database": "shop",
                                                "owner": "app", **arguments})

    assert message.startswith("Invalid request to create Database object 'pg-") and expected in message
    assert _names(admin_api, namespace) == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"database": "Shop"}, "database: 'Shop' does not match"),
        ({"owner": "a-b"}, "owner: 'a-b' does not match"),
        ({"reclaim_policy": "drop"}, "reclaim_policy: 'drop' is not one of"),
        ({"object_name": "Pg_Shop"}, "object_name: 'Pg_Shop' does not match"),
        ({"extensions": [{"name": "x", "cascade": True}]}, "('cascade' was unexpected)"),
        ({"database": "shop_"}, "give object_name explicitly"),
    ],
)
def test_create_refuses_bad_input_before_calling_the_api(
    tools: ToolCaller, admin_api, namespace: str, cluster: str, arguments: dict[str, Any], expected: str
) -> None:
    message = tools.error("database_create", **{"cluster": "pg", "namespace": namespace, "database": "shop",
                                                "owner": "app", **arguments})

    assert expected in message
    assert _names(admin_api, namespace) == []


def test_create_with_an_explicit_object_name(tools: ToolCaller, admin_api, namespace: str, cluster: str) -> None:
    out = tools.ok("database_create", cluster="pg", namespace=namespace, database="shop_", owner="app",
                   object_name="pg-shop-trailing")

    assert out["database"]["name"] == "pg-shop-trailing"
    assert _read(admin_api, namespace, "pg-shop-trailing")["spec"]["name"] == "shop_"


def test_create_refuses_a_database_another_object_already_manages(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    _make_database(admin_api, namespace, "legacy-shop", "pg", "shop")

    message = tools.error("database_create", cluster="pg", namespace=namespace, database="shop", owner="app")
    twice = tools.error("database_create", cluster="pg", namespace=namespace, database="shop", owner="app",
                        object_name="legacy-shop")

    assert message == "Database 'shop' of cluster 'pg' is already managed by Database object 'legacy-shop'; " \
                      "change or delete that one"
    assert "already managed" in twice
    assert _names(admin_api, namespace) == ["legacy-shop"]


def test_create_for_a_missing_cluster_names_the_clusters_there(tools: ToolCaller, namespace: str, cluster: str) -> None:
    message = tools.error("database_create", cluster="pgx", namespace=namespace, database="shop", owner="app")

    assert message == f"Cluster 'pgx' not found in namespace {namespace!r}; clusters there: pg"


# --- database_list and database_get -------------------------------------------


def test_list_shows_a_clusters_databases_with_the_operator_status(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    _make_cluster(admin_api, namespace, "other")
    _make_database(admin_api, namespace, "pg-shop", "pg", "shop")
    _make_database(admin_api, namespace, "handmade", "pg", "analytics", ensure="absent")
    _make_database(admin_api, namespace, "other-shop", "other", "shop")
    _set_status(admin_api, namespace, "pg-shop", applied=True, observedGeneration=1)
    _set_status(admin_api, namespace, "handmade", applied=False, message="database is in use")

    one = tools.ok("database_list", namespace=namespace, cluster="pg")
    every = tools.ok("database_list", namespace=namespace)

    assert one["count"] == 2 and one["cluster"] == "pg"
    analytics, shop = one["databases"]
    assert (analytics["name"], analytics["ensure"], analytics["applied"], analytics["message"]) == (
        "handmade", "absent", False, "database is in use")
    assert (shop["name"], shop["database"], shop["owner"], shop["applied"]) == ("pg-shop", "shop", "app", True)
    assert shop["reclaim_policy"] == "retain"
    assert every["count"] == 3 and every["cluster"] is None


def test_list_errors_on_a_missing_cluster_or_namespace_but_not_on_none_declared(
    tools: ToolCaller, namespace: str, cluster: str
) -> None:
    assert tools.ok("database_list", namespace=namespace, cluster="pg")["count"] == 0
    assert "Cluster 'pgx' not found" in tools.error("database_list", namespace=namespace, cluster="pgx")
    assert tools.error("database_list", namespace="nowhere") == "Namespace 'nowhere' does not exist"


def test_get_shows_settings_extensions_and_whether_the_operator_caught_up(
    tools: ToolCaller, admin_api, namespace: str, cluster: str
) -> None:
    tools.ok("database_create", cluster="pg", namespace=namespace, database="shop", owner="shopper",
             encoding="UTF8", extensions=[{"name": "pg_trgm"}, {"name": "postgis", "version": "3.5"}])
    _set_status(admin_api, namespace, "pg-shop", applied=False, message="extension postgis is not available",
                observedGeneration=1,
                extensions=[{"name": "pg_trgm", "applied": True},
                            {"name": "postgis", "applied": False, "message": "not available"}])

    out = tools.ok("database_get", name="pg-shop", namespace=namespace)

    assert (out["database"], out["owner"], out["applied"]) == ("shop", "shopper", False)
    assert out["message"] == "extension postgis is not available"
    assert out["settings"] == {"encoding": "UTF8"}
    assert out["extensions"] == [
        {"name": "pg_trgm", "ensure": "present", "applied": True, "message": None},
        {"name": "postgis", "ensure": "present", "version": "3.5", "applied": False, "message": "not available"},
    ]
    assert out["up_to_date"] is True and out["deleting"] is False and out["age"] is not None


def test_get_of_an_unknown_object_names_those_that_exist(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_database(admin_api, namespace, "pg-shop", "pg", "shop")

    message = tools.error("database_get", name="pg-shp", namespace=namespace)

    assert message == f"Database object 'pg-shp' not found in namespace {namespace!r}; Database objects there: pg-shop"


# --- database_delete -----------------------------------------------------------


def test_delete_needs_the_object_name_repeated(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_database(admin_api, namespace, "pg-shop", "pg", "shop")

    message = tools.error("database_delete", name="pg-shop", namespace=namespace, mode="drop", confirm="shop")

    assert message == "To drop the database of Database object 'pg-shop', repeat 'pg-shop' exactly in confirm"
    assert _read(admin_api, namespace, "pg-shop")["spec"]["ensure"] == "present"


def test_delete_needs_an_explicit_mode(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_database(admin_api, namespace, "pg-shop", "pg", "shop")

    message = tools.error("database_delete", name="pg-shop", namespace=namespace, confirm="pg-shop")

    assert "'mode' is a required property" in message
    assert _names(admin_api, namespace) == ["pg-shop"]


def test_drop_sets_ensure_absent_and_keeps_the_object(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_database(admin_api, namespace, "pg-shop", "pg", "shop", owner="shopper")

    preview = tools.ok("database_delete", name="pg-shop", namespace=namespace, mode="drop", confirm="pg-shop",
                       dry_run=True)
    after_preview = _read(admin_api, namespace, "pg-shop")["spec"]["ensure"]
    out = tools.ok("database_delete", name="pg-shop", namespace=namespace, mode="drop", confirm="pg-shop")
    again = tools.ok("database_delete", name="pg-shop", namespace=namespace, mode="drop", confirm="pg-shop")

    assert preview["dry_run"] is True and preview["changed"] is False and after_preview == "present"
    assert (out["changed"], out["mode"], out["database"]) == (True, "drop", "shop")
    assert "drops the PostgreSQL database 'shop'" in out["note"] and "object is kept" in out["note"]
    spec = _read(admin_api, namespace, "pg-shop")["spec"]
    assert spec["ensure"] == "absent" and spec["owner"] == "shopper"
    assert again["changed"] is False and "already" in again["note"]


@pytest.mark.parametrize(("policy", "says"), [("retain", "are KEPT"), ("delete", "DROPS the PostgreSQL database")])
def test_delete_object_removes_it_and_says_what_happens_to_the_data(
    tools: ToolCaller, admin_api, namespace: str, policy: str, says: str
) -> None:
    _make_database(admin_api, namespace, "pg-shop", "pg", "shop", databaseReclaimPolicy=policy)

    preview = tools.ok("database_delete", name="pg-shop", namespace=namespace, mode="delete_object",
                       confirm="pg-shop", dry_run=True)
    still_there = _names(admin_api, namespace)
    out = tools.ok("database_delete", name="pg-shop", namespace=namespace, mode="delete_object", confirm="pg-shop")

    assert preview["changed"] is False and "would be deleted" in preview["note"] and still_there == ["pg-shop"]
    assert out["changed"] is True and out["reclaim_policy"] == policy and says in out["note"]
    assert _names(admin_api, namespace) == []


def test_delete_of_a_missing_object_is_not_found(tools: ToolCaller, namespace: str) -> None:
    message = tools.error("database_delete", name="pg-shop", namespace=namespace, mode="drop", confirm="pg-shop")

    assert "'pg-shop' not found" in message


# --- server modes --------------------------------------------------------------


@pytest.mark.parametrize("tool", sorted(MUTATING))
def test_read_only_mode_hides_the_mutating_database_tools(kubeconfig: Path, namespace: str, tool: str) -> None:
    client = create_app(Settings.from_env({"KUBECONFIG": str(kubeconfig), "MCP_READ_ONLY": "true"})).test_client()
    listed = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).get_json()
    called = client.post("/mcp", json={
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": tool, "arguments": {"namespace": namespace, **MUTATING[tool]}},
    }).get_json()

    names = [t["name"] for t in listed["result"]["tools"]]
    assert {"database_list", "database_get"} <= set(names) and tool not in names
    assert called["error"]["code"] == -32602 and "Unknown tool" in called["error"]["message"]


@pytest.mark.parametrize("tool", ["database_list", "database_get", *sorted(MUTATING)])
def test_namespace_allowlist_refuses_other_namespaces(kubeconfig: Path, admin_api, namespace: str, tool: str) -> None:
    _make_cluster(admin_api, namespace)
    _make_database(admin_api, namespace, "pg-shop", "pg", "shop")
    limited = tool_caller(kubeconfig, MCP_NAMESPACES="other")
    arguments = {"name": "pg-shop"} if tool == "database_get" else MUTATING.get(tool, {})

    message = limited.error(tool, namespace=namespace, **arguments)

    assert message == f"Namespace {namespace!r} is not served by this server; allowed: other"
    assert _names(admin_api, namespace) == ["pg-shop"]
    assert _read(admin_api, namespace, "pg-shop")["spec"]["ensure"] == "present"
