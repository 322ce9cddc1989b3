"""OAuth discovery documents: RFC 8414 authorization-server metadata and RFC 9728
protected-resource metadata. Public, no authentication."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, Response
from mcp.shared.auth import ProtectedResourceMetadata

from app.auth.discovery import DiscoveryError
from app.web.auth_guard import public_mcp_url
from app.web.replies import json_response
from app.web.state import app_state

bp = Blueprint("wellknown", __name__)

_AS_FIELDS = (
    "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported", "grant_types_supported",
    "token_endpoint_auth_methods_supported", "code_challenge_methods_supported", "revocation_endpoint",
    "introspection_endpoint", "userinfo_endpoint",
)


def _disabled() -> Response:
    return json_response(
        {"error": "not_found",
         "error_description": "Authentication is disabled (OIDC_ISSUER is unset): no OAuth metadata is published"},
        404,
    )


@bp.get("/.well-known/oauth-authorization-server")
def authorization_server() -> Response:
    """The identity provider's metadata (for 2025-03-26 clients, which look for it on our host)."""
    state = app_state()
    if state.verifier is None:
        return _disabled()
    settings = state.settings
    try:
        document = state.verifier.provider.document()
    except DiscoveryError as exc:
        if settings.oidc_jwks_uri is None:
            return json_response({"error": "temporarily_unavailable", "error_description": str(exc)}, 503,
                                 {"Retry-After": "30"})
        # A provider without discovery (hence OIDC_JWKS_URI): publish what we know for certain.
        document = {"issuer": settings.oidc_issuer, "jwks_uri": settings.oidc_jwks_uri}
    metadata: dict[str, Any] = {"issuer": document["issuer"]}
    metadata.update({field: document[field] for field in _AS_FIELDS if field in document})
    # Required scopes first, then what the provider offers; never the same scope twice.
    metadata["scopes_supported"] = list(dict.fromkeys([*settings.supported_scopes,
                                                       *document.get("scopes_supported", [])]))
    # DCR_PROXY_URL wins even with the built-in proxy on: the operator may publish it elsewhere (another
    # host, an ingress path) and route that to this server's /register.
    builtin = proxy_registration_url() if state.registration is not None else None
    registration = settings.dcr_proxy_url or builtin or document.get("registration_endpoint")
    if registration:
        metadata["registration_endpoint"] = registration
    return json_response(metadata)


def proxy_registration_url() -> str:
    """The built-in proxy's public URL: `/register` beside `/mcp` (MCP_PUBLIC_URL's last segment
    replaced), so a path prefix that reaches /mcp reaches it too."""
    parts = urlsplit(public_mcp_url())
    path = parts.path.rstrip("/")
    if path.endswith("/mcp"):
        path = path[: -len("/mcp")]
    return urlunsplit((parts.scheme, parts.netloc, path + "/register", "", ""))


@bp.get("/.well-known/oauth-protected-resource")
@bp.get("/.well-known/oauth-protected-resource/<path:resource_path>")
def protected_resource(resource_path: str = "mcp") -> Response:
    """RFC 9728 §3.1: path-suffixed by the resource's path (`/mcp`, or `/prefix/mcp` behind a proxy)."""
    state = app_state()
    if state.verifier is None:
        return _disabled()
    metadata = ProtectedResourceMetadata(
        resource=public_mcp_url(),
        authorization_servers=[state.settings.oidc_issuer],
        scopes_supported=state.settings.supported_scopes,
        bearer_methods_supported=["header"],
        resource_name="CloudNativePG MCP Server",
    )
    return json_response(metadata.model_dump(mode="json", by_alias=True, exclude_none=True))
