"""Render the tools tables from the registry, so the docs cannot drift: every tool in docs/tools.md,
and the tools of each group (MCP_TOOLSETS) in the README.

`python tools/tools_table.py` rewrites the tables between their markers; tests/test_readme.py fails
when a committed table is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.settings import TOOLSETS  # noqa: E402
from app.tools.catalog import all_tools, tools_in  # noqa: E402

BEGIN, END = "<!-- tools-table:begin -->", "<!-- tools-table:end -->"
GROUPS_BEGIN, GROUPS_END = "<!-- toolsets-table:begin -->", "<!-- toolsets-table:end -->"
TOOLS_PAGE, README = ROOT / "docs" / "tools.md", ROOT / "README.md"


def render() -> str:
    rows = ["| Tool | What it does | Kind |", "|---|---|---|"]
    for spec in all_tools():
        kind = "read-only" if spec.hints.read_only else ("destructive" if spec.hints.destructive else "writes")
        rows.append(f"| `{spec.name}` | {spec.description.split('. ')[0].rstrip('.')}. | {kind} |")
    return "\n".join(rows)


def render_groups() -> str:
    rows = ["| Group (`MCP_TOOLSETS`) | Tools |", "|---|---|"]
    for group in TOOLSETS:
        rows.append(f"| `{group}` | " + ", ".join(f"`{spec.name}`" for spec in tools_in((group,))) + " |")
    return "\n".join(rows)


def _between(text: str, begin: str, end: str, table: str) -> str:
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{table}\n{end}{tail}"


def updated(page: str) -> str:
    """docs/tools.md with a current table of every tool."""
    return _between(page, BEGIN, END, render())


def updated_readme(readme: str) -> str:
    """README.md with a current table of the tool groups."""
    return _between(readme, GROUPS_BEGIN, GROUPS_END, render_groups())


if __name__ == "__main__":
    TOOLS_PAGE.write_text(updated(TOOLS_PAGE.read_text()))
    README.write_text(updated_readme(README.read_text()))
