"""The README and docs/ stay true: generated tables are current, every relative link and anchor
resolves, the commands shown exist, and every JSON snippet parses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.processes import ROOT
from tools.tools_table import README, TOOLS_PAGE, updated, updated_readme

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def test_the_tools_tables_match_the_registry() -> None:
    page, readme = TOOLS_PAGE.read_text(), README.read_text()

    assert updated(page) == page, "run: python tools/tools_table.py"
    assert updated_readme(readme) == readme, "run: python tools/tools_table.py"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text())
    return {_slug(line.lstrip("#")) for line in text.splitlines() if re.match(r"^#{1,6} ", line)}


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken = []
    for target in _LINK.findall(_FENCE.sub("", page.read_text())):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto: not checked here
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page.relative_to(ROOT)}: " + ", ".join(broken)


def test_the_make_commands_the_readme_shows_exist() -> None:
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))
    shown = set(re.findall(r"`?make ([a-z][\w-]*)", README.read_text()))

    assert {"run", "test", "stdio"} <= shown
    assert shown <= targets, f"README names make targets that do not exist: {sorted(shown - targets)}"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_json_snippet_parses(page: Path) -> None:
    for language, body in _FENCE.findall(page.read_text()):
        if language == "json":
            json.loads(body)


def test_every_setting_is_documented() -> None:
    """Each environment variable app/settings.py reads appears in docs/configuration.md (OIDC and
    registration details may live in docs/oidc.md, which configuration.md links)."""
    source = (ROOT / "app" / "settings.py").read_text()
    names = set(re.findall(r'env(?:\.get\(|, )"([A-Z][A-Z0-9_]+)"', source))
    documented = (ROOT / "docs" / "configuration.md").read_text() + (ROOT / "docs" / "oidc.md").read_text()

    assert len(names) > 40
    missing = sorted(name for name in names if name not in documented)
    assert not missing, f"settings not documented in docs/configuration.md: {missing}"
