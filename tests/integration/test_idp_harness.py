"""The auth test harness itself: a real node oidc-provider (devenv/idp.py) and a real
redis-server (devenv/redis.py). Auth tests trust these to behave like a production IdP and
rate-limit store, so this file proves it: discovery, JWT access tokens verified with PyJWT
against the served JWKS, the OAuth errors, key rotation, outages, and Redis restarts."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import redis
import requests
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from devenv.idp import ALL_SCOPES, CLIENT_SECRETS, LocalIdP, TokenRequestError, public_jwks
from devenv.redis import LocalRedis
from tests.integration.conftest import IDP_RESOURCE

REQUIRED = ["exp", "iat", "iss", "aud", "sub"]
ALGORITHMS = ["RS256", "ES256"]


def verify(idp: LocalIdP, token: str, audience: str | None = None) -> dict:
    """Validate like the resource server will: keys from the served JWKS, pinned algs, iss, aud."""
    signing_key = jwt.PyJWKClient(idp.jwks_uri).get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        signing_key,  # the PyJWK itself, so PyJWT checks the header alg against the key's alg
        algorithms=ALGORITHMS,
        audience=audience or idp.default_resource,
        issuer=idp.issuer,
        options={"require": REQUIRED},
    )


def served_kids(idp: LocalIdP) -> set[str]:
    return {key["kid"] for key in idp.jwks()["keys"]}


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module")
def dcr_idp(idp_factory: Callable[..., LocalIdP]) -> LocalIdP:
    """A second configuration: two audiences, open DCR, a short token lifetime."""
    return idp_factory(
        ["https://first.example.test/mcp", "https://second.example.test/mcp"], registration=True, access_token_ttl=120
    )


# ----- discovery and JWKS ----------------------------------------------------------------


def test_discovery_names_the_issuer_and_endpoints_and_has_no_dcr_by_default(idp: LocalIdP) -> None:
    print(f"shared IdP started in {idp.timings['first_start']:.2f}s (node {idp.timings['start']:.2f}s)")
    document = idp.discovery()

    assert document["issuer"] == idp.issuer == f"http://127.0.0.1:{idp.port}"
    assert document["jwks_uri"] == idp.jwks_uri
    assert document["token_endpoint"] == idp.token_endpoint
    # registration=False simulates an IdP without DCR: clients must then be pre-registered.
    assert "registration_endpoint" not in document
    assert "client_credentials" in document["grant_types_supported"]
    assert set(ALL_SCOPES.split()) <= set(document["scopes_supported"])
    assert document["introspection_endpoint"] == f"{idp.issuer}/token/introspection"


def test_jwks_serves_exactly_the_public_halves_of_the_private_keys(idp: LocalIdP) -> None:
    served = idp.jwks()["keys"]
    expected = public_jwks(idp.private_jwks)["keys"]

    assert sorted(served, key=lambda k: k["kid"]) == sorted(expected, key=lambda k: k["kid"])
    assert {(k["kty"], k["alg"], k["use"]) for k in served} == {("RSA", "RS256", "sig"), ("EC", "ES256", "sig")}
    assert not any("d" in key for key in served), "a private member leaked into the public JWKS"
    assert {k["kid"].split("-")[0] for k in served} == {"rsa", "ec"}


def test_provider_listens_on_loopback_only(idp: LocalIdP) -> None:
    # Bound to 127.0.0.1, not 0.0.0.0: another loopback address of this machine gets no answer.
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", idp.port), timeout=2):
        pass


def test_registration_endpoint_is_advertised_and_usable_when_enabled(dcr_idp: LocalIdP) -> None:
    document = dcr_idp.discovery()
    assert document["registration_endpoint"] == f"{dcr_idp.issuer}/reg"

    # Open DCR works for a machine client, and the new client's tokens are RS256 with our audience.
    registered = requests.post(
        document["registration_endpoint"],
        json={
            "grant_types": ["client_credentials"],
            "response_types": [],
            "redirect_uris": [],
            "token_endpoint_auth_method": "client_secret_basic",
        },
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    client = registered.json()
    response = requests.post(
        dcr_idp.token_endpoint,
        data={"grant_type": "client_credentials", "scope": "openid mcp:tools"},
        auth=(client["client_id"], client["client_secret"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert verify(dcr_idp, token)["client_id"] == client["client_id"]


INITIAL_ACCESS_TOKEN = "harness-initial-access-token"


@pytest.fixture(scope="module")
def interactive_idp(idp_factory: Callable[..., LocalIdP]) -> LocalIdP:
    """People can log in; /reg needs an initial access token and is not advertised."""
    return idp_factory([IDP_RESOURCE], registration=True, initial_access_token=INITIAL_ACCESS_TOKEN,
                       advertise_registration=False, interactive=True)


def test_registration_can_require_an_initial_access_token_and_stay_unadvertised(interactive_idp: LocalIdP) -> None:
    document = interactive_idp.discovery()
    metadata = {"redirect_uris": ["http://127.0.0.1:5123/callback"], "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"], "application_type": "native"}

    anonymous = requests.post(interactive_idp.registration_endpoint, json=metadata, timeout=10)
    wrong = requests.post(interactive_idp.registration_endpoint, json=metadata, timeout=10,
                          headers={"Authorization": "Bearer not-the-token"})
    right = requests.post(interactive_idp.registration_endpoint, json=metadata, timeout=10,
                          headers={"Authorization": f"Bearer {INITIAL_ACCESS_TOKEN}"})

    assert "registration_endpoint" not in document
    rfc8414 = requests.get(f"{interactive_idp.issuer}/.well-known/oauth-authorization-server", timeout=10).json()
    assert rfc8414["issuer"] == interactive_idp.issuer and "registration_endpoint" not in rfc8414
    assert "refresh_token" in document["grant_types_supported"]  # offered to people who log in
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_token")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_token")
    assert right.status_code == 201 and "client_secret" not in right.json()


def _pkce() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(os.urandom(40)).decode().rstrip("=")
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def test_a_person_logs_in_with_the_public_client_on_any_loopback_port(interactive_idp: LocalIdP) -> None:
    """The authorization code flow with PKCE, driven through the login and consent forms."""
    redirect_uri = "http://127.0.0.1:61234/callback"  # mcp-public lists http://127.0.0.1/callback: any port
    verifier, challenge = _pkce()
    document = interactive_idp.discovery()
    url = document["authorization_endpoint"] + "?" + urlencode({
        "response_type": "code", "client_id": "mcp-public", "redirect_uri": redirect_uri, "state": "st-1",
        "code_challenge": challenge, "code_challenge_method": "S256", "scope": "openid", "resource": IDP_RESOURCE,
    })

    callback = interactive_idp.authorize(url, redirect_uri, login="bob")
    query = parse_qs(urlsplit(callback).query)
    exchanged = requests.post(document["token_endpoint"], timeout=10, data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": redirect_uri,
        "client_id": "mcp-public", "code_verifier": verifier, "resource": IDP_RESOURCE})

    assert (query["state"], query["iss"]) == (["st-1"], [interactive_idp.issuer])
    assert exchanged.status_code == 200, exchanged.text
    claims = verify(interactive_idp, exchanged.json()["access_token"])
    assert (claims["sub"], claims["client_id"], claims["scope"]) == ("bob", "mcp-public", "openid")


def test_the_non_interactive_provider_lets_nobody_log_in(idp: LocalIdP) -> None:
    with pytest.raises(RuntimeError, match="interactive=True"):
        idp.authorize(f"{idp.issuer}/auth", "http://127.0.0.1/callback")
    assert "refresh_token" not in idp.discovery()["grant_types_supported"]


# ----- tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_id", "alg", "kty"), [("mcp-client", "RS256", "RSA"), ("mcp-client-es", "ES256", "EC")]
)
def test_client_credentials_token_verifies_against_the_served_jwks(
    idp: LocalIdP, client_id: str, alg: str, kty: str
) -> None:
    before = int(time.time())
    token = idp.token(client_id, scope="openid mcp:tools cnpg:read")

    header = jwt.get_unverified_header(token)
    assert header["alg"] == alg
    assert header["typ"] == "at+jwt"  # RFC 9068 access token
    assert header["kid"] == next(k["kid"] for k in idp.private_jwks["keys"] if k["kty"] == kty)

    claims = verify(idp, token, audience=IDP_RESOURCE)
    assert claims["iss"] == idp.issuer
    assert claims["aud"] == IDP_RESOURCE  # no resource= sent: the default resource is the audience
    assert claims["sub"] == claims["client_id"] == client_id
    assert set(claims["scope"].split()) == {"openid", "mcp:tools", "cnpg:read"}
    assert before - 5 <= claims["iat"] <= int(time.time()) + 5
    assert claims["exp"] - claims["iat"] == 300
    assert claims["jti"]


def test_explicit_resource_sets_the_audience_and_ttl_follows_the_setting(dcr_idp: LocalIdP) -> None:
    first, second = dcr_idp.resources

    default_claims = verify(dcr_idp, dcr_idp.token(scope="openid"), audience=first)
    second_claims = verify(dcr_idp, dcr_idp.token(scope="openid", resource=second), audience=second)

    assert default_claims["aud"] == first
    assert second_claims["aud"] == second
    assert second_claims["exp"] - second_claims["iat"] == 120
    # A token for one resource must not pass as a token for the other.
    with pytest.raises(jwt.InvalidAudienceError):
        verify(dcr_idp, dcr_idp.token(scope="openid", resource=second), audience=first)


def test_unknown_scopes_are_dropped_silently(idp: LocalIdP) -> None:
    claims = verify(idp, idp.token(scope="openid cnpg:write not-a-scope"))
    assert claims["scope"] == "openid cnpg:write"


def test_wrong_secret_is_invalid_client(idp: LocalIdP) -> None:
    with pytest.raises(TokenRequestError) as refused:
        idp.token("mcp-client", secret="not-the-secret")
    assert refused.value.status == 401
    assert refused.value.error == "invalid_client"


def test_unknown_client_is_invalid_client(idp: LocalIdP) -> None:
    with pytest.raises(TokenRequestError) as refused:
        idp.token("nobody", secret="whatever")
    assert (refused.value.status, refused.value.error) == (401, "invalid_client")


def test_unknown_resource_is_invalid_target(idp: LocalIdP) -> None:
    with pytest.raises(TokenRequestError) as refused:
        idp.token(resource="https://elsewhere.example.test/mcp")
    assert refused.value.status == 400
    assert refused.value.error == "invalid_target"


def test_minted_tokens_use_the_idps_own_keys(idp: LocalIdP) -> None:
    # Tests build claim variants the IdP would never issue; they must still verify by signature.
    now = int(time.time())
    claims = {"iss": idp.issuer, "aud": IDP_RESOURCE, "sub": "minted", "iat": now, "exp": now + 60, "scope": "openid"}
    for alg in ALGORITHMS:
        token = idp.mint(claims, alg=alg)
        assert jwt.get_unverified_header(token) == {"alg": alg, "typ": "at+jwt", "kid": idp.signing_key(alg).key_id}
        assert verify(idp, token)["sub"] == "minted"


# ----- rotation and outages ----------------------------------------------------------------


def test_rotate_keys_replaces_the_kids_on_the_same_issuer(idp_factory: Callable[..., LocalIdP]) -> None:
    rotating = idp_factory([IDP_RESOURCE])  # its own IdP: the shared one must keep its keys
    issuer, old_kids = rotating.issuer, served_kids(rotating)
    old_token = rotating.token()

    retired = rotating.rotate_keys()
    print(f"rotate_keys restarted the provider in {rotating.timings['start']:.2f}s")

    new_kids = {key["kid"] for key in rotating.private_jwks["keys"]}
    assert {key["kid"] for key in retired["keys"]} == old_kids
    assert rotating.issuer == issuer and rotating.discovery()["issuer"] == issuer
    assert served_kids(rotating) == new_kids
    assert not new_kids & old_kids
    for client_id, alg in (("mcp-client", "RS256"), ("mcp-client-es", "ES256")):
        token = rotating.token(client_id)
        assert jwt.get_unverified_header(token)["kid"] == rotating.signing_key(alg).key_id
        assert verify(rotating, token)["client_id"] == client_id
    # A token signed before the rotation names a kid the IdP no longer publishes.
    with pytest.raises(jwt.PyJWKClientError, match="Unable to find a signing key"):
        verify(rotating, old_token)


def test_stop_and_start_keep_the_issuer_and_keys(idp_factory: Callable[..., LocalIdP]) -> None:
    outage = idp_factory([IDP_RESOURCE])
    issuer, kids, token = outage.issuer, served_kids(outage), outage.token()
    pid = outage.pid
    assert pid is not None

    outage.stop()
    assert not outage.running and process_gone(pid)
    with pytest.raises(requests.ConnectionError):
        requests.get(outage.jwks_uri, timeout=2)

    outage.start()
    print(f"provider restarted after an outage in {outage.timings['start']:.2f}s")
    assert outage.issuer == issuer and outage.discovery()["issuer"] == issuer
    assert served_kids(outage) == kids
    # Same keys: a token issued before the outage still verifies afterwards.
    assert verify(outage, token)["client_id"] == "mcp-client"
    assert verify(outage, outage.token("mcp-client-es"))["client_id"] == "mcp-client-es"


def test_close_stops_the_process_and_removes_the_key_files(idp_factory: Callable[..., LocalIdP]) -> None:
    closing = idp_factory([IDP_RESOURCE])
    pid, workdir = closing.pid, closing.workdir
    assert pid is not None and workdir is not None and (workdir / "keys.json").is_file()
    assert (workdir / "keys.json").stat().st_mode & 0o077 == 0, "private keys must be owner-only"

    closing.close()

    assert process_gone(pid)
    assert not Path(workdir).exists()
    closing.close()  # idempotent: the session teardown will call it again


def test_static_clients_are_the_documented_ones() -> None:
    # Auth tests and docs use these literal credentials (e.g. `curl -u mcp-client:mcp-client-secret`).
    assert CLIENT_SECRETS == {"mcp-client": "mcp-client-secret", "mcp-client-es": "mcp-client-es-secret"}


# ----- redis -------------------------------------------------------------------------------


def test_redis_answers_ping_and_runs_in_memory_on_loopback(redis_server: LocalRedis) -> None:
    print(f"redis-server started in {redis_server.timings['first_start']:.2f}s")
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    assert redis_server.ping()

    client = redis.Redis.from_url(redis_server.url)
    try:
        assert client.ping() is True
        config = {**client.config_get("save"), **client.config_get("appendonly"), **client.config_get("bind")}
        config.update(client.config_get("protected-mode"))
        assert config == {"save": "", "appendonly": "no", "bind": "127.0.0.1", "protected-mode": "yes"}
    finally:
        client.close()


def test_flask_limiter_storage_counts_in_this_redis(redis_server: LocalRedis) -> None:
    # The same `limits` storage flask-limiter builds from RATELIMIT_STORAGE_URI.
    storage = storage_from_string(redis_server.url)
    assert storage.check()
    limiter = FixedWindowRateLimiter(storage)
    limit = parse("2/minute")
    key = f"harness-{time.time_ns()}"  # the session's redis is shared: a key no other test uses

    assert [limiter.hit(limit, key) for _ in range(3)] == [True, True, False]


def test_redis_stop_and_start_keep_the_port_and_drop_the_data() -> None:
    with LocalRedis() as local:
        url, pid = local.url, local.pid
        assert pid is not None
        client = redis.Redis.from_url(url, socket_timeout=2)
        try:
            client.set("counter", 1)

            local.stop()
            assert process_gone(pid)
            with pytest.raises(ConnectionRefusedError):
                local.ping()
            with pytest.raises(redis.ConnectionError):
                client.ping()

            local.start()
            print(f"redis-server restarted in {local.timings['start']:.2f}s")
            assert local.url == url and local.ping()
            restarted_pid = local.pid
            # The client reconnects by itself; nothing survived (no RDB, no AOF).
            assert client.ping() is True
            assert client.get("counter") is None
        finally:
            client.close()
        workdir = local.workdir
    # Leaving the `with` ends the restarted process and removes the directory.
    assert restarted_pid is not None and process_gone(restarted_pid)
    assert workdir is not None and not workdir.exists()
