"""docs/clients.md kept honest: every JSON block parses and has its client's shape, and the set-ups that
have a command-line client (mcp-remote, the Python and TypeScript SDKs, the Inspector CLI, the stdio
command) run against real gunicorn, with authentication on (tokens from the local IdP) and off.

Each checked block in the doc is preceded by `<!-- check: NAME -->`; the tests find blocks by that name.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import requests
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from app.tools.catalog import all_tools
from devenv.idp import CLIENT_SECRETS, LocalIdP
from tests.support.node import NODE, clients_dir, node_env, package_bin
from tests.support.processes import ROOT, GunicornServer, clean_env, free_port

DOC = ROOT / "docs" / "clients.md"
PACKAGE_JSON = ROOT / "tests" / "clients" / "node" / "package.json"
LOCAL_URL = "http://127.0.0.1:3000/mcp"
REMOTE_URL = "https://cnpg-mcp.example.com/mcp"
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
TIMEOUT = 240  # seconds for one client process on a busy 2-core machine


def _blocks() -> list[tuple[str | None, str, str]]:
    """(check name or None, language, body) of every fenced block in docs/clients.md, in order."""
    text = DOC.read_text()
    found = re.finditer(r"(?:<!-- check: ([\w-]+) -->\n)?```(\w*)\n(.*?)\n```", text, re.S)
    return [(m.group(1), m.group(2), m.group(3)) for m in found]


def _block(name: str) -> tuple[str, str]:
    matches = [(lang, body) for check, lang, body in _blocks() if check == name]
    assert len(matches) == 1, f"docs/clients.md needs exactly one block marked <!-- check: {name} -->"
    return matches[0]


def _json(name: str) -> dict[str, Any]:
    lang, body = _block(name)
    assert lang == "json"
    return json.loads(body)


def _pinned(package: str) -> str:
    return json.loads(PACKAGE_JSON.read_text())["dependencies"][package]


def _product_tools() -> list[str]:
    return [spec.name for spec in all_tools()]


# ----- servers ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def open_server() -> Iterator[GunicornServer]:
    """The product app (wsgi:app) without authentication, like `make run` (tools/list needs no cluster)."""
    with GunicornServer("wsgi:app") as server:
        yield server


@pytest.fixture(scope="module")
def auth_server(idp_factory: Callable[..., LocalIdP]) -> Iterator[tuple[GunicornServer, LocalIdP]]:
    """The product app with authentication on. The port is chosen first so the IdP issues tokens whose
    audience is the server's own /mcp URL: mcp-remote's OAuth asks for resource=<that URL> (RFC 8707)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    idp = idp_factory([url])
    with GunicornServer("wsgi:app", port=port, OIDC_ISSUER=idp.issuer, OIDC_AUDIENCE=url, LOG_LEVEL="INFO",
                        AUTH_FAILURE_LIMIT="1000/minute") as server:
        yield server, idp


def _token(auth: tuple[GunicornServer, LocalIdP]) -> str:
    server, idp = auth
    return idp.token("mcp-client", scope="openid", resource=server.mcp_url)


def _statuses(server: GunicornServer) -> list[tuple[str, str, int]]:
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    return [(e["method"], e["path"], e["status"]) for e in lines if e.get("event") == "http_request"]


# ----- every JSON block parses and has its client's shape ----------------------------------------------


def test_every_json_block_is_a_complete_json_document_and_every_marker_names_one_block() -> None:
    blocks = _blocks()
    json_blocks = [body for _, lang, body in blocks if lang == "json"]
    assert len(json_blocks) >= 9
    for body in json_blocks:
        assert isinstance(json.loads(body), dict), body
    names = [check for check, _, _ in blocks if check]
    assert len(names) == len(set(names)), names
    # Every marker sits directly on a block (a marker the regex did not attach would be lost silently).
    assert DOC.read_text().count("<!-- check:") == len(names)


def test_vscode_blocks_use_type_http_and_a_password_input_for_the_token() -> None:
    local = _json("vscode-local")["servers"]["cnpg"]
    assert local == {"type": "http", "url": LOCAL_URL}

    config = _json("vscode-token")
    server = config["servers"]["cnpg"]
    assert server["type"] == "http" and server["url"] == REMOTE_URL
    reference = re.fullmatch(r"Bearer \$\{input:([\w-]+)\}", server["headers"]["Authorization"])
    assert reference, server["headers"]
    inputs = {entry["id"]: entry for entry in config["inputs"]}
    assert inputs[reference.group(1)]["type"] == "promptString"
    assert inputs[reference.group(1)]["password"] is True


def test_cursor_and_claude_code_blocks_name_the_url_and_an_environment_token() -> None:
    assert _json("cursor-local") == {"mcpServers": {"cnpg": {"url": LOCAL_URL}}}
    cursor = _json("cursor-token")["mcpServers"]["cnpg"]
    assert cursor == {"url": REMOTE_URL, "headers": {"Authorization": "Bearer ${env:CNPG_MCP_TOKEN}"}}
    claude_code = _json("claude-code-project")["mcpServers"]["cnpg"]
    assert claude_code == {"type": "http", "url": REMOTE_URL,
                           "headers": {"Authorization": "Bearer ${CNPG_MCP_TOKEN}"}}


def test_claude_code_commands_add_an_http_server_with_and_without_a_header() -> None:
    local = shlex.split(_block("claude-code-local")[1])
    assert local == ["claude", "mcp", "add", "--transport", "http", "cnpg", LOCAL_URL]
    with_token = shlex.split(_block("claude-code-token")[1])
    assert with_token == ["claude", "mcp", "add", "--transport", "http", "cnpg", REMOTE_URL,
                          "--header", "Authorization: Bearer $CNPG_MCP_TOKEN"]
    stdio = shlex.split(_block("claude-code-stdio")[1])
    assert stdio[:3] == ["claude", "mcp", "add"] and stdio[stdio.index("--") + 1:][-2:] == ["-m", "app.stdio"]


@pytest.mark.parametrize("name", ["mcp-remote-token", "mcp-remote-oauth", "mcp-remote-client-credentials"])
def test_claude_desktop_mcp_remote_blocks_run_the_pinned_mcp_remote(name: str) -> None:
    server = _json(name)["mcpServers"]["cnpg"]
    assert server["command"] == "npx"
    assert server["args"][:3] == ["-y", f"mcp-remote@{_pinned('mcp-remote')}", REMOTE_URL]
    assert all(isinstance(arg, str) for arg in server["args"])
    if name == "mcp-remote-token":
        # No space in the argument (some clients split at spaces); the value, with its space, is in env.
        assert server["args"][3:] == ["--header", "Authorization:${AUTH_HEADER}"]
        assert server["env"]["AUTH_HEADER"].startswith("Bearer ")
    if name == "mcp-remote-client-credentials":
        info = json.loads(server["args"][server["args"].index("--static-oauth-client-info") + 1])
        assert info["client_secret"] == "${MCP_CLIENT_SECRET}" and "MCP_CLIENT_SECRET" in server["env"]


def test_the_pinned_versions_in_the_doc_are_the_ones_the_tests_install() -> None:
    text = DOC.read_text()
    assert set(re.findall(r"@modelcontextprotocol/inspector@([\w.-]+)", text)) == {
        _pinned("@modelcontextprotocol/inspector")}
    assert set(re.findall(r"mcp-remote@([\w.-]+)", text)) == {_pinned("mcp-remote")}
    assert f"`@modelcontextprotocol/sdk` {_pinned('@modelcontextprotocol/sdk')}" in text
    assert f"`mcp` package ({version('mcp')}" in text


# ----- the headers of the configs the tests cannot run are accepted by a real authenticated server -----


def test_the_documented_headers_are_accepted_by_an_authenticated_server(
    auth_server: tuple[GunicornServer, LocalIdP],
) -> None:
    server, _ = auth_server
    token = _token(auth_server)
    values = {
        "vscode": _json("vscode-token")["servers"]["cnpg"]["headers"]["Authorization"]
        .replace("${input:cnpg-token}", token),
        "cursor": _json("cursor-token")["mcpServers"]["cnpg"]["headers"]["Authorization"]
        .replace("${env:CNPG_MCP_TOKEN}", token),
        "claude-code .mcp.json": _json("claude-code-project")["mcpServers"]["cnpg"]["headers"]["Authorization"]
        .replace("${CNPG_MCP_TOKEN}", token),
    }
    name, _, value = shlex.split(_block("claude-code-token")[1])[-1].partition(": ")
    assert name == "Authorization"
    values["claude mcp add --header"] = value.replace("$CNPG_MCP_TOKEN", token)
    for client, value in values.items():
        response = requests.post(server.mcp_url, json=LIST, headers={"Authorization": value}, timeout=30)
        assert response.status_code == 200, (client, response.status_code, response.text[:300])
        assert [tool["name"] for tool in response.json()["result"]["tools"]] == _product_tools(), client
    assert requests.post(server.mcp_url, json=LIST, timeout=30).status_code == 401


# ----- mcp-remote (Claude Desktop's bridge) runs against the authenticated server ----------------------


def _mcp_remote_params(name: str, url: str, config_dir: Path, **env: str) -> StdioServerParameters:
    """The doc's Claude Desktop entry, with `npx -y mcp-remote@<pin>` replaced by the pinned install and
    the example URL by the test server's; `env` overrides the doc's placeholder values."""
    server = _json(name)["mcpServers"]["cnpg"]
    args = [url if arg == REMOTE_URL else arg for arg in server["args"][2:]]
    command = package_bin("mcp-remote", "mcp-remote")
    environment = {**node_env(), **server.get("env", {}), **env, "MCP_REMOTE_CONFIG_DIR": str(config_dir)}
    return StdioServerParameters(command=command[0], args=[*command[1:], *args], env=environment)


async def _list_tools(params: StdioServerParameters) -> list[str]:
    async with Client(params, mode="legacy", read_timeout_seconds=TIMEOUT) as client:
        return [tool.name for tool in (await client.list_tools()).tools]


def _run(coroutine: Any) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coroutine, TIMEOUT)
    return asyncio.run(bounded())


def test_mcp_remote_with_the_documented_bearer_header_lists_the_tools_over_stdio(
    auth_server: tuple[GunicornServer, LocalIdP], tmp_path: Path,
) -> None:
    server, _ = auth_server
    params = _mcp_remote_params("mcp-remote-token", server.mcp_url, tmp_path / "mcp-auth",
                                AUTH_HEADER=f"Bearer {_token(auth_server)}")
    # mcp-remote itself expands ${AUTH_HEADER} in the argument: no shell is involved here.
    assert "Authorization:${AUTH_HEADER}" in params.args

    assert _run(_list_tools(params)) == _product_tools()


def test_mcp_remote_without_a_token_is_refused_and_stops(
    auth_server: tuple[GunicornServer, LocalIdP], tmp_path: Path,
) -> None:
    """The OAuth form against a server whose IdP offers no registration (and no /register proxy): the
    401 sends mcp-remote to OAuth, which cannot register a client, so it exits instead of waiting for a
    browser."""
    server, _ = auth_server
    params = _mcp_remote_params("mcp-remote-oauth", server.mcp_url, tmp_path / "mcp-auth")
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}}
    run = subprocess.run([params.command, *params.args], input=json.dumps(initialize) + "\n", env=params.env,
                         capture_output=True, text=True, timeout=TIMEOUT)

    assert run.returncode != 0, run.stdout[-2000:]
    assert "does not support dynamic client registration" in run.stderr, run.stderr[-3000:]
    assert '"result"' not in run.stdout
    assert ("POST", "/mcp", 401) in _statuses(server)


def test_mcp_remote_client_credentials_gets_its_own_token_and_lists_the_tools(
    auth_server: tuple[GunicornServer, LocalIdP], tmp_path: Path,
) -> None:
    server, _ = auth_server
    params = _mcp_remote_params("mcp-remote-client-credentials", server.mcp_url, tmp_path / "mcp-auth",
                                MCP_CLIENT_SECRET=CLIENT_SECRETS["mcp-client"])
    params.args = [arg.replace("<client id>", "mcp-client") for arg in params.args]

    assert _run(_list_tools(params)) == _product_tools()
    stored = list((tmp_path / "mcp-auth").rglob("*_tokens.json"))
    assert stored, "mcp-remote stores its tokens in MCP_REMOTE_CONFIG_DIR, not in ~/.mcp-auth"


# ----- the stdio command (Claude Desktop, local cluster) ------------------------------------------------


def test_the_documented_stdio_command_serves_the_product_tools_from_any_directory(tmp_path: Path) -> None:
    server = _json("claude-desktop-stdio")["mcpServers"]["cnpg"]
    assert server["command"] == "/path/to/repo/.venv/bin/python" and server["args"] == ["-m", "app.stdio"]
    env = clean_env(**{key: value.replace("/path/to/repo", str(ROOT)) for key, value in server["env"].items()})
    env.pop("PYTHONSAFEPATH", None)
    params = StdioServerParameters(command=sys.executable, args=server["args"], cwd=str(tmp_path), env=env)

    assert _run(_list_tools(params)) == _product_tools()


# ----- the SDK snippets, run as written ---------------------------------------------------------------


def _python_snippet(tmp_path: Path, url: str, token: str | None) -> subprocess.CompletedProcess[str]:
    lang, body = _block("python-sdk")
    assert lang == "python"
    script = tmp_path / "snippet.py"
    script.write_text(body + "\n")
    env = clean_env(CNPG_MCP_URL=url)
    env.pop("CNPG_MCP_TOKEN", None)
    if token:
        env["CNPG_MCP_TOKEN"] = token
    return subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)


def _typescript_snippet(tmp_path: Path, url: str, token: str | None) -> subprocess.CompletedProcess[str]:
    lang, body = _block("typescript-sdk")
    assert lang == "js"
    # ES modules resolve packages from the script's folder upwards: link the pinned install beside it.
    (tmp_path / "node_modules").symlink_to(clients_dir() / "node_modules")
    script = tmp_path / "snippet.mjs"
    script.write_text(body + "\n")
    env = {**node_env(), "CNPG_MCP_URL": url}
    env.pop("CNPG_MCP_TOKEN", None)
    if token:
        env["CNPG_MCP_TOKEN"] = token
    return subprocess.run([NODE, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)


def _printed_tools(run: subprocess.CompletedProcess[str]) -> list[str]:
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1].replace("'", '"'))


@pytest.mark.parametrize("snippet", [_python_snippet, _typescript_snippet], ids=["python", "typescript"])
def test_the_sdk_snippet_lists_tools_without_auth_and_with_a_token(
    snippet: Callable[..., subprocess.CompletedProcess[str]], open_server: GunicornServer,
    auth_server: tuple[GunicornServer, LocalIdP], tmp_path: Path,
) -> None:
    for folder in ("open", "token", "none"):
        (tmp_path / folder).mkdir()
    assert _printed_tools(snippet(tmp_path / "open", open_server.mcp_url, None)) == _product_tools()
    assert _printed_tools(snippet(tmp_path / "token", auth_server[0].mcp_url, _token(auth_server))) == (
        _product_tools())

    # Without a token (and without an OAuth provider) the server's 401 ends the script with an error.
    refusals = _statuses(auth_server[0]).count(("POST", "/mcp", 401))
    refused = snippet(tmp_path / "none", auth_server[0].mcp_url, None)
    assert refused.returncode != 0 and refused.stdout.strip() == "", refused.stdout[-2000:]
    assert _statuses(auth_server[0]).count(("POST", "/mcp", 401)) > refusals


# ----- the Inspector CLI commands, run as written -------------------------------------------------------


def _inspector_command(name: str, url: str, token: str | None = None) -> list[str]:
    lang, body = _block(name)
    assert lang == "bash"
    words = shlex.split(body)
    assert words[:2] == ["npx", f"@modelcontextprotocol/inspector@{_pinned('@modelcontextprotocol/inspector')}"]
    words = [url if word in (LOCAL_URL, REMOTE_URL) else word for word in words[2:]]
    if token is not None:
        words = [word.replace("$CNPG_MCP_TOKEN", token) for word in words]
    return package_bin("@modelcontextprotocol/inspector", "mcp-inspector") + words + ["--format", "json"]


def test_the_inspector_cli_commands_list_the_tools(
    open_server: GunicornServer, auth_server: tuple[GunicornServer, LocalIdP],
) -> None:
    local = subprocess.run(_inspector_command("inspector-local", open_server.mcp_url), capture_output=True,
                           text=True, env=node_env(), timeout=TIMEOUT)
    assert local.returncode == 0, local.stderr[-3000:]
    assert [tool["name"] for tool in json.loads(local.stdout)["result"]["tools"]] == _product_tools()

    command = _inspector_command("inspector-token", auth_server[0].mcp_url, _token(auth_server))
    with_token = subprocess.run(command, capture_output=True, text=True, env=node_env(), timeout=TIMEOUT)
    assert with_token.returncode == 0, with_token.stderr[-3000:]
    assert [tool["name"] for tool in json.loads(with_token.stdout)["result"]["tools"]] == _product_tools()
