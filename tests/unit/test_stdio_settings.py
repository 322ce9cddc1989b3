"""app.stdio refuses the per-caller Kubernetes identity modes: stdio has no caller token to map or exchange."""

from __future__ import annotations

import pytest

from app import stdio

OIDC = {"OIDC_ISSUER": "https://idp.example.com", "OIDC_AUDIENCE": "mcp"}


@pytest.mark.parametrize(("env", "mode"), [
    ({"KUBE_IMPERSONATE": "true"}, "impersonate"),
    ({"KUBE_AUTH": "exchange", "KUBE_EXCHANGE_AUDIENCE": "kubernetes", "KUBE_EXCHANGE_CLIENT_ID": "mcp-api",
      "KUBE_EXCHANGE_CLIENT_SECRET": "s3cret"}, "exchange"),
])
def test_stdio_refuses_modes_that_need_a_callers_token(env: dict[str, str], mode: str,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in {**OIDC, **env}.items():
        monkeypatch.setenv(name, value)
    assert stdio.main() == 2
    err = capsys.readouterr().err
    assert f"KUBE_AUTH={mode} needs a caller's token, and stdio has none" in err
    assert "s3cret" not in err
