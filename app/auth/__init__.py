"""Bearer-token authentication (OIDC/OAuth JWT access tokens). Knows neither Flask nor tools."""

from app.auth.errors import AuthError
from app.auth.verifier import TokenVerifier

__all__ = ["AuthError", "TokenVerifier"]
