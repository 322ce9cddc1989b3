"""gunicorn with the shipped config: bad settings stop the start with one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.processes import ROOT, clean_env, free_port


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    env.setdefault("GUNICORN_BIND", f"127.0.0.1:{free_port()}")
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=clean_env(**env), capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"MCP_MAX_BODY_BYTES": "lots"}, "MCP_MAX_BODY_BYTES"),
        ({"GUNICORN_WORKERS": "0"}, "GUNICORN_WORKERS"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
        ({"GUNICORN_BIND": "0.0.0.0:3000"}, "GUNICORN_BIND"),
        ({"OIDC_ISSUER": "https://idp.example.com"}, "OIDC_AUDIENCE"),
        ({"OIDC_ISSUER": "https://idp.example.com", "OIDC_AUDIENCE": "mcp", "DCR_PROXY_BACKEND": "upstream"},
         "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN"),
    ],
)
def test_gunicorn_refuses_to_start_with_one_line_naming_the_bad_variable(env: dict[str, str], variable: str) -> None:
    run = _start(**env)

    assert run.returncode == 2
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"cnpg-mcp-server: configuration error: {variable}: expected")
    assert "Traceback" not in run.stderr + run.stdout
