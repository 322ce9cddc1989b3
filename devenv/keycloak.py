"""A real Keycloak for tests: the pinned distribution from Maven Central (tools/keycloak/fetch.sh),
in development mode on http://127.0.0.1:<port> with an in-memory database, and the realm of
devenv/keycloak/realm-cnpg-mcp.json (the seed guide's Keycloak set-up: an API client `mcp-api`, an
audience mapper putting it into `aud`, mcp:read/write/admin scopes, a confidential client for client
credentials) created through the admin API with secrets made for this run.

    with LocalKeycloak() as keycloak:
        token = keycloak.client_credentials_token()
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from devenv import cleanup
from devenv.process import LocalServer, ManagedProcess, free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]
FETCH = ROOT / "tools" / "keycloak" / "fetch.sh"
REALM_FILE = Path(__file__).resolve().parent / "keycloak" / "realm-cnpg-mcp.json"
REALM = "cnpg-mcp"
AUDIENCE = "mcp-api"  # the seed guide's OIDC_AUDIENCE for Keycloak
CI_CLIENT, NO_AUDIENCE_CLIENT = "cnpg-mcp-ci", "no-audience"


def keycloak_script() -> Path:
    """bin/kc.sh of the pinned distribution, fetched into the cache on first use."""
    completed = subprocess.run([str(FETCH)], capture_output=True, text=True, timeout=900, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"tools/keycloak/fetch.sh failed ({completed.returncode}): {completed.stderr.strip()}")
    return Path(completed.stdout.strip().splitlines()[-1])


class LocalKeycloak(LocalServer):
    """Keycloak in dev mode; `with LocalKeycloak() as keycloak:` starts it and removes it on exit.
    Attributes: port, issuer, secrets (client id → secret), timings ("start": to a ready realm)."""

    def __init__(self, start_timeout: float = 300.0, verbose: bool = True) -> None:
        self._start_timeout = start_timeout
        self._verbose = verbose
        self.port = 0
        self.secrets: dict[str, str] = {}
        self.timings: dict[str, float] = {}
        self._admin_password = secrets.token_urlsafe(24)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{REALM}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    def start(self) -> LocalKeycloak:
        """Start once. Unlike the other local servers, a stopped Keycloak does not come back: its
        realm lives in the in-memory database (stop() is an outage until close())."""
        if self.workdir is not None:
            raise RuntimeError("LocalKeycloak starts once; make a new one after close()")
        began = time.monotonic()
        kc = keycloak_script()
        self.workdir = Path(tempfile.mkdtemp(prefix="cnpg-mcp-keycloak-"))
        self._cleanup_key = cleanup.register(self.close)
        try:
            self.port = free_port()
            argv = [str(kc), "start-dev", "--db=dev-mem", "--http-host=127.0.0.1", f"--http-port={self.port}",
                    f"--http-management-port={free_port()}", "--hostname-strict=false", "--log-level=WARN"]
            env = {"KC_BOOTSTRAP_ADMIN_USERNAME": "admin", "KC_BOOTSTRAP_ADMIN_PASSWORD": self._admin_password,
                   # The JVM's own temporary files stay in our directory, removed with it.
                   "JAVA_OPTS_APPEND": f"-Djava.io.tmpdir={self.workdir}"}
            self._proc = ManagedProcess("keycloak", argv, self.workdir / "keycloak.log", env=env, cwd=self.workdir)
            self._proc.start()
            wait_until(lambda: requests.get(f"{self.base_url}/realms/master", timeout=2).ok, self._start_timeout,
                       "Keycloak's master realm", self._proc)
            self._create_realm()
        except BaseException as exc:
            logs = self._proc.log_tail() if self._proc else ""
            self.close()
            if isinstance(exc, Exception):
                raise RuntimeError(f"Keycloak failed to start: {exc}\n{logs}") from exc
            raise
        self.timings["start"] = time.monotonic() - began
        if self._verbose:
            print(f"Keycloak ready at {self.issuer} in {self.timings['start']:.1f}s", file=sys.stderr)
        return self

    def _create_realm(self) -> None:
        self.secrets = {client: secrets.token_urlsafe(24) for client in (AUDIENCE, CI_CLIENT, NO_AUDIENCE_CLIENT)}
        text = REALM_FILE.read_text()
        for client, placeholder in ((AUDIENCE, "API_CLIENT_SECRET"), (CI_CLIENT, "CI_CLIENT_SECRET"),
                                    (NO_AUDIENCE_CLIENT, "NO_AUDIENCE_CLIENT_SECRET")):
            text = text.replace("${" + placeholder + "}", self.secrets[client])
        self._admin("POST", "/admin/realms", json.loads(text))

    def _admin(self, method: str, path: str, body: Any = None) -> requests.Response:
        """A call to Keycloak's admin REST API as the bootstrap admin of this run."""
        login = requests.post(f"{self.base_url}/realms/master/protocol/openid-connect/token", timeout=30, data={
            "grant_type": "password", "client_id": "admin-cli", "username": "admin",
            "password": self._admin_password})
        login.raise_for_status()
        answer = requests.request(method, f"{self.base_url}{path}", json=body, timeout=60,
                                  headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        if not answer.ok:
            raise RuntimeError(f"Keycloak admin {method} {path}: {answer.status_code} {answer.text[:500]}")
        return answer

    def initial_access_token(self, count: int = 1, expiration_seconds: int = 600) -> str:
        """A token for `count` client registrations (Keycloak: Clients → Client registration →
        Initial access token), as the DCR proxy's `upstream` backend is given."""
        created = self._admin("POST", f"/admin/realms/{REALM}/clients-initial-access",
                              {"count": count, "expiration": expiration_seconds})
        return str(created.json()["token"])

    def client(self, client_id: str) -> dict[str, Any] | None:
        """The realm's client `client_id` as the admin API shows it, or None."""
        found = self._admin("GET", f"/admin/realms/{REALM}/clients?clientId={client_id}").json()
        return found[0] if found else None

    def rotate_keys(self) -> None:
        """Add an RS256 key with a higher priority than the realm's: Keycloak signs new tokens with
        it (a new `kid`) and publishes both keys, as a rotation in the admin console does."""
        realm_id = self._admin("GET", f"/admin/realms/{REALM}").json()["id"]
        self._admin("POST", f"/admin/realms/{REALM}/components", {
            "name": f"rotated-{secrets.token_hex(4)}", "providerId": "rsa-generated",
            "providerType": "org.keycloak.keys.KeyProvider", "parentId": realm_id,
            "config": {"priority": ["1000"], "keySize": ["2048"], "algorithm": ["RS256"]}})

    def client_credentials_token(self, client: str = CI_CLIENT, scope: str | None = None) -> str:
        data = {"grant_type": "client_credentials", "client_id": client, "client_secret": self.secrets[client]}
        if scope:
            data["scope"] = scope
        answer = requests.post(self.token_endpoint, data=data, timeout=30)
        if answer.status_code != 200:
            raise RuntimeError(f"token for {client}: {answer.status_code} {answer.text[:300]}")
        return str(answer.json()["access_token"])

    def discovery(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10).json())
