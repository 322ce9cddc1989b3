"""Role tools (spec.managed.roles and password Secrets) against the real local API server with the real CRDs."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from app import create_app
from tests.support.tools import kube_session
from app.kube import roles as kube_roles
from app.settings import Settings
from devenv.kubelet_sim import set_cluster_status, wait_for as wait_until_value
from tests.support.mcp_calls import ToolCaller, tool_caller

GROUP, VERSION = "postgresql.cnpg.io", "v1"
CREATED_SECRETS = "cnpg-mcp.io/created-secrets"
MUTATING = {
    "role_create": {"name": "alice"},
    "role_update": {"name": "alice", "login": False},
    "role_delete": {"name": "alice", "confirm": "alice"},
}


def _custom(api: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api)


def _make_cluster(api: kubernetes.client.ApiClient, namespace: str, name: str = "pg",
                  roles: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"instances": 1, "storage": {"size": "1Gi"}}
    if roles:
        spec["managed"] = {"roles": roles}
    return _custom(api).create_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Cluster", "metadata": {"name": name}, "spec": spec})


@pytest.fixture
def cluster(admin_api, namespace: str) -> dict[str, Any]:
    return _make_cluster(admin_api, namespace)


def _read_cluster(api: kubernetes.client.ApiClient, namespace: str, name: str = "pg") -> dict[str, Any]:
    return _custom(api).get_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", name)


def _roles(api: kubernetes.client.ApiClient, namespace: str, name: str = "pg") -> list[dict[str, Any]]:
    return ((_read_cluster(api, namespace, name)["spec"].get("managed") or {}).get("roles")) or []


def _recorded(api: kubernetes.client.ApiClient, namespace: str, name: str = "pg") -> list[str]:
    annotations = _read_cluster(api, namespace, name)["metadata"].get("annotations") or {}
    return json.loads(annotations.get(CREATED_SECRETS, "[]"))


def _secret_names(api: kubernetes.client.ApiClient, namespace: str) -> set[str]:
    """Every Secret of the namespace except the CloudNativePG operator's own (CA, server, app, ...)."""
    return {s.metadata.name for s in kubernetes.client.CoreV1Api(api).list_namespaced_secret(namespace).items
            if (s.metadata.labels or {}).get("app.kubernetes.io/managed-by") != "cloudnative-pg"}


def _password(api: kubernetes.client.ApiClient, namespace: str, name: str) -> str:
    data = kubernetes.client.CoreV1Api(api).read_namespaced_secret(name, namespace).data
    return base64.b64decode(data["password"]).decode()


# --- role_create -------------------------------------------------------------


def test_create_generates_a_password_secret_and_adds_only_the_role(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _custom(admin_api).patch_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", "pg",
                                                      {"spec": {"instances": 2}})

    result = tools("role_create", cluster="pg", namespace=namespace, name="app_reader", createdb=True,
                   in_roles=["pg_read_all_data"], connection_limit=10, valid_until="2030-01-01T00:00:00Z",
                   comment="reporting")
    out = result["structuredContent"]

    assert result["isError"] is False
    assert out["created"] is True and out["password_secret"] == "pg-role-app-reader"
    assert "pg-role-app-reader" in out["note"]
    role = out["role"]
    assert (role["name"], role["login"], role["createdb"], role["superuser"]) == ("app_reader", True, True, False)
    assert role["in_roles"] == ["pg_read_all_data"] and role["connection_limit"] == 10
    [entry] = _roles(admin_api, namespace)
    assert entry["passwordSecret"] == {"name": "pg-role-app-reader"} and entry["ensure"] == "present"
    assert entry["validUntil"] == "2030-01-01T00:00:00Z" and entry["comment"] == "reporting"
    assert _read_cluster(admin_api, namespace)["spec"]["instances"] == 2  # nothing else overwritten
    assert _recorded(admin_api, namespace) == ["pg-role-app-reader"]
    secret = kubernetes.client.CoreV1Api(admin_api).read_namespaced_secret("pg-role-app-reader", namespace)
    assert secret.type == "kubernetes.io/basic-auth"
    assert secret.metadata.labels == {"cnpg.io/reload": "true", "cnpg.io/cluster": "pg",
                                      "app.kubernetes.io/managed-by": "cnpg-mcp-server"}
    [owner] = secret.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid) == ("Cluster", "pg", cluster["metadata"]["uid"])
    assert base64.b64decode(secret.data["username"]).decode() == "app_reader"
    password = _password(admin_api, namespace, "pg-role-app-reader")
    assert len(password) >= 24
    assert password not in json.dumps(result)  # never returned, in structured content or text
    assert password not in caplog.text  # nor logged


def test_create_without_password_disables_it_and_makes_no_secret(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    out = tools.ok("role_create", cluster="pg", namespace=namespace, name="certs_only", password="none")

    assert out["password_secret"] is None and out["role"]["password_disabled"] is True
    assert _roles(admin_api, namespace)[0]["disablePassword"] is True
    assert "passwordSecret" not in _roles(admin_api, namespace)[0]
    assert _secret_names(admin_api, namespace) == set()
    assert _recorded(admin_api, namespace) == []


def test_create_dry_run_validates_everything_and_changes_nothing(
    tools: ToolCaller, admin_api, namespace: str, cluster: dict[str, Any]
) -> None:
    out = tools.ok("role_create", cluster="pg", namespace=namespace, name="alice", dry_run=True)

    assert out["created"] is False and out["dry_run"] is True
    assert out["role"]["name"] == "alice" and out["role"]["inherit"] is True  # CRD default applied server-side
    assert _roles(admin_api, namespace) == [] and _recorded(admin_api, namespace) == []
    assert _secret_names(admin_api, namespace) == set()


def test_create_refuses_a_duplicate_without_making_a_secret(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    _make_cluster(admin_api, namespace, roles=[{"name": "alice", "login": True}])

    message = tools.error("role_create", cluster="pg", namespace=namespace, name="alice")

    assert message == "Role 'alice' already exists in cluster 'pg'; change it with role_update"
    assert _secret_names(admin_api, namespace) == set()


def test_create_again_after_a_drop_replaces_the_absent_entry(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    _make_cluster(admin_api, namespace, roles=[{"name": "alice", "ensure": "absent"}, {"name": "bob"}])

    tools.ok("role_create", cluster="pg", namespace=namespace, name="alice", password="none")

    roles = _roles(admin_api, namespace)
    assert [(r["name"], r["ensure"]) for r in roles] == [("bob", "present"), ("alice", "present")]


@pytest.mark.parametrize("name", ["postgres", "streaming_replica", "pg_monitor", "cnpg_pooler_pgbouncer"])
def test_create_refuses_reserved_role_names(tools: ToolCaller, admin_api, namespace: str, cluster, name: str) -> None:
    message = tools.error("role_create", cluster="pg", namespace=namespace, name=name)

    assert message.startswith(f"Role {name!r} is reserved")
    assert _roles(admin_api, namespace) == [] and _secret_names(admin_api, namespace) == set()


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"name": "Alice"}, "name: 'Alice' does not match"),
        ({"name": "a-b"}, "name: 'a-b' does not match"),
        ({"connection_limit": -2}, "connection_limit: -2 is less than the minimum of -1"),
        ({"valid_until": "tomorrow"}, "valid_until: 'tomorrow' does not match"),
        ({"password": "hunter2"}, "password: 'hunter2' is not one of"),
        ({"cluster": "PG"}, "cluster: 'PG' does not match"),
    ],
)
def test_create_refuses_bad_input_before_calling_the_api(
    tools: ToolCaller, admin_api, namespace: str, cluster, arguments: dict[str, Any], expected: str
) -> None:
    message = tools.error("role_create", **{"cluster": "pg", "namespace": namespace, "name": "alice", **arguments})

    assert expected in message
    assert _roles(admin_api, namespace) == [] and _secret_names(admin_api, namespace) == set()


def test_create_refuses_an_impossible_valid_until_that_the_operator_would_refuse_without_a_field(
    tools: ToolCaller, admin_api, namespace: str, cluster
) -> None:
    # Matches the argument pattern but is no date.
    message = tools.error("role_create", cluster="pg", namespace=namespace, name="alice",
                          valid_until="2030-13-45T99:00:00Z")
    # The operator's defaulting webhook, given the same role, parses the time before anything else.
    with pytest.raises(kubernetes.client.ApiException) as operator_says:
        _custom(admin_api).patch_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", "pg", {
            "spec": {"managed": {"roles": [{"name": "alice", "validUntil": "2030-13-45T99:00:00Z"}]}}}, dry_run="All")

    assert message == "valid_until '2030-13-45T99:00:00Z' is not a real date and time (RFC 3339, e.g. 2027-01-01T00:00:00Z)"
    assert json.loads(operator_says.value.body)["message"] == (
        'admission webhook "mcluster.cnpg.io" denied the request: parsing time "2030-13-45T99:00:00Z": month out of range')
    assert _secret_names(admin_api, namespace) == set() and _roles(admin_api, namespace) == []


@pytest.mark.parametrize("name", ["postgres", "streaming_replica"])
def test_reserved_role_names_are_refused_as_the_operator_refuses_them(
    tools: ToolCaller, admin_api, namespace: str, cluster, name: str
) -> None:
    message = tools.error("role_create", cluster="pg", namespace=namespace, name=name)
    with pytest.raises(kubernetes.client.ApiException) as operator_says:
        _custom(admin_api).patch_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", "pg", {
            "spec": {"managed": {"roles": [{"name": name}]}}}, dry_run="All")

    assert f"Role {name!r} is reserved" in message
    assert "This role is reserved for operator use" in json.loads(operator_says.value.body)["message"]


def test_create_removes_its_secret_when_the_cluster_patch_is_rejected(
    controlplane, admin_api, namespace: str, cluster, tmp_path: Path
) -> None:
    # alice may read clusters and manage secrets, but not change clusters: the patch is refused
    # after the password Secret was made, which must then go again.
    rbac = kubernetes.client.RbacAuthorizationV1Api(admin_api)
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "secrets-not-clusters"}, "rules": [
        {"apiGroups": [GROUP], "resources": ["clusters"], "verbs": ["get", "list"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create", "delete", "patch"]},
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]},
    ]})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "alice"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secrets-not-clusters"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]})
    alice = tool_caller(controlplane.write_kubeconfig(tmp_path / "alice.yaml", user="alice"))

    def refused() -> str | None:
        message = alice.error("role_create", cluster="pg", namespace=namespace, name="alice")
        return None if "not allowed to get cluster" in message else message  # the binding is not active yet

    message = wait_until_value(refused, "the RoleBinding to take effect")

    assert message.startswith("Forbidden: not allowed to update cluster 'pg'")
    assert _secret_names(admin_api, namespace) == set()
    assert _roles(admin_api, namespace) == [] and _recorded(admin_api, namespace) == []


def test_create_refuses_to_overwrite_a_secret_it_did_not_create(
    tools: ToolCaller, admin_api, namespace: str, cluster
) -> None:
    kubernetes.client.CoreV1Api(admin_api).create_namespaced_secret(
        namespace, {"metadata": {"name": "pg-role-alice"}, "stringData": {"password": "theirs"}})

    message = tools.error("role_create", cluster="pg", namespace=namespace, name="alice")

    assert "Secret 'pg-role-alice' already exists and was not created by this server" in message
    assert _password(admin_api, namespace, "pg-role-alice") == "theirs"
    assert _roles(admin_api, namespace) == []


def test_create_on_a_missing_cluster_names_the_clusters_there(tools: ToolCaller, namespace: str, cluster) -> None:
    message = tools.error("role_create", cluster="pgx", namespace=namespace, name="alice")

    assert message == f"Cluster 'pgx' not found in namespace {namespace!r}; clusters there: pg"


def test_secret_names_stay_valid_for_any_role_name(tools: ToolCaller, admin_api, namespace: str, cluster) -> None:
    out = tools.ok("role_create", cluster="pg", namespace=namespace, name="_odd_")

    assert out["password_secret"].startswith("pg-role--odd-") and not out["password_secret"].endswith("-")
    assert out["password_secret"] in _secret_names(admin_api, namespace)


# --- concurrent edits ----------------------------------------------------------


def test_roles_patch_carries_the_resource_version_and_is_recomputed_after_a_conflict(
    kubeconfig: Path, admin_api, namespace: str, cluster
) -> None:
    session = kube_session(Settings.from_env({"KUBECONFIG": str(kubeconfig)}))
    seen: list[str] = []

    def add_alice(current: dict[str, Any]) -> dict[str, Any]:
        seen.append(current["metadata"]["resourceVersion"])
        if len(seen) == 1:
            # Someone else adds a role between our read and our patch.
            _custom(admin_api).patch_namespaced_custom_object(
                GROUP, VERSION, namespace, "clusters", "pg", {"spec": {"managed": {"roles": [{"name": "bob"}]}}})
        roles = ((current["spec"].get("managed") or {}).get("roles")) or []
        return {"spec": {"managed": {"roles": [*roles, {"name": "alice"}]}}}

    kube_roles.patch_cluster_locked(session, namespace, "pg", add_alice, current=cluster, dry_run=False)

    # At least one recomputation (the operator, reconciling the live cluster, may cause another).
    assert len(seen) >= 2 and seen[0] != seen[1]
    assert [r["name"] for r in _roles(admin_api, namespace)] == ["bob", "alice"]  # bob was not overwritten


# --- role_list -----------------------------------------------------------------


def test_list_shows_roles_with_secret_names_and_the_operator_status(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    _make_cluster(admin_api, namespace, roles=[
        {"name": "alice", "login": True, "passwordSecret": {"name": "alice-pw"}, "inRoles": ["pg_monitor"]},
        {"name": "old", "ensure": "absent"},
    ])
    set_cluster_status(admin_api, namespace, "pg", managedRolesStatus={
        "byStatus": {"reconciled": ["alice"], "not-managed": ["app"], "reserved": ["postgres", "streaming_replica"]},
        "cannotReconcile": {"old": ["role \"old\" cannot be dropped because some objects depend on it"]},
    })

    out = tools.ok("role_list", cluster="pg", namespace=namespace)

    assert out["count"] == 2
    alice, old = out["roles"]
    assert (alice["password_secret"], alice["reconcile_status"], alice["errors"]) == ("alice-pw", "reconciled", [])
    assert alice["in_roles"] == ["pg_monitor"] and alice["connection_limit"] == -1 and alice["inherit"] is True
    assert (old["ensure"], old["reconcile_status"]) == ("absent", None)
    assert "cannot be dropped" in old["errors"][0]
    assert out["status"]["by_status"]["not-managed"] == ["app"]


def test_list_of_a_cluster_without_roles_is_empty(tools: ToolCaller, namespace: str, cluster) -> None:
    out = tools.ok("role_list", cluster="pg", namespace=namespace)

    assert (out["count"], out["roles"], out["status"]) == (0, [], None)


def test_list_of_a_missing_cluster_or_namespace_says_so(tools: ToolCaller, namespace: str) -> None:
    assert "there are no clusters in that namespace" in tools.error("role_list", cluster="pg", namespace=namespace)
    assert tools.error("role_list", cluster="pg", namespace="nowhere") == "Namespace 'nowhere' does not exist"


# --- role_update ---------------------------------------------------------------


def test_update_changes_only_the_given_attributes_of_only_that_role(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    _make_cluster(admin_api, namespace, roles=[
        {"name": "alice", "login": True, "comment": "x", "validUntil": "2030-01-01T00:00:00Z",
         "passwordSecret": {"name": "alice-pw"}},
        {"name": "bob", "createdb": True},
    ])
    bob_before = _roles(admin_api, namespace)[1]

    out = tools.ok("role_update", cluster="pg", namespace=namespace, name="alice", login=False, connection_limit=3,
                   in_roles=["pg_read_all_data"], comment=None, valid_until=None)

    assert out["updated"] is True and out["password_rotated"] is False
    assert out["changed"] == ["comment", "connection_limit", "in_roles", "login", "valid_until"]
    alice, bob = _roles(admin_api, namespace)
    assert (alice["login"], alice["connectionLimit"], alice["inRoles"]) == (False, 3, ["pg_read_all_data"])
    assert "comment" not in alice and "validUntil" not in alice
    assert alice["passwordSecret"] == {"name": "alice-pw"}
    assert bob == bob_before


def test_update_dry_run_changes_nothing(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, roles=[{"name": "alice", "login": True}])

    out = tools.ok("role_update", cluster="pg", namespace=namespace, name="alice", superuser=True, dry_run=True)

    assert out["dry_run"] is True and out["role"]["superuser"] is True
    assert "superuser" not in _roles(admin_api, namespace)[0]


def test_rotate_password_replaces_it_in_the_secret_this_server_created(
    tools: ToolCaller, admin_api, namespace: str, cluster
) -> None:
    tools.ok("role_create", cluster="pg", namespace=namespace, name="alice")
    first = _password(admin_api, namespace, "pg-role-alice")

    preview = tools.ok("role_update", cluster="pg", namespace=namespace, name="alice", rotate_password=True,
                       dry_run=True)
    unchanged = _password(admin_api, namespace, "pg-role-alice")
    result = tools("role_update", cluster="pg", namespace=namespace, name="alice", rotate_password=True)
    second = _password(admin_api, namespace, "pg-role-alice")

    assert preview["dry_run"] is True and unchanged == first
    assert result["isError"] is False and result["structuredContent"]["password_rotated"] is True
    assert result["structuredContent"]["password_secret"] == "pg-role-alice"
    assert second != first and second not in json.dumps(result)
    secret = kubernetes.client.CoreV1Api(admin_api).read_namespaced_secret("pg-role-alice", namespace)
    assert secret.metadata.labels["cnpg.io/reload"] == "true"
    assert base64.b64decode(secret.data["username"]).decode() == "alice"


def test_rotate_password_recreates_its_own_secret_if_someone_deleted_it(
    tools: ToolCaller, admin_api, namespace: str, cluster
) -> None:
    tools.ok("role_create", cluster="pg", namespace=namespace, name="alice")
    kubernetes.client.CoreV1Api(admin_api).delete_namespaced_secret("pg-role-alice", namespace)

    tools.ok("role_update", cluster="pg", namespace=namespace, name="alice", rotate_password=True)

    assert _password(admin_api, namespace, "pg-role-alice")
    assert _roles(admin_api, namespace)[0]["passwordSecret"] == {"name": "pg-role-alice"}


def test_rotate_password_of_a_role_without_one_creates_its_secret(
    tools: ToolCaller, admin_api, namespace: str, cluster
) -> None:
    tools.ok("role_create", cluster="pg", namespace=namespace, name="alice", password="none")

    out = tools.ok("role_update", cluster="pg", namespace=namespace, name="alice", rotate_password=True)

    [alice] = _roles(admin_api, namespace)
    assert out["password_secret"] == "pg-role-alice"
    assert alice["passwordSecret"] == {"name": "pg-role-alice"} and "disablePassword" not in alice
    assert _recorded(admin_api, namespace) == ["pg-role-alice"]
    assert _password(admin_api, namespace, "pg-role-alice")


def test_rotate_password_refuses_a_secret_it_did_not_create(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, roles=[{"name": "alice", "passwordSecret": {"name": "team-pw"}}])
    kubernetes.client.CoreV1Api(admin_api).create_namespaced_secret(
        namespace, {"metadata": {"name": "team-pw"}, "stringData": {"password": "theirs"}})

    message = tools.error("role_update", cluster="pg", namespace=namespace, name="alice", rotate_password=True)

    assert "Secret 'team-pw', which this server did not create" in message
    assert _password(admin_api, namespace, "team-pw") == "theirs"


def test_update_errors_name_the_problem(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, roles=[{"name": "alice"}, {"name": "gone", "ensure": "absent"}])

    nothing = tools.error("role_update", cluster="pg", namespace=namespace, name="alice")
    unknown = tools.error("role_update", cluster="pg", namespace=namespace, name="alcie", login=True)
    absent = tools.error("role_update", cluster="pg", namespace=namespace, name="gone", login=True)

    assert nothing.startswith("Nothing to change")
    assert unknown == "Role 'alcie' is not managed by cluster 'pg'; roles declared: alice, gone"
    assert "marked absent" in absent


# --- role_delete ---------------------------------------------------------------


def test_delete_needs_the_role_name_repeated(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, roles=[{"name": "alice"}])

    message = tools.error("role_delete", cluster="pg", namespace=namespace, name="alice", confirm="pg")

    assert message == "To delete role 'alice', repeat 'alice' exactly in confirm"
    assert _roles(admin_api, namespace)[0].get("ensure", "present") == "present"


def test_delete_marks_the_role_absent_and_removes_its_secret(
    tools: ToolCaller, admin_api, namespace: str, cluster
) -> None:
    tools.ok("role_create", cluster="pg", namespace=namespace, name="alice")
    tools.ok("role_create", cluster="pg", namespace=namespace, name="bob", password="none")

    preview = tools.ok("role_delete", cluster="pg", namespace=namespace, name="alice", confirm="alice", dry_run=True)
    after_preview = (_roles(admin_api, namespace)[0]["ensure"], _secret_names(admin_api, namespace))
    out = tools.ok("role_delete", cluster="pg", namespace=namespace, name="alice", confirm="alice")
    again = tools.ok("role_delete", cluster="pg", namespace=namespace, name="alice", confirm="alice")

    assert preview["dry_run"] is True and preview["changed"] is False
    assert after_preview == ("present", {"pg-role-alice"})
    assert (out["changed"], out["mode"], out["password_secret_deleted"]) == (True, "drop", "pg-role-alice")
    assert "drops it" in out["note"]
    alice, bob = _roles(admin_api, namespace)
    assert alice["ensure"] == "absent" and "passwordSecret" not in alice
    assert bob["ensure"] == "present"
    assert _secret_names(admin_api, namespace) == set() and _recorded(admin_api, namespace) == []
    assert again["changed"] is False and "already" in again["note"]


def test_delete_remove_from_spec_unlists_the_role_and_says_it_is_not_dropped(
    tools: ToolCaller, admin_api, namespace: str, cluster
) -> None:
    tools.ok("role_create", cluster="pg", namespace=namespace, name="alice")
    first = _password(admin_api, namespace, "pg-role-alice")

    out = tools.ok("role_delete", cluster="pg", namespace=namespace, name="alice", confirm="alice",
                   remove_from_spec=True)
    listed_after = _roles(admin_api, namespace)
    recreated = tools.ok("role_create", cluster="pg", namespace=namespace, name="alice")

    assert out["mode"] == "remove_from_spec" and out["password_secret_deleted"] is None
    assert "IGNORES" in out["note"] and "NOT dropped" in out["note"] and "pg-role-alice" in out["note"]
    assert listed_after == []
    # The kept secret is ours, so creating the role again reuses it with a fresh password.
    assert recreated["password_secret"] == "pg-role-alice"
    assert _password(admin_api, namespace, "pg-role-alice") != first
    assert _recorded(admin_api, namespace) == ["pg-role-alice"]


def test_delete_of_an_unknown_role_names_those_declared(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, roles=[{"name": "alice"}])

    message = tools.error("role_delete", cluster="pg", namespace=namespace, name="bob", confirm="bob")

    assert message == "Role 'bob' is not managed by cluster 'pg'; roles declared: alice"


# --- server modes --------------------------------------------------------------


@pytest.mark.parametrize("tool", sorted(MUTATING))
def test_read_only_mode_hides_the_mutating_role_tools(kubeconfig: Path, namespace: str, tool: str) -> None:
    client = create_app(Settings.from_env({"KUBECONFIG": str(kubeconfig), "MCP_READ_ONLY": "true"})).test_client()
    listed = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).get_json()
    called = client.post("/mcp", json={
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": tool, "arguments": {"cluster": "pg", "namespace": namespace, **MUTATING[tool]}},
    }).get_json()

    names = [t["name"] for t in listed["result"]["tools"]]
    assert "role_list" in names and tool not in names
    assert called["error"]["code"] == -32602 and "Unknown tool" in called["error"]["message"]


@pytest.mark.parametrize("tool", ["role_list", *sorted(MUTATING)])
def test_namespace_allowlist_refuses_other_namespaces(kubeconfig: Path, admin_api, namespace: str, tool: str) -> None:
    _make_cluster(admin_api, namespace, roles=[{"name": "alice"}])
    limited = tool_caller(kubeconfig, MCP_NAMESPACES="other")

    message = limited.error(tool, cluster="pg", namespace=namespace, **MUTATING.get(tool, {}))

    assert message == f"Namespace {namespace!r} is not served by this server; allowed: other"
    assert _roles(admin_api, namespace) == [{"name": "alice", "connectionLimit": -1, "ensure": "present",
                                             "inherit": True}]
