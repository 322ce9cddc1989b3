"""A real Keycloak for tests: the pinned distribution from Maven Central (tools/keycloak/fetch.sh),
in development mode on https://127.0.0.1:<port> (a certificate from a CA made for this run: clients
trust `ca_file`) with an in-memory database, and the realm of
devenv/keycloak/realm-cnpg-mcp.json (the seed guide's Keycloak set-up: an API client `mcp-api`, an
audience mapper putting it into `aud`, mcp:read/write/admin scopes, a confidential client for client
credentials) created through the admin API with secrets made for this run.

    with LocalKeycloak() as keycloak:
        token = keycloak.client_credentials_token()
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from devenv import cleanup, pki
from devenv.browser import log_in
from devenv.process import LocalServer, ManagedProcess, free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]
FETCH = ROOT / "tools" / "keycloak" / "fetch.sh"
REALM_FILE = Path(__file__).resolve().parent / "keycloak" / "realm-cnpg-mcp.json"
REALM = "cnpg-mcp"
AUDIENCE = "mcp-api"  # the seed guide's OIDC_AUDIENCE for Keycloak
CI_CLIENT, NO_AUDIENCE_CLIENT = "cnpg-mcp-ci", "no-audience"
LOGIN_CLIENT = "cnpg-mcp-login"  # public, authorization code + PKCE
KUBERNETES_AUDIENCE = "kubernetes"  # what mcp-api asks for when it exchanges a caller's token
USERS = {"alice": "dba", "bob": "viewers"}  # realm users and their group
LOOPBACK_REDIRECT = "http://127.0.0.1:8976/callback"  # never listened on: the login stops at the redirect


def keycloak_script() -> Path:
    """bin/kc.sh of the pinned distribution, fetched into the cache on first use."""
    completed = subprocess.run([str(FETCH)], capture_output=True, text=True, timeout=900, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"tools/keycloak/fetch.sh failed ({completed.returncode}): {completed.stderr.strip()}")
    return Path(completed.stdout.strip().splitlines()[-1])


class LocalKeycloak(LocalServer):
    """Keycloak in dev mode; `with LocalKeycloak() as keycloak:` starts it and removes it on exit.
    Attributes: port, issuer, ca_file (the CA that signed its HTTPS certificate), secrets (client id →
    secret), passwords (user → password), timings ("start": to a ready realm)."""

    def __init__(self, start_timeout: float = 300.0, verbose: bool = True) -> None:
        self._start_timeout = start_timeout
        self._verbose = verbose
        self.port = 0
        self.secrets: dict[str, str] = {}
        self.passwords: dict[str, str] = {}
        self.ca_file: Path | None = None
        self.http = requests.Session()
        """Requests to this Keycloak, verifying its certificate against `ca_file`."""
        # Otherwise REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the environment silently replace
        # `verify` (requests prefers them to a Session's own), and a proxy could be picked up.
        self.http.trust_env = False
        self.timings: dict[str, float] = {}
        self._admin_password = secrets.token_urlsafe(24)

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

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
            cert, key = self._write_certificate()
            # HTTPS only (the API server trusts an issuer over HTTPS only), bound to loopback (--http-host is
            # the address of both); the management interface
            # (health, metrics) stays off: nothing here reads it.
            # --http-port too: with HTTP disabled Keycloak still binds it (8080 by default, which would
            # clash with a second Keycloak or anything else there).
            argv = [str(kc), "start-dev", "--db=dev-mem", "--http-enabled=false", "--http-host=127.0.0.1",
                    f"--http-port={free_port()}", f"--https-port={self.port}", f"--https-certificate-file={cert}",
                    f"--https-certificate-key-file={key}", f"--http-management-port={free_port()}",
                    "--hostname-strict=false", "--log-level=WARN"]
            env = {"KC_BOOTSTRAP_ADMIN_USERNAME": "admin", "KC_BOOTSTRAP_ADMIN_PASSWORD": self._admin_password,
                   # The JVM's own temporary files stay in our directory, removed with it.
                   "JAVA_OPTS_APPEND": f"-Djava.io.tmpdir={self.workdir}"}
            self._proc = ManagedProcess("keycloak", argv, self.workdir / "keycloak.log", env=env, cwd=self.workdir)
            self._proc.start()
            wait_until(lambda: self.http.get(f"{self.base_url}/realms/master", timeout=2).ok,
                       self._start_timeout,
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

    def _write_certificate(self) -> tuple[Path, Path]:
        """A CA for this run and Keycloak's serving certificate for 127.0.0.1 and localhost."""
        assert self.workdir is not None
        ca = pki.make_ca("cnpg-mcp keycloak test CA")
        serving = pki.issue(ca, "keycloak", server=True, dns_names=("localhost",), ips=("127.0.0.1",))
        self.ca_file = self.workdir / "ca.crt"
        self.ca_file.write_bytes(ca.cert_pem)
        self.http.verify = str(self.ca_file)
        cert, key = self.workdir / "tls.crt", self.workdir / "tls.key"
        serving.write(cert, key)
        return cert, key

    def _create_realm(self) -> None:
        self.secrets = {client: secrets.token_urlsafe(24) for client in (AUDIENCE, CI_CLIENT, NO_AUDIENCE_CLIENT)}
        text = REALM_FILE.read_text()
        for client, placeholder in ((AUDIENCE, "API_CLIENT_SECRET"), (CI_CLIENT, "CI_CLIENT_SECRET"),
                                    (NO_AUDIENCE_CLIENT, "NO_AUDIENCE_CLIENT_SECRET")):
            text = text.replace("${" + placeholder + "}", self.secrets[client])
        self.passwords = {user: secrets.token_urlsafe(18) for user in USERS}
        for user, password in self.passwords.items():
            text = text.replace("${" + user.upper() + "_PASSWORD}", password)
        self._admin("POST", "/admin/realms", json.loads(text))

    def _admin(self, method: str, path: str, body: Any = None) -> requests.Response:
        """A call to Keycloak's admin REST API as the bootstrap admin of this run."""
        login = self.http.post(f"{self.base_url}/realms/master/protocol/openid-connect/token", timeout=30, data={
            "grant_type": "password", "client_id": "admin-cli", "username": "admin",
            "password": self._admin_password})
        login.raise_for_status()
        answer = self.http.request(method, f"{self.base_url}{path}", json=body, timeout=60,
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
        answer = self.http.post(self.token_endpoint, data=data, timeout=30)
        if answer.status_code != 200:
            raise RuntimeError(f"token for {client}: {answer.status_code} {answer.text[:300]}")
        return str(answer.json()["access_token"])

    def authorize(self, authorization_url: str, redirect_uri: str, username: str = "alice",
                  timeout: float = 30.0) -> str:
        """Log in as a person would, over plain HTTP: follow Keycloak's redirects, submit its login
        form with `username`'s password, and stop at the redirect to `redirect_uri`, which is
        returned (with `code` and `state`) and not followed.

        Raises:
            RuntimeError: Keycloak answered something else (an error page, a second form).
        """
        with requests.Session() as browser:
            browser.verify, browser.trust_env = self.http.verify, False
            # One form only: a second one (e.g. "update your account") would mean the realm's users are incomplete.
            return log_in(browser, authorization_url, redirect_uri, timeout=timeout, max_forms=1,
                          fill=lambda fields: {**fields, "username": username, "password": self.passwords[username]})

    def user_token(self, username: str = "alice", scope: str = "openid") -> str:
        """An access token of `username`, as an MCP client gets one: authorization code with PKCE
        (S256) at the public client, the login form submitted over HTTP."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(16)
        query = urlencode({"response_type": "code", "client_id": LOGIN_CLIENT, "redirect_uri": LOOPBACK_REDIRECT,
                           "scope": scope, "state": state, "code_challenge": challenge,
                           "code_challenge_method": "S256"})
        redirected = parse_qs(urlsplit(self.authorize(f"{self.issuer}/protocol/openid-connect/auth?{query}",
                                                      LOOPBACK_REDIRECT, username)).query)
        if redirected.get("state") != [state] or "code" not in redirected:
            raise RuntimeError(f"unexpected redirect parameters: {sorted(redirected)}")
        answer = self.http.post(self.token_endpoint, timeout=30, data={
            "grant_type": "authorization_code", "client_id": LOGIN_CLIENT, "code": redirected["code"][0],
            "redirect_uri": LOOPBACK_REDIRECT, "code_verifier": verifier})
        if answer.status_code != 200:
            raise RuntimeError(f"code exchange for {username}: {answer.status_code} {answer.text[:300]}")
        return str(answer.json()["access_token"])

    def exchange(self, subject_token: str, audience: str = KUBERNETES_AUDIENCE) -> requests.Response:
        """What the MCP server does in KUBE_AUTH=exchange (RFC 8693 at mcp-api), for tests to compare."""
        return self.http.post(self.token_endpoint, timeout=30, data={
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange", "client_id": AUDIENCE,
            "client_secret": self.secrets[AUDIENCE], "subject_token": subject_token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:access_token", "audience": audience})

    def logout(self, username: str) -> None:
        """End every session of `username` (admin console: Users → Sessions → Sign out): tokens
        already issued still verify by signature, but Keycloak no longer exchanges them."""
        found = self._admin("GET", f"/admin/realms/{REALM}/users?username={username}&exact=true").json()
        self._admin("POST", f"/admin/realms/{REALM}/users/{found[0]['id']}/logout")

    def apiserver_authentication(self, prefix: str = "keycloak:") -> dict[str, Any]:
        """kube-apiserver's --authentication-config trusting this realm for the `kubernetes` audience:
        users are `<prefix><preferred_username>`, groups `<prefix><group>` (as docs/oidc.md shows)."""
        assert self.ca_file is not None
        return {
            "apiVersion": "apiserver.config.k8s.io/v1", "kind": "AuthenticationConfiguration",
            "jwt": [{
                "issuer": {"url": self.issuer, "audiences": [KUBERNETES_AUDIENCE],
                           "certificateAuthority": self.ca_file.read_text()},
                "claimMappings": {"username": {"claim": "preferred_username", "prefix": prefix},
                                  "groups": {"claim": "groups", "prefix": prefix}},
            }],
        }

    def discovery(self) -> dict[str, Any]:
        return dict(self.http.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10).json())
