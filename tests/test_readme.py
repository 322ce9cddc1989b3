"""The README's tools table is generated from the registry and must be current."""

from __future__ import annotations

from tests.support.processes import ROOT
from tools.tools_table import updated


def test_readme_tools_table_matches_the_registry() -> None:
    readme = (ROOT / "README.md").read_text()

    assert updated(readme) == readme, "run: python tools/tools_table.py"
