"""Render the README's tools table from the registry, so the docs cannot drift.

`python tools/tools_table.py` rewrites the table between the markers in README.md;
tests/test_readme.py fails when the committed table is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.tools.catalog import all_tools  # noqa: E402

BEGIN, END = "<!-- tools-table:begin -->", "<!-- tools-table:end -->"


def render() -> str:
    rows = ["| Tool | What it does | Kind |", "|---|---|---|"]
    for spec in all_tools():
        kind = "read-only" if spec.hints.read_only else ("destructive" if spec.hints.destructive else "writes")
        rows.append(f"| `{spec.name}` | {spec.description.split('. ')[0].rstrip('.')}. | {kind} |")
    return "\n".join(rows)


def updated(readme: str) -> str:
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{render()}\n{END}{tail}"


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(updated(path.read_text()))
