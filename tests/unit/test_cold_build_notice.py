"""`make run` says how long a cold build takes before it starts one, and only then."""

from __future__ import annotations

from pathlib import Path

import pytest

from devenv.binaries import CONTROLPLANE_BINARIES, cold_build_needed
from devenv.paths import versions


def test_a_cold_build_is_announced_until_every_binary_is_cached(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNPG_MCP_CACHE", str(tmp_path))
    pinned = versions()
    controlplane = tmp_path / "controlplane" / f"{pinned['KUBERNETES_VERSION']}-{pinned['ETCD_VERSION']}"
    operator = tmp_path / "operator" / pinned["CNPG_VERSION"]

    assert cold_build_needed()
    controlplane.mkdir(parents=True)
    for name in CONTROLPLANE_BINARIES:
        (controlplane / name).touch()
    assert cold_build_needed()  # the operator is still missing
    operator.mkdir(parents=True)
    (operator / "manager").touch()
    assert not cold_build_needed()
