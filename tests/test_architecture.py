"""Imports flow one way: web → protocol → tools → kube. Parsed from the source, not imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"

# Which app packages each layer may import (besides itself and the leaf modules settings/logs/identity/metrics/
# redirect_uris).
ALLOWED = {
    "web": {"protocol", "tools", "kube", "auth"},
    "protocol": {"tools"},
    "tools": {"kube"},
    "kube": set(),
    "auth": set(),
}
LEAVES = {"settings", "logs", "identity", "metrics", "redirect_uris"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules() -> list[Path]:
    return sorted(APP.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(APP.parent)))
def test_module_imports_only_downward(path: Path) -> None:
    relative = path.relative_to(APP)
    layer = relative.parts[0] if len(relative.parts) > 1 else None
    imports = _imports(path)

    if layer != "kube":
        assert not {n for n in imports if n == "kubernetes" or n.startswith("kubernetes.")}, (
            "only app/kube may import the kubernetes client"
        )
    if layer in ("protocol", "tools", "kube", "auth"):
        assert not {n for n in imports if n == "flask" or n.startswith(("flask.", "werkzeug"))}, (
            f"app/{layer} must not know Flask"
        )
    assert not {n for n in imports if n.split(".")[0] in ("devenv", "tests")}, (
        "app/ must not depend on dev or test tooling (devenv/, tests/)"
    )
    if layer in ALLOWED:
        for name in imports:
            parts = name.split(".")
            if parts[0] != "app" or len(parts) < 2 or parts[1] in LEAVES or parts[1] == layer:
                continue
            assert parts[1] in ALLOWED[layer], f"app/{layer} imports {name}: against web → protocol → tools → kube"


def test_every_layer_exists_so_the_rules_above_are_not_vacuous() -> None:
    assert {p.relative_to(APP).parts[0] for p in _modules() if len(p.relative_to(APP).parts) > 1} >= set(ALLOWED)


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaf_modules_import_only_other_leaves(leaf: str) -> None:
    """Any layer may import a leaf, so a leaf importing a layer would make a cycle (settings → auth → settings)."""
    imports = _imports(APP / f"{leaf}.py")

    layers = {name.split(".")[1] for name in imports if name.startswith("app.") and name.count(".") >= 1}
    assert layers <= LEAVES, f"app/{leaf}.py imports {layers - LEAVES}"


def test_the_app_never_loads_the_generated_core_v1_client(tmp_path: Path) -> None:
    # app.kube.core reaches core/v1 through the ApiClient: CoreV1Api would load every core model
    # class (~21 MiB per process) that this server, reading raw JSON, never builds.
    import subprocess
    import sys

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
    )
    probe = (
        "import sys, app; from app.identity import ANONYMOUS; from app.kube import KubeContexts; "
        "from app.settings import Settings; "
        f"KubeContexts(Settings.from_env({{'KUBECONFIG': {str(kubeconfig)!r}}})).session(ANONYMOUS).core(); "
        "print('kubernetes.client.api.core_v1_api' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=APP.parent, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize("path", sorted((APP / "tools").glob("*.py")), ids=lambda p: p.name)
def test_tools_never_build_clients_or_pass_identities(path: Path) -> None:
    """"Which cluster, as whom" is the KubeSession the request came with (app/kube/session.py):
    a tool that built its own client, session or identity would be a second, unchecked path."""
    tree = ast.parse(path.read_text(), str(path))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
              for alias in node.names}
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    called = {node.func.id for node in calls if isinstance(node.func, ast.Name)}
    keywords = {kw.arg for node in calls for kw in node.keywords}

    assert not names & {"KubeAccess", "Identity", "caller_identity"}
    assert not called & {"KubeSession", "KubeContexts"}  # naming the type in an annotation is fine
    assert not attributes & {"api_client", "access", "_call"}
    assert "identity" not in keywords
