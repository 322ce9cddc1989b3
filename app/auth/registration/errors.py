"""RFC 7591 §3.2.2 error responses, as an exception the web layer turns into JSON."""

from __future__ import annotations

INVALID_REDIRECT_URI = "invalid_redirect_uri"
INVALID_CLIENT_METADATA = "invalid_client_metadata"
INVALID_SOFTWARE_STATEMENT = "invalid_software_statement"
UNAPPROVED_SOFTWARE_STATEMENT = "unapproved_software_statement"
# The codes RFC 7591 defines: the only ones passed through from an upstream registration endpoint.
RFC7591_ERRORS = frozenset({INVALID_REDIRECT_URI, INVALID_CLIENT_METADATA, INVALID_SOFTWARE_STATEMENT,
                            UNAPPROVED_SOFTWARE_STATEMENT})
SERVER_ERROR = "server_error"
TEMPORARILY_UNAVAILABLE = "temporarily_unavailable"


class RegistrationError(Exception):
    """A refused or failed registration: `status`, an OAuth `error` code and a one-line description.

    Descriptions are written for the person configuring a client; they never contain a token,
    a secret or an upstream response body.
    """

    def __init__(self, status: int, error: str, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid_redirect_uri(description: str) -> RegistrationError:
    return RegistrationError(400, INVALID_REDIRECT_URI, description)


def invalid_client_metadata(description: str) -> RegistrationError:
    return RegistrationError(400, INVALID_CLIENT_METADATA, description)
