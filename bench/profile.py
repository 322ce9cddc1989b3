"""`python -m bench.profile [--only NAME]`: where the time goes in one request, with pyinstrument.

Runs the real app in-process (Flask test client, authentication on against the local identity
provider, the local control plane seeded as in the benchmark) and prints a call tree per request
kind. Use it to find per-request work that could be done once per worker.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from pyinstrument import Profiler

from app import create_app
from app.settings import Settings
from bench import fixtures
from bench.fixtures import LARGE, RESOURCE, SMALL, TARGET, rpc, tool_call
from devenv.controlplane import LocalControlPlane
from devenv.idp import LocalIdP

REPEAT = {"tools/list": 500, "server/discover": 500, "get-cluster": 100, "list 500 clusters": 10}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(REPEAT), help="profile one request kind")
    args = parser.parse_args()
    with (LocalControlPlane(verbose=False) as cp, LocalIdP([RESOURCE], verbose=False) as idp,
          tempfile.TemporaryDirectory(prefix="profile-") as tmp):
        fixtures.seed_clusters(cp.api_client(), SMALL, 10, full_for=10)
        fixtures.seed_clusters(cp.api_client(), LARGE, 500, full_for=0)
        settings = Settings.from_env({
            "KUBECONFIG": str(cp.write_kubeconfig(Path(tmp) / "kubeconfig")), "ACCESS_LOG": "false",
            "OIDC_ISSUER": idp.issuer, "OIDC_AUDIENCE": RESOURCE,
        })
        client = create_app(settings).test_client()
        token = {"Authorization": f"Bearer {idp.token('mcp-client', scope='openid', resource=RESOURCE)}"}
        requests = {
            "tools/list": rpc("tools/list"),
            "server/discover": rpc("server/discover", modern=True),
            "get-cluster": tool_call("cluster_get", namespace=SMALL, name=TARGET),
            "list 500 clusters": tool_call("cluster_list", namespace=LARGE),
        }
        for name, (body, headers) in requests.items():
            if args.only and name != args.only:
                continue
            headers = {**headers, **token}
            answer = client.post("/mcp", data=body, headers=headers)  # warm: lazy clients, JWKS, caches
            assert answer.status_code == 200 and "result" in json.loads(answer.data), answer.data[:300]
            profiler = Profiler(interval=0.0005)
            with profiler:
                for _ in range(REPEAT[name]):
                    client.post("/mcp", data=body, headers=headers)
            print(f"\n===== {name} x {REPEAT[name]} =====")
            print(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=True))


if __name__ == "__main__":
    main()
