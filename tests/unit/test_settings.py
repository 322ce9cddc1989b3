"""Settings.from_env: defaults, one-line errors naming the variable, fail-closed rules."""

from __future__ import annotations

import pytest

from app.settings import Settings, SettingsError, bind_is_loopback


def test_empty_environment_gives_documented_defaults() -> None:
    settings = Settings.from_env({})

    assert settings == Settings(
        allowed_origins=(),
        allowed_hosts=(),
        max_body_bytes=1_048_576,
        public_url=None,
        read_only=False,
        oidc_issuer=None,
        insecure_allow_remote=False,
        kubeconfig=None,
        kube_context=None,
        kube_timeout_seconds=10.0,
        log_level="INFO",
        log_format="json",
        gunicorn_bind="127.0.0.1:3000",
        gunicorn_workers=2,
        gunicorn_threads=8,
        gunicorn_timeout=30,
        gunicorn_graceful_timeout=20,
        gunicorn_keepalive=5,
    )
    assert settings.auth_enabled is False


@pytest.mark.parametrize(
    ("environ", "field", "expected"),
    [
        ({"MCP_MAX_BODY_BYTES": "2048"}, "max_body_bytes", 2048),
        ({"MCP_READ_ONLY": "true"}, "read_only", True),
        ({"MCP_READ_ONLY": "Off"}, "read_only", False),
        ({"LOG_LEVEL": "debug"}, "log_level", "DEBUG"),
        ({"LOG_FORMAT": "TEXT"}, "log_format", "text"),
        ({"MCP_ALLOWED_ORIGINS": "https://App.Example.com, http://b.example:8080"}, "allowed_origins",
         ("https://app.example.com", "http://b.example:8080")),
        ({"MCP_ALLOWED_HOSTS": " mcp.example.com ,, other.example "}, "allowed_hosts",
         ("mcp.example.com", "other.example")),
        ({"MCP_PUBLIC_URL": "https://mcp.example.com/mcp/"}, "public_url", "https://mcp.example.com/mcp"),
        ({"KUBE_TIMEOUT_SECONDS": "2.5"}, "kube_timeout_seconds", 2.5),
        ({"GUNICORN_BIND": "unix:/run/mcp.sock"}, "gunicorn_bind", "unix:/run/mcp.sock"),
        ({"GUNICORN_BIND": "[::1]:8080"}, "gunicorn_bind", "[::1]:8080"),
        ({"GUNICORN_WORKERS": "4"}, "gunicorn_workers", 4),
    ],
)
def test_valid_values_are_parsed(environ: dict[str, str], field: str, expected: object) -> None:
    assert getattr(Settings.from_env(environ), field) == expected


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MCP_MAX_BODY_BYTES", "lots"),
        ("MCP_MAX_BODY_BYTES", "1.5"),
        ("MCP_MAX_BODY_BYTES", "1023"),
        ("MCP_MAX_BODY_BYTES", "67108865"),
        ("MCP_MAX_BODY_BYTES", "-1"),
        ("MCP_READ_ONLY", "maybe"),
        ("MCP_INSECURE_ALLOW_REMOTE", "sure"),
        ("LOG_LEVEL", "verbose"),
        ("LOG_FORMAT", "xml"),
        ("GUNICORN_BIND", "0.0.0.0"),
        ("GUNICORN_BIND", "localhost:"),
        ("GUNICORN_BIND", ":3000"),
        ("GUNICORN_BIND", "127.0.0.1:http"),
        ("GUNICORN_BIND", "127.0.0.1:0"),
        ("GUNICORN_BIND", "127.0.0.1:65536"),
        ("GUNICORN_BIND", "[::1:3000"),
        ("GUNICORN_WORKERS", "0"),
        ("GUNICORN_WORKERS", "65"),
        ("GUNICORN_TIMEOUT", "4"),
        ("KUBE_TIMEOUT_SECONDS", "soon"),
        ("KUBE_TIMEOUT_SECONDS", "0.1"),
        ("KUBE_TIMEOUT_SECONDS", "nan"),
        ("KUBE_TIMEOUT_SECONDS", "30"),
        ("MCP_ALLOWED_ORIGINS", "*"),
        ("MCP_ALLOWED_ORIGINS", "https://ok.example.com,*"),
        ("MCP_ALLOWED_ORIGINS", "not-an-origin"),
        ("MCP_ALLOWED_ORIGINS", "https://app.example.com/path"),
        ("MCP_PUBLIC_URL", "mcp.example.com/mcp"),
        ("MCP_PUBLIC_URL", "ftp://mcp.example.com/mcp"),
        ("MCP_PUBLIC_URL", "https://mcp.example.com/mcp#section"),
        ("MCP_PUBLIC_URL", "http://[::1/mcp"),
        ("MCP_PUBLIC_URL", "https://mcp.example.com:99999/mcp"),
        ("MCP_PUBLIC_URL", "https://mcp.example.com:port/mcp"),
        ("OIDC_ISSUER", "issuer.example.com"),
        ("OIDC_ISSUER", "https://[bad-issuer"),
    ],
)
def test_bad_value_raises_one_line_error_starting_with_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})

    message = str(caught.value)
    assert message.startswith(f"{variable}:")
    assert "\n" not in message
    assert caught.value.variable == variable


@pytest.mark.parametrize(
    "environ",
    [
        {"KUBE_TIMEOUT_SECONDS": "10", "GUNICORN_TIMEOUT": "10"},
        {"KUBE_TIMEOUT_SECONDS": "60", "GUNICORN_TIMEOUT": "30"},
    ],
)
def test_kube_timeout_not_below_gunicorn_timeout_is_refused(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(environ)

    assert str(caught.value).startswith("KUBE_TIMEOUT_SECONDS:")
    assert caught.value.variable == "KUBE_TIMEOUT_SECONDS"


def test_kube_timeout_below_gunicorn_timeout_is_accepted() -> None:
    settings = Settings.from_env({"KUBE_TIMEOUT_SECONDS": "9.5", "GUNICORN_TIMEOUT": "10"})

    assert (settings.kube_timeout_seconds, settings.gunicorn_timeout) == (9.5, 10)


def test_oidc_issuer_without_audience_is_refused() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"OIDC_ISSUER": "https://issuer.example.com"})

    assert caught.value.variable == "OIDC_AUDIENCE"
    assert str(caught.value).startswith("OIDC_AUDIENCE:")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("variable", ["OIDC_AUDIENCE", "OIDC_JWKS_URI", "DCR_PROXY_URL"])
def test_oidc_settings_without_an_issuer_fail_closed(variable: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: "https://x.example.com/a"})

    assert caught.value.variable == "OIDC_ISSUER"
    assert variable in str(caught.value)


def test_oidc_settings_parse_lists_scopes_and_keep_the_issuer_exact() -> None:
    settings = Settings.from_env({
        "OIDC_ISSUER": "https://tenant.auth0.com/", "OIDC_AUDIENCE": "mcp-api, https://api.example.com/mcp",
        "OIDC_SCOPE": "openid  cnpg:read openid", "OIDC_ALGORITHMS": "RS256,PS256",
    })

    assert settings.oidc_issuer == "https://tenant.auth0.com/"  # the trailing slash is part of `iss`
    assert settings.oidc_audiences == ("mcp-api", "https://api.example.com/mcp")
    assert settings.oidc_scopes == ("openid", "cnpg:read")
    assert settings.oidc_algorithms == ("RS256", "PS256")
    assert settings.auth_enabled and Settings.from_env({}).oidc_scopes == ("openid",)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("OIDC_ALGORITHMS", "HS256"), ("OIDC_ALGORITHMS", "none"), ("OIDC_SCOPE", 'open"id'),
     ("AUTH_FAILURE_LIMIT", "lots"), ("TOOL_CALL_LIMIT", "10/fortnight"), ("RATELIMIT_STORAGE_URI", "mongodb://x"),
     ("OIDC_LEEWAY_SECONDS", "-1"), ("TRUSTED_PROXY_HOPS", "9")],
)
def test_bad_auth_settings_name_their_variable(variable: str, value: str) -> None:
    env = {"OIDC_ISSUER": "https://idp.example.com", "OIDC_AUDIENCE": "mcp", variable: value}
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)

    assert caught.value.variable == variable


@pytest.mark.parametrize("bind", ["0.0.0.0:3000", "10.0.0.1:80", "[::]:3000", "mcp.example.com:3000"])
def test_non_loopback_bind_without_authentication_is_refused(bind: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"GUNICORN_BIND": bind})

    assert caught.value.variable == "GUNICORN_BIND"
    assert str(caught.value).startswith("GUNICORN_BIND:")


@pytest.mark.parametrize("opt_in", ["true", "1", "yes", "ON"])
def test_non_loopback_bind_is_accepted_with_explicit_insecure_opt_in(opt_in: str) -> None:
    settings = Settings.from_env({"GUNICORN_BIND": "0.0.0.0:3000", "MCP_INSECURE_ALLOW_REMOTE": opt_in})

    assert settings.gunicorn_bind == "0.0.0.0:3000"
    assert settings.insecure_allow_remote is True


@pytest.mark.parametrize("bind", ["127.0.0.1:3000", "[::1]:3000", "localhost:3000", "unix:/tmp/x.sock"])
def test_loopback_bind_is_accepted_without_authentication(bind: str) -> None:
    assert Settings.from_env({"GUNICORN_BIND": bind}).gunicorn_bind == bind


@pytest.mark.parametrize(
    ("bind", "loopback"),
    [
        ("127.0.0.1:3000", True),
        ("[::1]:3000", True),
        ("localhost:3000", True),
        ("unix:/tmp/x.sock", True),
        ("0.0.0.0:3000", False),
        ("10.0.0.1:80", False),
        ("[::]:3000", False),
        ("mcp.example.com:443", False),
    ],
)
def test_bind_is_loopback_only_for_addresses_on_this_machine(bind: str, loopback: bool) -> None:
    assert bind_is_loopback(bind) is loopback


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"MCP_SCOPE_READ": "cnpg:read"}, "MCP_SCOPE_READ"),
     ({"MCP_SCOPE_READ": "cnpg:read", "MCP_SCOPE_WRITE": "cnpg:write", "MCP_SCOPE_ADMIN": "a b"}, "MCP_SCOPE_ADMIN"),
     ({"KUBE_IMPERSONATE_USER_CLAIM": "not a claim!"}, "KUBE_IMPERSONATE_USER_CLAIM")],
)
def test_per_caller_settings_are_checked(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"OIDC_ISSUER": "https://idp.example.com", "OIDC_AUDIENCE": "mcp", **env})

    assert caught.value.variable == variable


@pytest.mark.parametrize("env", [{"KUBE_IMPERSONATE": "true"},
                                 {"MCP_SCOPE_READ": "r", "MCP_SCOPE_WRITE": "w", "MCP_SCOPE_ADMIN": "a"}])
def test_per_caller_authorization_without_authentication_fails_closed(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)

    assert caught.value.variable == "OIDC_ISSUER"


def test_per_class_scopes_extend_the_supported_scopes() -> None:
    settings = Settings.from_env({"OIDC_ISSUER": "https://idp.example.com", "OIDC_AUDIENCE": "mcp",
                                  "MCP_SCOPE_READ": "cnpg:read", "MCP_SCOPE_WRITE": "cnpg:write",
                                  "MCP_SCOPE_ADMIN": "cnpg:admin", "KUBE_IMPERSONATE": "yes"})

    assert settings.scoped_tools and settings.kube_impersonate
    assert settings.supported_scopes == ["openid", "cnpg:read", "cnpg:write", "cnpg:admin"]
    assert (settings.impersonate_user_claim, settings.impersonate_user_prefix) == ("sub", "oidc:")


# --- Dynamic Client Registration proxy ---------------------------------------------

OIDC = {"OIDC_ISSUER": "https://idp.example.com", "OIDC_AUDIENCE": "mcp"}
STATIC = {**OIDC, "DCR_PROXY_BACKEND": "static", "DCR_STATIC_CLIENT_ID": "mcp-public",
          "DCR_STATIC_REDIRECT_URIS": "http://127.0.0.1:*/callback"}
UPSTREAM = {**OIDC, "DCR_PROXY_BACKEND": "upstream", "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN": "iat-s3cret-value"}


def test_the_proxy_is_off_by_default_and_allows_loopback_redirects_when_on() -> None:
    assert Settings.from_env(OIDC).dcr_backend is None
    settings = Settings.from_env(STATIC)

    assert (settings.dcr_backend, settings.dcr_static_client_id) == ("static", "mcp-public")
    assert settings.dcr_static_redirect_uris == ("http://127.0.0.1:*/callback",)
    assert settings.dcr_redirect_uri_patterns == ("http://127.0.0.1:*/*", "http://[::1]:*/*", "http://localhost:*/*")
    assert settings.dcr_rate_limit == "10/hour"


def test_upstream_settings_parse_and_the_token_never_shows_in_repr() -> None:
    settings = Settings.from_env({**UPSTREAM, "DCR_UPSTREAM_REGISTRATION_URL": "https://idp.example.com/reg",
                                  "DCR_RATE_LIMIT": "3/minute",
                                  "DCR_REDIRECT_URI_PATTERNS": "http://127.0.0.1:*/cb, https://app.example.com/cb"})

    assert settings.dcr_upstream_initial_access_token == "iat-s3cret-value"
    assert settings.dcr_upstream_registration_url == "https://idp.example.com/reg"
    assert settings.dcr_redirect_uri_patterns == ("http://127.0.0.1:*/cb", "https://app.example.com/cb")
    assert settings.dcr_rate_limit == "3/minute"
    assert "iat-s3cret-value" not in repr(settings)


def test_the_initial_access_token_can_come_from_a_mounted_secret_file(tmp_path) -> None:
    secret = tmp_path / "iat"
    secret.write_text("from-a-file\n")
    env = {**UPSTREAM, "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN": "",
           "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN_FILE": str(secret)}

    assert Settings.from_env(env).dcr_upstream_initial_access_token == "from-a-file"


def test_an_open_upstream_endpoint_needs_no_token_when_said_explicitly() -> None:
    env = {**OIDC, "DCR_PROXY_BACKEND": "upstream", "DCR_UPSTREAM_ANONYMOUS": "true"}

    settings = Settings.from_env(env)
    assert settings.dcr_upstream_anonymous and settings.dcr_upstream_initial_access_token is None


@pytest.mark.parametrize(
    ("env", "variable", "fragment"),
    [
        ({**OIDC, "DCR_PROXY_BACKEND": "dynamic"}, "DCR_PROXY_BACKEND", "one of static, upstream"),
        ({"DCR_PROXY_BACKEND": "static"}, "OIDC_ISSUER", "DCR_PROXY_BACKEND is set"),
        ({**STATIC, "DCR_STATIC_CLIENT_ID": ""}, "DCR_STATIC_CLIENT_ID", "DCR_PROXY_BACKEND=static"),
        ({**STATIC, "DCR_STATIC_CLIENT_ID": "has space"}, "DCR_STATIC_CLIENT_ID", "printable ASCII"),
        ({**STATIC, "DCR_STATIC_REDIRECT_URIS": ""}, "DCR_STATIC_REDIRECT_URIS", "DCR_PROXY_BACKEND=static"),
        ({**STATIC, "DCR_STATIC_REDIRECT_URIS": "http://app.example.com/cb"}, "DCR_STATIC_REDIRECT_URIS",
         "'http://app.example.com/cb' may use http only with a loopback host"),
        ({**STATIC, "DCR_REDIRECT_URI_PATTERNS": "https://*/cb"}, "DCR_REDIRECT_URI_PATTERNS", "'https://*/cb'"),
        ({**STATIC, "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN": "x"}, "DCR_PROXY_BACKEND",
         "upstream because DCR_UPSTREAM_INITIAL_ACCESS_TOKEN is set"),
        ({**UPSTREAM, "DCR_STATIC_CLIENT_ID": "mcp-public"}, "DCR_PROXY_BACKEND",
         "static because DCR_STATIC_CLIENT_ID is set"),
        ({**OIDC, "DCR_PROXY_BACKEND": "upstream"}, "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN", "DCR_UPSTREAM_ANONYMOUS"),
        ({**UPSTREAM, "DCR_UPSTREAM_ANONYMOUS": "true"}, "DCR_UPSTREAM_ANONYMOUS", "false when an initial access"),
        ({**UPSTREAM, "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN_FILE": "/x"}, "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN",
         "not both"),
        ({**UPSTREAM, "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN": "", "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN_FILE": "/no/such"},
         "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN_FILE", "FileNotFoundError"),
        ({**UPSTREAM, "DCR_UPSTREAM_REGISTRATION_URL": "idp.example.com/reg"}, "DCR_UPSTREAM_REGISTRATION_URL",
         "absolute http(s) URL"),
        ({**STATIC, "DCR_RATE_LIMIT": "often"}, "DCR_RATE_LIMIT", "a rate like"),
    ],
)
def test_dcr_settings_fail_closed_naming_the_variable(env: dict[str, str], variable: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)

    assert caught.value.variable == variable
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_malformed_token_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**UPSTREAM, "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN": "two words-s3cret"})

    assert caught.value.variable == "DCR_UPSTREAM_INITIAL_ACCESS_TOKEN"
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(("bind", "workers", "spread"), [
    ("127.0.0.1:3000", 2, True), ("[::1]:3000", 4, True), ("127.0.0.1:3000", 1, False), ("unix:/run/mcp.sock", 2, False),
])
def test_connections_are_spread_by_the_kernel_only_over_several_tcp_workers(bind: str, workers: int,
                                                                           spread: bool) -> None:
    from app.web.gunicorn_worker import spreads_connections

    assert spreads_connections(bind, workers) is spread


# ----- Kubernetes identity modes (KUBE_AUTH) and the IdP's CA (OIDC_CA_FILE) -----------------

OIDC = {"OIDC_ISSUER": "https://idp.example.com", "OIDC_AUDIENCE": "mcp"}
EXCHANGE = {**OIDC, "KUBE_AUTH": "exchange", "KUBE_EXCHANGE_AUDIENCE": "kubernetes",
            "KUBE_EXCHANGE_CLIENT_ID": "mcp-api", "KUBE_EXCHANGE_CLIENT_SECRET": "s3cret-value"}


@pytest.mark.parametrize(("env", "mode"), [
    ({}, "serviceaccount"), ({"KUBE_AUTH": "Impersonate"}, "impersonate"), ({"KUBE_IMPERSONATE": "true"}, "impersonate"),
    ({"KUBE_AUTH": "impersonate", "KUBE_IMPERSONATE": "true"}, "impersonate"),
    ({"KUBE_AUTH": "serviceaccount", "KUBE_IMPERSONATE": "false"}, "serviceaccount")])
def test_kube_auth_names_the_mode_and_kube_impersonate_stays_its_older_spelling(env: dict[str, str], mode: str) -> None:
    settings = Settings.from_env({**OIDC, **env})
    assert settings.kube_auth == mode
    assert settings.kube_impersonate is (mode == "impersonate")


def test_exchange_settings_parse_and_the_client_secret_never_shows() -> None:
    settings = Settings.from_env({**EXCHANGE, "KUBE_EXCHANGE_TOKEN_URL": "https://idp.example.com/token"})
    assert (settings.kube_auth, settings.exchange_audience, settings.exchange_client_id, settings.exchange_token_url
            ) == ("exchange", "kubernetes", "mcp-api", "https://idp.example.com/token")
    assert settings.exchange_client_secret == "s3cret-value" and "s3cret-value" not in repr(settings)
    assert settings.exchange_cache_size == 10_000


def test_the_exchange_client_secret_can_come_from_a_mounted_secret_file(tmp_path) -> None:
    secret = tmp_path / "client-secret"
    secret.write_text("from-a-file\n")
    env = {k: v for k, v in EXCHANGE.items() if k != "KUBE_EXCHANGE_CLIENT_SECRET"}
    settings = Settings.from_env({**env, "KUBE_EXCHANGE_CLIENT_SECRET_FILE": str(secret)})
    assert settings.exchange_client_secret == "from-a-file"


@pytest.mark.parametrize(("env", "variable", "fragment"), [
    ({"KUBE_AUTH": "exchange"}, "OIDC_ISSUER", "KUBE_AUTH=exchange exchanges each caller's token"),
    ({**OIDC, "KUBE_AUTH": "exchange"}, "KUBE_EXCHANGE_AUDIENCE", "to be set with KUBE_AUTH=exchange"),
    ({**{k: v for k, v in EXCHANGE.items() if k != "KUBE_EXCHANGE_CLIENT_SECRET"}}, "KUBE_EXCHANGE_CLIENT_SECRET",
     "KUBE_EXCHANGE_CLIENT_SECRET_FILE"),
    ({**OIDC, "KUBE_EXCHANGE_AUDIENCE": "kubernetes"}, "KUBE_AUTH", "exchange because KUBE_EXCHANGE_AUDIENCE is set"),
    ({**EXCHANGE, "KUBE_IMPERSONATE": "true"}, "KUBE_IMPERSONATE", "unset when KUBE_AUTH=exchange"),
    ({**OIDC, "KUBE_AUTH": "sudo"}, "KUBE_AUTH", "one of serviceaccount, impersonate, exchange"),
    ({**EXCHANGE, "KUBE_EXCHANGE_TOKEN_URL": "ftp://idp/token"}, "KUBE_EXCHANGE_TOKEN_URL", "http(s) URL"),
    ({**EXCHANGE, "KUBE_EXCHANGE_CACHE_SIZE": "0"}, "KUBE_EXCHANGE_CACHE_SIZE", ""),
])
def test_exchange_settings_fail_closed_naming_the_variable(env: dict[str, str], variable: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert caught.value.variable == variable
    assert fragment in str(caught.value)
    assert "s3cret-value" not in str(caught.value)


def test_the_identity_providers_ca_file_is_checked_at_start(tmp_path) -> None:
    good, empty = tmp_path / "ca.crt", tmp_path / "empty.crt"
    good.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    empty.write_text("not a certificate\n")
    settings = Settings.from_env({**OIDC, "OIDC_CA_FILE": str(good)})
    assert settings.oidc_ca_file == str(good) and settings.oidc_tls_verify == str(good)
    assert Settings.from_env(OIDC).oidc_tls_verify is True
    for path, fragment in ((empty, "at least one CERTIFICATE"), (tmp_path / "missing.crt", "FileNotFoundError")):
        with pytest.raises(SettingsError, match=fragment) as caught:
            Settings.from_env({**OIDC, "OIDC_CA_FILE": str(path)})
        assert caught.value.variable == "OIDC_CA_FILE"
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"OIDC_CA_FILE": str(good)})  # without an issuer: fail closed
    assert caught.value.variable == "OIDC_ISSUER"
