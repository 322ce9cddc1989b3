"""Several kubeconfig contexts: the settings, their check against the kubeconfig, and the tools'
`context` argument. Against two real control planes: tests/integration/test_contexts.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.kube import ContextNotServed, KubeContexts, NamespaceNotServed, cnpg
from app.settings import Settings, SettingsError
from app.tools.catalog import all_tools
from app.tools.registry import Registry
from tests.support.tools import tool_context

KUBECONFIG = """apiVersion: v1
kind: Config
current-context: staging
clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]
users: [{name: u, user: {token: t}}]
contexts:
- {name: staging, context: {cluster: k, user: u}}
- {name: prod, context: {cluster: k, user: u}}
- {name: lab, context: {cluster: k, user: u}}
"""


@pytest.fixture
def kubeconfig(tmp_path: Path) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    return str(path)


def _settings(kubeconfig: str, **env: str) -> Settings:
    return Settings.from_env({"KUBECONFIG": kubeconfig, "KUBE_CONTEXTS": "staging,prod", **env})


def test_context_settings_parse_per_context_limits(kubeconfig: str) -> None:
    settings = _settings(kubeconfig, MCP_READ_ONLY_CONTEXTS="prod", MCP_CONTEXT_NAMESPACES="prod=db,app;staging=db")
    contexts = KubeContexts(settings)

    assert contexts.names == ["staging", "prod"]
    assert contexts.default.name == "staging"  # the kubeconfig's current context
    assert [(p.name, p.read_only, p.namespaces) for p in contexts.policies] == [
        ("staging", False, ("db",)), ("prod", True, ("db", "app"))]


@pytest.mark.parametrize(("env", "message"), [
    ({"KUBE_CONTEXTS": "staging,*"}, "either '*'"),
    ({"MCP_CONTEXT_NAMESPACES": "prod"}, "context=namespace"),
    ({"MCP_CONTEXT_NAMESPACES": "prod=Not_A_Namespace"}, "DNS-1123"),
    ({"KUBE_CONTEXTS": "", "MCP_READ_ONLY_CONTEXTS": "prod"}, "KUBE_CONTEXTS"),
])
def test_bad_context_settings_are_refused_with_the_setting_named(kubeconfig: str, env: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        _settings(kubeconfig, **env)


def test_with_several_files_the_first_current_context_is_the_default_as_with_kubectl(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(KUBECONFIG.replace("current-context: staging", "current-context: prod"))
    second.write_text(KUBECONFIG.replace("current-context: staging", "current-context: lab")
                      .replace("{name: k,", "{name: k2,"))
    contexts = KubeContexts(_settings(f"{first}:{second}"))

    assert contexts.default.name == "prod"


def test_a_context_missing_from_the_kubeconfig_fails_the_start(kubeconfig: str) -> None:
    with pytest.raises(SettingsError, match="it has: staging, prod, lab"):
        KubeContexts(_settings(kubeconfig, KUBE_CONTEXTS="staging,typo"))
    with pytest.raises(SettingsError, match="missing: lab"):
        KubeContexts(_settings(kubeconfig, MCP_READ_ONLY_CONTEXTS="lab"))


def test_every_tool_offers_the_contexts_and_mutating_ones_only_the_writable(kubeconfig: str) -> None:
    contexts = KubeContexts(_settings(kubeconfig, MCP_READ_ONLY_CONTEXTS="prod"))
    registry = Registry(all_tools(), contexts.policies, contexts.default.name)
    wire = {tool["name"]: tool for tool in registry.wire_tools()}

    assert wire["cluster_get"]["inputSchema"]["properties"]["context"]["enum"] == ["staging", "prod"]
    assert wire["cluster_scale"]["inputSchema"]["properties"]["context"]["enum"] == ["staging"]
    assert "all_contexts" in wire["cluster_list"]["inputSchema"]["properties"]
    assert "context" in wire["cluster_get"]["outputSchema"]["properties"]


def test_single_cluster_mode_adds_no_context_argument() -> None:
    wire = Registry(all_tools(), KubeContexts(Settings()).policies).wire_tools()
    assert not [tool["name"] for tool in wire if "context" in tool["inputSchema"]["properties"]]


def test_a_context_not_served_or_read_only_is_refused_before_any_call(kubeconfig: str) -> None:
    settings = _settings(kubeconfig, MCP_READ_ONLY_CONTEXTS="prod")
    contexts = KubeContexts(settings)
    registry = Registry(all_tools(), contexts.policies, contexts.default.name)
    ctx = tool_context(settings)

    unknown = registry.call("cluster_get", {"name": "pg", "namespace": "db", "context": "lab"}, ctx)
    read_only = registry.call("cluster_scale", {"name": "pg", "namespace": "db", "instances": 2, "context": "prod"},
                              ctx)

    # Nothing listens at 127.0.0.1:1: reaching the API would have been a connection error instead.
    assert unknown["content"][0]["text"] == "Context 'lab' is not served by this server; allowed: staging, prod"
    assert read_only["content"][0]["text"] == (
        "Context 'prod' is read-only: cluster_scale would change it; writable contexts: staging")


def test_the_session_refuses_a_namespace_its_context_does_not_serve(kubeconfig: str) -> None:
    session = tool_context(_settings(kubeconfig, MCP_CONTEXT_NAMESPACES="prod=db")).kube

    with pytest.raises(NamespaceNotServed, match="Namespace 'other' is not served by this server in context 'prod'"):
        session.in_context("prod").get(cnpg.CLUSTER, "other", "pg")
    with pytest.raises(ContextNotServed):
        session.in_context("lab")
