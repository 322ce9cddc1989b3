"""Invariants of the product's tool catalog, checked on every declared tool."""

from __future__ import annotations

import pytest

from app.tools.catalog import all_tools
from app.tools.registry import Registry
from app.tools.spec import ToolSpec

TOOLS = all_tools()


def test_the_catalog_builds_a_registry_without_duplicates() -> None:
    assert Registry(TOOLS).names == [spec.name for spec in TOOLS]


@pytest.mark.parametrize("spec", [s for s in TOOLS if s.hints.destructive], ids=lambda s: s.name)
def test_every_destructive_tool_requires_a_confirmation(spec: ToolSpec) -> None:
    assert "confirm" in spec.input_schema.get("required", []), spec.name


@pytest.mark.parametrize("spec", [s for s in TOOLS if not s.hints.read_only], ids=lambda s: s.name)
def test_every_mutating_tool_offers_a_server_side_dry_run(spec: ToolSpec) -> None:
    assert spec.input_schema["properties"].get("dry_run", {}).get("type") == "boolean", spec.name


@pytest.mark.parametrize("spec", TOOLS, ids=lambda s: s.name)
def test_every_tool_takes_a_namespace_so_the_allowlist_applies(spec: ToolSpec) -> None:
    assert "namespace" in spec.input_schema["properties"], spec.name
