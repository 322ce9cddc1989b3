"""CloudNativePG MCP server: a synchronous Flask app served by gunicorn."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TextIO

from flask import Flask
from flask_limiter import Limiter
from werkzeug.middleware.proxy_fix import ProxyFix

from app.auth import TokenVerifier
from app.auth.registration import RegistrationProxy, build_proxy
from app.kube import KubeContexts
from app.logs import configure_logging
from app.protocol.confirmations import PersonConfirmations
from app.protocol.providers import ContentProvider
from app.protocol.server import McpServer, ServerIdentity
from app.settings import SERVICE_NAME, Settings
from app.tools.access_policy import ToolPolicy
from app.tools.catalog import tools_in
from app.tools.registry import Registry
from app.web import access_log, health, mcp_endpoint, metrics_endpoint, registration, wellknown
from app.web.errors import register_error_handlers
from app.web.ratelimit import FailedAuthLimit, create_limiter
from app.web.request_id import register_request_id
from app.web.state import STATE_KEY, app_state

__version__ = "0.1.0"

INSTRUCTIONS = (
    "Operate CloudNativePG PostgreSQL clusters on Kubernetes. Read-only tools are safe to call freely; "
    "tools marked destructive need the user's explicit confirmation. Tool errors explain what to change."
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppState:
    """Per-worker objects, kept on `app.extensions["cnpg_mcp"]`."""

    settings: Settings
    server: McpServer
    kube: KubeContexts
    """The kubeconfig contexts this worker may reach; their clients are created on first use."""
    verifier: TokenVerifier | None
    """None in insecure mode (no OIDC_ISSUER)."""
    limiter: Limiter
    failed_auth: FailedAuthLimit
    registration: RegistrationProxy | None = None
    """The Dynamic Client Registration proxy at /register; None unless DCR_PROXY_BACKEND is set."""


def create_app(
    settings: Settings | None = None,
    registry: Registry | None = None,
    *,
    log_stream: TextIO | None = None,
    serve_http: bool = True,
    content: ContentProvider | None = None,
) -> Flask:
    """Build the WSGI app. Reads the environment only when `settings` is not given.

    `content` serves extra resources and prompts next to the product's (app/protocol/providers.py);
    the product passes none, a test app serves the conformance suite's fixtures with it.

    Raises:
        SettingsError: a setting is invalid (the message names it).
    """
    settings = settings or Settings.from_env()
    configure_logging(settings, log_stream)
    verifier = TokenVerifier(settings) if settings.auth_enabled else None
    # KUBE_AUTH=exchange posts callers' tokens to the IdP's token endpoint, found by the same discovery.
    contexts = KubeContexts(settings, token_endpoint=verifier.provider.token_endpoint if verifier else None)
    # The tools as served here: the groups of MCP_TOOLSETS, with a `context` argument when there
    # are several contexts, and without the ones that change things when every context is read-only.
    registry = Registry(registry.specs() if registry else tools_in(settings.toolsets), contexts.policies,
                        contexts.default.name, confirm_mode=settings.confirm_mode)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    if settings.trusted_proxy_hops:
        # Exactly the configured hops: a guessed count lets clients spoof their address.
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]
    register_request_id(app)  # first, so even a rate-limited answer carries the request id
    limiter = create_limiter(app, settings)
    app.extensions[STATE_KEY] = AppState(
        settings=settings,
        server=McpServer(
            registry,
            ServerIdentity(
                name=SERVICE_NAME, title="CloudNativePG MCP Server", version=__version__, instructions=INSTRUCTIONS
            ),
            ToolPolicy(settings),
            PersonConfirmations(settings),
            content,
        ),
        kube=contexts,
        verifier=verifier,
        limiter=limiter,
        failed_auth=FailedAuthLimit(limiter, settings),
        registration=build_proxy(settings),
    )
    register_error_handlers(app)
    access_log.install(app)
    app.register_blueprint(metrics_endpoint.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(wellknown.bp)
    app.register_blueprint(mcp_endpoint.bp)
    if app_state(app).registration is not None:
        registration.install(app, limiter, settings)
    if serve_http and not settings.auth_enabled:
        log.warning(
            "AUTHENTICATION IS OFF: OIDC_ISSUER is unset, so /mcp accepts requests without a token. "
            "Serve it on loopback only (bind %s), or set OIDC_ISSUER.",
            settings.gunicorn_bind,
        )
    return app
