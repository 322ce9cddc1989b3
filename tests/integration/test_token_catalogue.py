"""The malformed and malicious bearer-token catalogue (docs: shared notes auth.md §3), against the
real app with a real identity provider (node oidc-provider, devenv/idp.py).

Every case POSTs `tools/list` to /mcp and states the exact status and the message family of
`error_description`. Claim variants are signed with the IdP's own key and kid (`idp.mint`), so
only the property under test differs from a token the IdP would issue. Whatever a case sends,
the answer is never a 500, never carries a traceback, and never echoes the token (neither in
the body nor in the log). 401 and 403 carry an RFC 6750 `WWW-Authenticate: Bearer` challenge.

The JWKS endpoint failures use a fresh app whose OIDC_JWKS_URI points at a fault-injecting
test double (tests/support/jwks_faults.py); key rotation uses a private IdP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask.testing import FlaskClient
from jwt.algorithms import RSAAlgorithm, get_default_algorithms
from werkzeug.test import TestResponse

from app import create_app
from app.settings import Settings
from devenv.idp import LocalIdP
from devenv.process import free_port
from tests.integration.conftest import IDP_RESOURCE
from tests.support.jwks_faults import FaultyJWKSServer

TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}

# Message families of `error_description` (exact text, or the text followed by ": <detail>").
MISSING = "Missing Authorization header"
FORMAT = "Invalid Authorization header format. Expected 'Bearer <token>'"
ISSUER = "Invalid issuer"
AUDIENCE = "Invalid audience"
FAILED = "Token verification failed"
SCOPE = "Insufficient scope"
IN_QUERY = "Tokens are accepted only in the Authorization header"
# The RFC 6750 error code each family answers with (invalid_token unless listed).
ERROR_CODE = {SCOPE: "insufficient_scope", IN_QUERY: "invalid_request"}

DROP = object()
"""A claim or header value meaning "leave this member out"."""

ATTACKER_KID = "attacker-1"


def base_settings(idp: LocalIdP, **extra: str) -> dict[str, str]:
    """Token cache off (each case is really verified), a failure limit that never interferes."""
    return {
        "OIDC_ISSUER": idp.issuer,
        "OIDC_AUDIENCE": IDP_RESOURCE,
        "OIDC_LEEWAY_SECONDS": "30",
        "OIDC_TOKEN_CACHE_SIZE": "0",
        "AUTH_FAILURE_LIMIT": "100000/minute",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def make_client(idp: LocalIdP, log: io.StringIO, **extra: str) -> FlaskClient:
    return create_app(Settings.from_env(base_settings(idp, **extra)), log_stream=log).test_client()


def b64url(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _without_dropped(members: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in members.items() if value is not DROP}


# ----- what a case sends ------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """What one request carries: its Authorization header values, a query string, and the token
    itself (`secret`), which no response or log line may echo."""

    authorization: tuple[str, ...] = ()
    query: str = ""
    secret: str = ""


def bearer(token: str, scheme: str = "Bearer") -> Sent:
    return Sent((f"{scheme} {token}",), secret=token)


def post_mcp(client: FlaskClient, sent: Sent) -> TestResponse:
    headers = [("Authorization", value) for value in sent.authorization]
    return client.post("/mcp" + sent.query, json=TOOLS_LIST, headers=headers)


class Forge:
    """Makes the catalogue's tokens. Signs with the IdP's own key and kid unless a case says otherwise."""

    def __init__(self, idp: LocalIdP, attacker_rsa: rsa.RSAPrivateKey, attacker_ec: ec.EllipticCurvePrivateKey,
                 attacker_jwks: FaultyJWKSServer) -> None:
        self.idp = idp
        self.attacker_rsa = attacker_rsa
        self.attacker_ec = attacker_ec
        self.attacker_jwks = attacker_jwks
        self.now = int(time.time())

    @property
    def rsa_kid(self) -> str:
        return self.idp.signing_key("RS256").key_id

    @property
    def ec_kid(self) -> str:
        return self.idp.signing_key("ES256").key_id

    @property
    def rsa_public(self) -> rsa.RSAPublicKey:
        return self.idp.signing_key("RS256").key.public_key()

    def claims(self, **changes: Any) -> dict[str, Any]:
        """What oidc-provider puts in an access token for us, with `changes` (DROP removes a claim)."""
        base = {
            "iss": self.idp.issuer, "aud": IDP_RESOURCE, "sub": "catalogue-client", "client_id": "mcp-client",
            "scope": "openid", "iat": self.now, "exp": self.now + 300, "jti": uuid.uuid4().hex,
        }
        return _without_dropped({**base, **changes})

    def mint(self, alg: str = "RS256", headers: dict[str, Any] | None = None, **changes: Any) -> str:
        """The IdP's own key and kid, claims changed as given (PyJWT's encoder: well-typed claims only)."""
        return self.idp.mint(self.claims(**changes), alg, headers)

    def header(self, alg: Any = "RS256", **changes: Any) -> dict[str, Any]:
        kid = self.ec_kid if alg == "ES256" else self.rsa_kid
        return _without_dropped({"alg": alg, "typ": "at+jwt", "kid": kid, **changes})

    def sign(self, header: dict[str, Any] | bytes, payload: dict[str, Any] | bytes, *,
             alg: str = "RS256", key: Any = None) -> str:
        """A compact JWS assembled by hand, for headers and claims PyJWT's encoder refuses to write.

        `alg` chooses how to sign (independent of what the header claims); the key defaults to
        the IdP's own key for that algorithm family.
        """
        header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode()
        payload_bytes = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        signing_input = f"{b64url(header_bytes)}.{b64url(payload_bytes)}".encode()
        if alg == "none":
            signature = b""
        elif alg == "HS256":
            signature = hmac.new(key, signing_input, hashlib.sha256).digest()
        else:
            if key is None:
                key = self.idp.signing_key("ES256" if alg.startswith("ES") else "RS256").key
            signature = get_default_algorithms()[alg].sign(signing_input, key)
        return f"{signing_input.decode()}.{b64url(signature)}"

    def with_header_bytes(self, header: bytes) -> str:
        """A real IdP-signed token whose header segment is replaced (so its signature no longer fits)."""
        _, payload, signature = self.mint().split(".")
        return f"{b64url(header)}.{payload}.{signature}"


def segments(token: str) -> list[str]:
    return token.split(".")


def tampered_payload(f: Forge) -> str:
    header, _, signature = segments(f.mint())
    return f"{header}.{b64url(json.dumps(f.claims(scope='openid cnpg:admin')))}.{signature}"


def non_ascii(f: Forge) -> str:
    token = f.mint()
    return token[:20] + "é" + token[20:]


def attacker_rsa_jwk(f: Forge, kid: str) -> dict[str, Any]:
    jwk = RSAAlgorithm.to_jwk(f.attacker_rsa.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def rsa_public_pem(f: Forge) -> bytes:
    return f.rsa_public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def rsa_modulus(f: Forge) -> bytes:
    n = f.rsa_public.public_numbers().n
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


# ----- the catalogue ----------------------------------------------------------------------

Build = Callable[[Forge], "Sent | str"]


def case(case_id: str, build: Build, status: int, message: str | None = None) -> Any:
    """One row: what to send (a token string means `Authorization: Bearer <token>`), the exact
    status, and for 401/403 the message family of error_description."""
    return pytest.param(build, status, message, id=case_id)


CATALOGUE = [
    # --- format: the Authorization header and the compact serialization --------------------
    case("format-empty-token", lambda f: Sent(("Bearer ",)), 401, FORMAT),
    case("format-scheme-only", lambda f: Sent(("Bearer",)), 401, FORMAT),
    case("format-two-spaces", lambda f: (lambda t: Sent((f"Bearer  {t}",), secret=t))(f.mint()), 401, FORMAT),
    case("format-one-segment", lambda f: "abc", 401, FAILED),
    case("format-two-segments", lambda f: ".".join(segments(f.mint())[:2]), 401, FAILED),
    case("format-five-segments-jwe-shape", lambda f: f.mint() + ".AAAA.BBBB", 401, FAILED),
    case("format-header-not-base64url", lambda f: "e%yJ!*." + ".".join(segments(f.mint())[1:]), 401, FAILED),
    case("format-padded-signature-accepted", lambda f: f.mint() + "==", 200),
    case("format-padded-header", lambda f: "{}=.{}.{}".format(*segments(f.mint())), 401, FAILED),
    case("format-header-not-json", lambda f: f.with_header_bytes(b"not json at all"), 401, FAILED),
    case("format-header-json-array", lambda f: f.sign(b'["RS256", "at+jwt"]', f.claims()), 401, FAILED),
    case("format-payload-json-string", lambda f: f.sign(f.header(), b'"just a string"'), 401, FAILED),
    case("format-header-nested-2500-deep",
         lambda f: f.sign(b'{"alg":"RS256","kid":"' + f.rsa_kid.encode() + b'","x":' + b"[" * 2500 + b"]" * 2500 + b"}",
                          f.claims()), 401, FAILED),
    case("format-payload-nested-2500-deep",
         lambda f: f.sign(f.header(), b'{"x":' + b"[" * 2500 + b"]" * 2500 + b"}"), 401, FAILED),
    case("format-100kb-token", lambda f: f.mint(padding="x" * 100_000), 401, FAILED),
    case("format-non-ascii-token", non_ascii, 401, FAILED),
    case("format-no-authorization-header", lambda f: Sent(), 401, MISSING),
    case("format-blank-authorization-header", lambda f: Sent(("   ",)), 401, MISSING),
    case("format-basic-scheme", lambda f: Sent(("Basic bWNwLWNsaWVudDptY3AtY2xpZW50LXNlY3JldA==",)), 401, FORMAT),
    case("format-basic-scheme-with-jwt", lambda f: bearer(f.mint(), scheme="Basic"), 401, FORMAT),
    case("format-lowercase-bearer-accepted", lambda f: bearer(f.mint(), scheme="bearer"), 200),
    case("format-uppercase-bearer-accepted", lambda f: bearer(f.mint(), scheme="BEARER"), 200),
    case("format-token-only-in-query-string",
         lambda f: (lambda t: Sent(query=f"?access_token={t}", secret=t))(f.mint()), 401, IN_QUERY),
    case("format-token-in-query-string-and-header",
         lambda f: (lambda t: Sent((f"Bearer {t}",), query=f"?access_token={t}", secret=t))(f.mint()), 401, IN_QUERY),
    # WSGI joins repeated headers into one value ("Bearer a, Bearer b"), which is not `Bearer <token>`.
    case("format-two-authorization-headers",
         lambda f: (lambda t: Sent((f"Bearer {t}", f"Bearer {t}"), secret=t))(f.mint()), 401, FORMAT),
    # --- algorithm ----------------------------------------------------------------------
    case("alg-none", lambda f: f.sign(f.header(alg="none"), f.claims(), alg="none"), 401, FAILED),
    case("alg-None-capitalised", lambda f: f.sign(f.header(alg="None"), f.claims(), alg="none"), 401, FAILED),
    case("alg-missing", lambda f: f.sign(f.header(alg=DROP), f.claims()), 401, FAILED),
    case("alg-list", lambda f: f.sign(f.header(alg=["RS256"]), f.claims()), 401, FAILED),
    case("alg-object", lambda f: f.sign(f.header(alg={"name": "RS256"}), f.claims()), 401, FAILED),
    case("alg-HS256-hmac-with-idp-rsa-public-pem",
         lambda f: f.sign(f.header(alg="HS256"), f.claims(), alg="HS256", key=rsa_public_pem(f)), 401, FAILED),
    case("alg-HS256-hmac-with-idp-rsa-modulus",
         lambda f: f.sign(f.header(alg="HS256"), f.claims(), alg="HS256", key=rsa_modulus(f)), 401, FAILED),
    case("alg-RS256-header-with-ec-kid", lambda f: f.mint("RS256", headers={"kid": f.ec_kid}), 401, FAILED),
    case("alg-ES256-header-with-rsa-kid", lambda f: f.mint("ES256", headers={"kid": f.rsa_kid}), 401, FAILED),
    case("alg-PS256-signed-with-idp-rsa-key", lambda f: f.sign(f.header(alg="PS256"), f.claims(), alg="PS256"),
         401, FAILED),
    case("alg-RS512-signed-with-idp-rsa-key", lambda f: f.sign(f.header(alg="RS512"), f.claims(), alg="RS512"),
         401, FAILED),
    # --- signature ----------------------------------------------------------------------
    case("sig-stripped", lambda f: f.mint().rsplit(".", 1)[0] + ".", 401, FAILED),
    case("sig-payload-tampered-original-signature", tampered_payload, 401, FAILED),
    case("sig-attacker-rsa-key-with-idp-kid", lambda f: f.sign(f.header(), f.claims(), key=f.attacker_rsa),
         401, FAILED),
    case("sig-attacker-ec-key-with-idp-kid",
         lambda f: f.sign(f.header(alg="ES256"), f.claims(), alg="ES256", key=f.attacker_ec), 401, FAILED),
    # --- key id and other header members --------------------------------------------------
    case("kid-unknown", lambda f: f.mint(headers={"kid": "rsa-does-not-exist"}), 401, FAILED),
    case("kid-missing", lambda f: f.sign(f.header(kid=DROP), f.claims()), 401, FAILED),
    case("kid-integer", lambda f: f.sign(f.header(kid=1), f.claims()), 401, FAILED),
    case("kid-empty-string", lambda f: f.mint(headers={"kid": ""}), 401, FAILED),
    case("kid-path-traversal", lambda f: f.mint(headers={"kid": "../../etc/passwd"}), 401, FAILED),
    case("kid-jku-to-attacker-jwks",
         lambda f: f.sign(f.header(kid=ATTACKER_KID, jku=f.attacker_jwks.url), f.claims(), key=f.attacker_rsa),
         401, FAILED),
    case("kid-x5u-to-attacker",
         lambda f: f.sign(f.header(kid=ATTACKER_KID, x5u=f.attacker_jwks.base_url + "/cert.pem"), f.claims(),
                          key=f.attacker_rsa), 401, FAILED),
    case("kid-embedded-jwk-attacker-key",
         lambda f: f.sign(f.header(jwk=attacker_rsa_jwk(f, f.rsa_kid)), f.claims(), key=f.attacker_rsa),
         401, FAILED),
    case("kid-crit-exp", lambda f: f.mint(headers={"crit": ["exp"]}), 401, FAILED),
    case("kid-crit-empty", lambda f: f.mint(headers={"crit": []}), 401, FAILED),
    case("kid-b64-false-without-crit", lambda f: f.mint(headers={"b64": False}), 401, FAILED),
    # --- claims: dates (leeway 30 s) ------------------------------------------------------
    case("exp-expired-beyond-leeway", lambda f: f.mint(exp=f.now - 120), 401, FAILED),
    case("exp-within-leeway-accepted", lambda f: f.mint(exp=f.now - 10), 200),
    case("exp-fractional-accepted", lambda f: f.mint(exp=f.now + 300.5), 200),
    case("exp-missing", lambda f: f.mint(exp=DROP), 401, FAILED),
    case("exp-null", lambda f: f.sign(f.header(), f.claims(exp=None)), 401, FAILED),
    case("exp-numeric-string", lambda f: f.sign(f.header(), f.claims(exp=str(f.now + 300))), 401, FAILED),
    case("exp-abc", lambda f: f.sign(f.header(), f.claims(exp="abc")), 401, FAILED),
    case("exp-true", lambda f: f.sign(f.header(), f.claims(exp=True)), 401, FAILED),
    case("exp-infinity", lambda f: f.sign(f.header(), json.dumps(f.claims(exp=float("inf"))).encode()), 401, FAILED),
    case("exp-huge-integer", lambda f: f.mint(exp=10**400), 401, FAILED),
    case("nbf-future", lambda f: f.mint(nbf=f.now + 600), 401, FAILED),
    case("nbf-within-leeway-accepted", lambda f: f.mint(nbf=f.now + 10), 200),
    case("iat-future", lambda f: f.mint(iat=f.now + 600), 401, FAILED),
    case("iat-string", lambda f: f.sign(f.header(), f.claims(iat="yesterday")), 401, FAILED),
    case("iat-numeric-string", lambda f: f.sign(f.header(), f.claims(iat=str(f.now))), 401, FAILED),
    case("iat-missing", lambda f: f.mint(iat=DROP), 401, FAILED),
    # --- claims: issuer -------------------------------------------------------------------
    case("iss-trailing-slash", lambda f: f.mint(iss=f.idp.issuer + "/"), 401, ISSUER),
    case("iss-list", lambda f: f.sign(f.header(), f.claims(iss=[f.idp.issuer])), 401, ISSUER),
    case("iss-integer", lambda f: f.sign(f.header(), f.claims(iss=1)), 401, ISSUER),
    case("iss-other-issuer", lambda f: f.mint(iss="https://evil.example"), 401, ISSUER),
    case("iss-missing", lambda f: f.mint(iss=DROP), 401, FAILED),
    # --- claims: audience -----------------------------------------------------------------
    case("aud-wrong", lambda f: f.mint(aud="https://other.example.test/mcp"), 401, AUDIENCE),
    case("aud-prefix-of-ours", lambda f: f.mint(aud="https://mcp.example.test"), 401, AUDIENCE),
    case("aud-missing", lambda f: f.mint(aud=DROP), 401, FAILED),
    case("aud-list-containing-ours-accepted", lambda f: f.mint(aud=["https://other.example.test", IDP_RESOURCE]), 200),
    case("aud-list-with-non-string", lambda f: f.mint(aud=[IDP_RESOURCE, 7]), 401, AUDIENCE),
    case("aud-object", lambda f: f.mint(aud={"aud": IDP_RESOURCE}), 401, AUDIENCE),
    case("aud-id-token-like-client-id", lambda f: f.mint(aud="mcp-client", azp="mcp-client"), 401, AUDIENCE),
    # --- claims: subject, token id ----------------------------------------------------------
    case("sub-missing", lambda f: f.mint(sub=DROP), 401, FAILED),
    case("sub-integer", lambda f: f.sign(f.header(), f.claims(sub=42)), 401, FAILED),
    case("sub-empty-string", lambda f: f.mint(sub=""), 401, FAILED),
    case("jti-integer", lambda f: f.sign(f.header(), f.claims(jti=42)), 401, FAILED),
    # --- claims: scope (required: openid) -----------------------------------------------------
    case("scope-list", lambda f: f.mint(scope=["openid"]), 401, FAILED),
    case("scope-missing", lambda f: f.mint(scope=DROP), 403, SCOPE),
    case("scope-lacking-openid", lambda f: f.mint(scope="mcp:tools cnpg:read"), 403, SCOPE),
    case("scope-openid-as-substring", lambda f: f.mint(scope="openidx notopenid"), 403, SCOPE),
    case("scp-array-with-openid-accepted", lambda f: f.mint(scope=DROP, scp=["openid", "mcp:tools"]), 200),
    case("scp-string-accepted", lambda f: f.mint(scope=DROP, scp="openid mcp:tools"), 200),
    case("scp-array-with-non-string", lambda f: f.mint(scope=DROP, scp=["openid", 1]), 401, FAILED),
    # --- real tokens from the IdP's token endpoint ------------------------------------------
    case("real-rs256-mcp-client", lambda f: f.idp.token("mcp-client", "openid mcp:tools", IDP_RESOURCE), 200),
    case("real-es256-mcp-client-es", lambda f: f.idp.token("mcp-client-es", "openid mcp:tools", IDP_RESOURCE), 200),
    case("real-without-openid", lambda f: f.idp.token("mcp-client", "mcp:tools", IDP_RESOURCE), 403, SCOPE),
]


# ----- checks -------------------------------------------------------------------------------


def in_family(description: str, family: str) -> bool:
    return description == family or description.startswith(family + ": ")


def challenge_params(header: str) -> dict[str, str]:
    scheme, _, params = header.partition(" ")
    assert scheme == "Bearer", f"WWW-Authenticate scheme {scheme!r}"
    return dict(re.findall(r'([a-z_]+)="([^"]*)"', params))


def assert_nothing_leaked(response: TestResponse, sent: Sent, log_lines: str) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code != 500, f"500: {text}\nlog:\n{log_lines}"
    for leaked in ("Traceback", 'File "'):
        assert leaked not in text, f"{leaked!r} in the body: {text[:500]}"
    assert "Traceback" not in log_lines, log_lines
    if len(sent.secret) >= 16:
        assert sent.secret not in text, "the response echoes the token"
        assert sent.secret not in log_lines, "the log contains the token"
        signature = sent.secret.rsplit(".", 1)[-1]
        if len(signature) >= 16:
            assert signature not in log_lines, "the log contains the token's signature"


def assert_tools_listed(response: TestResponse) -> None:
    body = response.get_json()
    assert isinstance(body.get("result", {}).get("tools"), list) and body["result"]["tools"], body


def assert_challenge(response: TestResponse, status: int, family: str) -> None:
    body = response.get_json()
    description = body["error_description"]
    assert in_family(description, family), f"error_description {description!r} is not in the family {family!r}"
    expected_error = ERROR_CODE.get(family, "invalid_token")
    assert body["error"] == expected_error
    params = challenge_params(response.headers.get("WWW-Authenticate", ""))
    assert {"error", "error_description", "resource_metadata", "scope"} <= set(params), params
    assert params["error"] == expected_error
    assert params["error_description"] == description
    assert params["resource_metadata"].endswith("/.well-known/oauth-protected-resource/mcp")
    assert params["scope"] == "openid"
    assert response.headers.get("Cache-Control") == "no-store"


# ----- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def log() -> io.StringIO:
    return io.StringIO()


@pytest.fixture(scope="module")
def client(idp: LocalIdP, log: io.StringIO) -> FlaskClient:
    return make_client(idp, log)


@pytest.fixture(scope="module")
def attacker_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def attacker_jwks(attacker_rsa: rsa.RSAPrivateKey) -> Iterator[FaultyJWKSServer]:
    """The attacker's JWKS, named by `jku`/`x5u` headers: it must never be fetched."""
    jwk = {**RSAAlgorithm.to_jwk(attacker_rsa.public_key(), as_dict=True), "kid": ATTACKER_KID, "alg": "RS256",
           "use": "sig"}
    with FaultyJWKSServer("serve", {"keys": [jwk]}) as server:
        yield server


@pytest.fixture
def forge(idp: LocalIdP, attacker_rsa: rsa.RSAPrivateKey, attacker_jwks: FaultyJWKSServer) -> Forge:
    return Forge(idp, attacker_rsa, ec.generate_private_key(ec.SECP256R1()), attacker_jwks)


# ----- the catalogue test -----------------------------------------------------------------------


def test_the_catalogue_has_at_least_forty_cases() -> None:
    assert len(CATALOGUE) >= 40
    assert len({p.id for p in CATALOGUE}) == len(CATALOGUE)


@pytest.mark.parametrize(("build", "status", "family"), CATALOGUE)
def test_token_catalogue(
    client: FlaskClient, log: io.StringIO, forge: Forge, attacker_jwks: FaultyJWKSServer,
    build: Build, status: int, family: str | None,
) -> None:
    built = build(forge)
    sent = bearer(built) if isinstance(built, str) else built
    log_start = len(log.getvalue())

    response = post_mcp(client, sent)

    log_lines = log.getvalue()[log_start:]
    assert_nothing_leaked(response, sent, log_lines)
    assert response.status_code == status, f"{response.status_code}: {response.get_data(as_text=True)[:500]}"
    if status == 200:
        assert_tools_listed(response)
    else:
        assert family is not None
        assert_challenge(response, status, family)
    assert attacker_jwks.requests == [], "a jku/x5u header made the server fetch the attacker's URL"


# ----- the JWKS endpoint misbehaves (a fresh app each: no keys were ever fetched) ---------------

JWKS_FAULT_MODES = ["html", "status500", "redirect302", "slow", "empty_keys", "json_array", "unusable_keys", "hangup"]
HTTP_TIMEOUT = 1.0


@pytest.mark.parametrize("mode", JWKS_FAULT_MODES)
def test_a_misbehaving_jwks_endpoint_answers_503_then_recovers(idp: LocalIdP, mode: str) -> None:
    token = idp.token("mcp-client", "openid", IDP_RESOURCE)
    log = io.StringIO()
    with FaultyJWKSServer(mode, idp.jwks(), delay=HTTP_TIMEOUT + 2) as jwks:
        client = make_client(idp, log, OIDC_JWKS_URI=jwks.url, OIDC_HTTP_TIMEOUT_SECONDS=str(HTTP_TIMEOUT))
        started = time.monotonic()
        response = post_mcp(client, bearer(token))
        elapsed = time.monotonic() - started

        assert_nothing_leaked(response, bearer(token), log.getvalue())
        assert response.status_code in (401, 503)
        assert response.status_code == 503, response.get_data(as_text=True)
        body = response.get_json()
        assert body["error"] == "temporarily_unavailable"
        assert body["error_description"].startswith("Cannot fetch signing keys from"), body
        assert response.headers.get("Retry-After")
        assert jwks.requests[:1] == ["/jwks"], "the test double was never asked"
        assert "/moved" not in jwks.requests, "a redirect was followed"
        if mode == "slow":
            assert HTTP_TIMEOUT - 0.1 <= elapsed < HTTP_TIMEOUT + 1.5, f"gave up after {elapsed:.2f}s"

        jwks.mode = "serve"  # the endpoint recovers
        recovered = post_mcp(client, bearer(token))
        assert recovered.status_code == 200, recovered.get_data(as_text=True)


def test_an_unreachable_jwks_endpoint_answers_503(idp: LocalIdP) -> None:
    log = io.StringIO()
    client = make_client(idp, log, OIDC_JWKS_URI=f"http://127.0.0.1:{free_port()}/jwks",
                         OIDC_HTTP_TIMEOUT_SECONDS=str(HTTP_TIMEOUT))
    token = idp.token("mcp-client", "openid", IDP_RESOURCE)
    response = post_mcp(client, bearer(token))
    assert_nothing_leaked(response, bearer(token), log.getvalue())
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json()["error"] == "temporarily_unavailable"


# ----- key rotation: a key the IdP stopped publishing stops verifying ---------------------------

JWKS_CACHE_SECONDS = 2  # short, so the lifespan test waits only this long


def retired_rsa_token(idp: LocalIdP, retired: dict[str, Any]) -> str:
    """A well-formed token signed with the IdP's retired RSA key (and its kid)."""
    key = jwt.PyJWK(next(k for k in retired["keys"] if k["alg"] == "RS256"))
    now = int(time.time())
    claims = {"iss": idp.issuer, "aud": IDP_RESOURCE, "sub": "rotated", "client_id": "mcp-client",
              "scope": "openid", "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"typ": "at+jwt", "kid": key.key_id})


@pytest.fixture
def rotating(idp_factory: Callable[..., LocalIdP]) -> tuple[LocalIdP, FlaskClient, io.StringIO]:
    """A private IdP (rotation would break the shared one) and an app with a short JWKS cache, no cooldown."""
    private = idp_factory([IDP_RESOURCE])
    log = io.StringIO()
    client = make_client(private, log, OIDC_JWKS_CACHE_SECONDS=str(JWKS_CACHE_SECONDS),
                         OIDC_JWKS_COOLDOWN_SECONDS="0")
    return private, client, log


def test_a_retired_key_is_refused_once_a_new_kid_has_refreshed_the_jwks(
    rotating: tuple[LocalIdP, FlaskClient, io.StringIO],
) -> None:
    private, client, log = rotating
    assert post_mcp(client, bearer(private.token("mcp-client", "openid", IDP_RESOURCE))).status_code == 200

    retired = private.rotate_keys()
    # The new kid is unknown to the cached JWKS: with no cooldown it forces a refetch at once.
    assert post_mcp(client, bearer(private.token("mcp-client", "openid", IDP_RESOURCE))).status_code == 200
    token = retired_rsa_token(private, retired)
    response = post_mcp(client, bearer(token))

    assert_nothing_leaked(response, bearer(token), log.getvalue())
    assert response.status_code == 401, response.get_data(as_text=True)
    assert_challenge(response, 401, FAILED)


def test_a_retired_key_is_refused_once_the_jwks_cache_lifespan_has_passed(
    rotating: tuple[LocalIdP, FlaskClient, io.StringIO],
) -> None:
    private, client, log = rotating
    assert post_mcp(client, bearer(private.token("mcp-client", "openid", IDP_RESOURCE))).status_code == 200
    fetched_at = time.monotonic()

    retired = private.rotate_keys()
    time.sleep(max(0.0, fetched_at + JWKS_CACHE_SECONDS + 0.5 - time.monotonic()))
    token = retired_rsa_token(private, retired)
    response = post_mcp(client, bearer(token))

    assert_nothing_leaked(response, bearer(token), log.getvalue())
    assert response.status_code == 401, response.get_data(as_text=True)
    assert_challenge(response, 401, FAILED)
    assert post_mcp(client, bearer(private.token("mcp-client", "openid", IDP_RESOURCE))).status_code == 200
