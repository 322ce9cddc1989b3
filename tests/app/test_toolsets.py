"""MCP_TOOLSETS: the tool groups a server serves, and what the catalogue costs every client.

The catalogue (the `tools/list` answer) is sent to the model in every session, so its size is
watched here: a budget per served set, in bytes of the JSON answer. The budgets are today's sizes
with a little headroom, so an addition that bloats descriptions or schemas is a visible decision.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from mcp_types.jsonrpc import INVALID_PARAMS

from app import create_app
from app.settings import TOOLSETS, Settings, SettingsError
from app.tools.catalog import TOOLSET_TOOLS, all_tools, tools_in


def _client(**env: str) -> FlaskClient:
    return create_app(Settings.from_env({"LOG_LEVEL": "WARNING", **env})).test_client()


def _rpc(client: FlaskClient, method: str, params: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    response = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}})
    return response.status_code, response.get_json()


def _tool_names(client: FlaskClient) -> list[str]:
    return [t["name"] for t in _rpc(client, "tools/list")[1]["result"]["tools"]]


def test_the_groups_partition_the_catalogue() -> None:
    grouped = [spec.name for group in TOOLSETS for spec in TOOLSET_TOOLS[group]]

    assert sorted(grouped) == sorted(spec.name for spec in all_tools())
    assert len(grouped) == len(set(grouped))
    assert [s.name for s in tools_in(("backups",))] == [
        "backup_list", "backup_create", "backup_delete", "scheduled_backup_list", "scheduled_backup_create",
        "scheduled_backup_suspend", "scheduled_backup_resume", "scheduled_backup_delete", "cluster_restore"]


def test_only_the_chosen_groups_are_listed_and_callable() -> None:
    client = _client(MCP_TOOLSETS="observability, clusters")
    status, outside = _rpc(client, "tools/call", {"name": "role_list", "arguments": {"namespace": "db"}})

    assert _tool_names(client) == [s.name for s in (*TOOLSET_TOOLS["clusters"], *TOOLSET_TOOLS["observability"])]
    assert status == 200 and outside["error"]["code"] == INVALID_PARAMS
    assert "Unknown tool: 'role_list'" in outside["error"]["message"]


def test_by_default_every_group_is_served() -> None:
    assert Settings.from_env({}).toolsets == TOOLSETS
    assert _tool_names(_client()) == [s.name for s in all_tools()]


def test_toolsets_combine_with_read_only_mode() -> None:
    names = _tool_names(_client(MCP_TOOLSETS="clusters,poolers", MCP_READ_ONLY="true"))

    assert names == ["cluster_list", "cluster_get", "pooler_list"]


@pytest.mark.parametrize("value", ["clusters,backup,poolerz", "*"])
def test_an_unknown_group_fails_the_start_naming_the_groups(value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"MCP_TOOLSETS": value})

    unknown = ",".join(v for v in value.split(",") if v not in TOOLSETS)
    assert str(refused.value) == ("MCP_TOOLSETS: expected comma-separated tool groups of: clusters, observability, "
                                  f"operations, roles, databases, backups, poolers, got {unknown!r}")


def test_prompts_need_the_cluster_tools_they_read() -> None:
    with_clusters, without = _client(MCP_TOOLSETS="clusters"), _client(MCP_TOOLSETS="roles")
    _, refused = _rpc(without, "prompts/get", {"name": "troubleshoot_cluster",
                                               "arguments": {"namespace": "db", "name": "pg"}})

    assert [p["name"] for p in _rpc(with_clusters, "prompts/list")[1]["result"]["prompts"]] == [
        "troubleshoot_cluster", "plan_major_upgrade"]
    assert _rpc(without, "prompts/list")[1]["result"]["prompts"] == []
    assert refused["error"]["code"] == INVALID_PARAMS
    assert refused["error"]["message"] == (
        "Unknown prompt: 'troubleshoot_cluster'. Available prompts: none (every prompt reads the cluster "
        "with cluster_get, which MCP_TOOLSETS leaves out here)")


# Bytes of the handshake-era tools/list answer. (Issue 15 sets 40 KB for all tools and 15 KB for a
# read-only default set as targets; these budgets only stop growth until the catalogue is compacted.)
CATALOGUE_BUDGETS = [  # measured 2026-12-07: 85,942 / 23,235 / 22,084 / 11,831
    ({}, 88_000),
    ({"MCP_READ_ONLY": "true"}, 24_000),
    ({"MCP_TOOLSETS": "clusters,observability"}, 23_000),
    ({"MCP_TOOLSETS": "clusters,observability", "MCP_READ_ONLY": "true"}, 12_500),
]


@pytest.mark.parametrize(("env", "budget"), CATALOGUE_BUDGETS)
def test_the_catalogue_stays_within_its_budget(env: dict[str, str], budget: int) -> None:
    size = len(_client(**env).post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).get_data())
    print(f"tools/list with {env or 'defaults'}: {size:,} bytes (budget {budget:,})")
    assert size <= budget
