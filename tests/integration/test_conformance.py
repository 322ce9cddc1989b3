"""The official conformance suite (@modelcontextprotocol/conformance) against real gunicorn.

Runs every server scenario of both protocol generations (2025-11-25 and 2026-07-28; not the
`[extension]` ones) against gunicorn serving tests/support/conformance_app.py: the product's real
tools, resources and prompts (backed by the local control plane, with a seeded `conformance/pg-demo`
cluster) plus the suite's own fixtures, served through the product's dispatch. The baseline lists
only checks a stateless, JSON-only server cannot pass by design, each with the specification's
reason. Each scenario's summary line is printed (pytest -s shows it).
"""

from __future__ import annotations

import re
import secrets
import subprocess
from collections.abc import Iterator

import pytest
import yaml

from devenv.controlplane import LocalControlPlane
from devenv.demo import seed_demo
from tests.support.node import node_env, package_bin
from tests.support.processes import ROOT, GunicornServer

BASELINE = ROOT / "tests" / "conformance" / "expected-failures.yml"

HANDSHAKE = "2025-11-25"
STATELESS = "2026-07-28"
# `conformance list --server --spec-version V` of @modelcontextprotocol/conformance 0.2.0-alpha.12.
_HANDSHAKE_SCENARIOS = [
    "server-initialize", "server-session-lifecycle", "logging-set-level", "ping", "completion-complete",
    "tools-list", "tools-call-simple-text", "tools-call-image", "tools-call-audio", "tools-call-embedded-resource",
    "tools-call-mixed-content", "tools-call-with-logging", "tools-call-error", "tools-call-with-progress",
    "tools-call-sampling", "tools-call-elicitation", "json-schema-2020-12", "elicitation-sep1034-defaults",
    "server-sse-polling", "server-sse-multiple-streams", "elicitation-sep1330-enums", "resources-list",
    "resources-read-text", "resources-read-binary", "resources-templates-read", "resources-subscribe",
    "resources-unsubscribe", "prompts-list", "prompts-get-simple", "prompts-get-with-args",
    "prompts-get-embedded-resource", "prompts-get-with-image", "dns-rebinding-protection",
]
_STATELESS_SCENARIOS = [
    "server-stateless", "completion-complete", "tools-list", "tools-call-simple-text", "tools-call-image",
    "tools-call-audio", "tools-call-embedded-resource", "tools-call-mixed-content", "tools-call-error",
    "tools-call-with-progress", "json-schema-2020-12", "server-sse-multiple-streams", "resources-list",
    "resources-read-text", "resources-read-binary", "resources-templates-read", "sep-2164-resource-not-found",
    "prompts-list", "prompts-get-simple", "prompts-get-with-args", "prompts-get-embedded-resource",
    "prompts-get-with-image", "dns-rebinding-protection", "caching", "http-header-validation",
    # The product's tools annotate `namespace` (and `context`) with x-mcp-header: the suite checks the
    # Mcp-Param-* validation on them (Base64 sentinel, mismatch, a missing header).
    "http-custom-header-server-validation",
    "input-required-result-basic-elicitation", "input-required-result-basic-sampling",
    "input-required-result-basic-list-roots", "input-required-result-request-state",
    "input-required-result-multiple-input-requests", "input-required-result-multi-round",
    "input-required-result-missing-input-response", "input-required-result-non-tool-request",
    "input-required-result-result-type", "input-required-result-unsupported-methods",
    "input-required-result-tampered-state", "input-required-result-capability-check",
    "input-required-result-ignore-extra-params", "input-required-result-validate-input",
]
SCENARIOS = [(HANDSHAKE, s) for s in _HANDSHAKE_SCENARIOS] + [(STATELESS, s) for s in _STATELESS_SCENARIOS]

# Scenarios that report 0 checks here: the session lifecycle is skipped for a server without sessions,
# and the 2025-11-25 SSE scenarios only warn (baselined) that there is no session, then find JSON answers.
_NO_CHECKS = {"server-session-lifecycle", "server-sse-polling", "server-sse-multiple-streams"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PASSED = re.compile(r"Passed: (\d+)/(\d+), (\d+) failed")


def _baselined(scenario: str) -> int:
    """How many checks of `scenario` the baseline lists (the suite keys entries by scenario, not version)."""
    entries = yaml.safe_load(BASELINE.read_text())["server"]
    return sum(1 for entry in entries if entry.split(":", 1)[0] == scenario)


@pytest.fixture(scope="module")
def conformance_server(controlplane: LocalControlPlane,
                       tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    """gunicorn (2 workers) serving the product plus the suite's fixtures, as the control plane's admin.
    The workers share one request-state key, as replicas would."""
    kubeconfig = controlplane.write_kubeconfig(tmp_path_factory.mktemp("conformance") / "admin.yaml", user="admin")
    seed_demo(controlplane.api_client("admin"), namespace="conformance")
    with GunicornServer("tests.support.conformance_app:app", KUBECONFIG=str(kubeconfig),
                        MCP_REQUEST_STATE_KEY=secrets.token_urlsafe(32)) as running:
        yield running


@pytest.mark.parametrize(("spec_version", "scenario"), SCENARIOS, ids=[f"{v}:{s}" for v, s in SCENARIOS])
def test_conformance_scenario_passes(conformance_server: GunicornServer, spec_version: str, scenario: str) -> None:
    command = package_bin("@modelcontextprotocol/conformance") + [
        "server",
        "--url",
        conformance_server.mcp_url,
        "--scenario",
        scenario,
        "--spec-version",
        spec_version,
        "--expected-failures",
        str(BASELINE),
        # Per-scenario budget for a busy 2-core machine (the suite's default is far shorter).
        "--timeout",
        "120000",
    ]
    run = subprocess.run(command, capture_output=True, text=True, env=node_env(), timeout=300, cwd=ROOT)
    output = _ANSI.sub("", run.stdout + run.stderr)
    summary = _PASSED.findall(output)
    print(f"conformance {spec_version} {scenario}: " + "; ".join(f"Passed: {p}/{t}, {f} failed" for p, t, f in summary))

    # Non-zero when a check fails that the baseline does not list, or a listed one passes (stale entry).
    assert run.returncode == 0, output[-4000:]
    assert summary, f"no summary line in the suite's output:\n{output[-2000:]}"
    passed, total, failed = (int(x) for x in summary[-1])
    assert total > 0 or scenario in _NO_CHECKS
    # Only the baselined checks may fail, and they must (the suite reports a stale entry otherwise).
    assert failed <= _baselined(scenario), output[-4000:]
    assert passed + failed <= total
