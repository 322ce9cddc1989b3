# Developer entry points. `make run` serves the app; `make test` runs every test layer.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup node-clients controlplane operator kustomize keycloak system-packages bench-packages run stdio test test-fast bench bench-smoke profile clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

node-clients: setup
	PYTHON=$(BIN)/python tools/node-clients.sh

## Build (once, cached in ~/.cache/cnpg-mcp) the local kube-apiserver, etcd and kube-controller-manager
## used by tests and `make run`.
controlplane:
	tools/controlplane/build.sh >/dev/null

## Build (once, cached in ~/.cache/cnpg-mcp/operator) the CloudNativePG operator at the CRDs' release.
operator:
	tools/operator/build.sh >/dev/null

## Build (once, cached in ~/.cache/cnpg-mcp) the pinned kustomize used to render k8s/ in tests.
kustomize:
	tools/kustomize/build.sh >/dev/null

## Build (once, cached in ~/.cache/cnpg-mcp) the pinned Helm used to lint and render deploy/helm in tests.
.PHONY: helm
helm:
	tools/helm/build.sh >/dev/null

## Fetch (once, cached in ~/.cache/cnpg-mcp/keycloak) the pinned Keycloak the auth tests run.
keycloak:
	tools/keycloak/fetch.sh >/dev/null

## Debian packages the tests start as real servers (redis-server for shared rate-limit counters,
## nginx for the shipped reverse-proxy config).
system-packages:
	@command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null; }

## wrk, the load generator the benchmarks drive (Debian's wrk 4.1), plus what `make test` needs.
bench-packages: system-packages
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

## Serve /mcp on http://127.0.0.1:3000 with gunicorn (auth off → loopback only). Uses KUBECONFIG,
## in-cluster config or ~/.kube/config; with none, starts a local control plane with a demo cluster.
run: setup
	$(BIN)/python -m devenv.run

## Speak MCP over stdin/stdout (for desktop clients that launch a command).
stdio: setup
	@$(BIN)/python -m app.stdio

## Every test layer: unit, app (Flask test client) and integration (real gunicorn and MCP clients).
test: setup node-clients controlplane operator kustomize helm keycloak system-packages
	$(BIN)/ruff check app bench devenv tests tools wsgi.py gunicorn.conf.py
	$(BIN)/python -m pytest

## Unit and app layers only (seconds, no processes started).
test-fast: setup
	$(BIN)/python -m pytest tests/unit tests/app tests/test_architecture.py

## Benchmarks: the figures and targets of README "Performance", with the pinned peer servers measured
## beside ours (about 9 minutes; prints tables). The peers are fetched once into ~/.cache/cnpg-mcp/peers.
bench: setup node-clients controlplane operator bench-packages
	$(BIN)/python -m bench

## The same benchmark with 1-second runs: checks it works and its figures are sane (CI runs this).
bench-smoke: setup node-clients controlplane operator bench-packages
	$(BIN)/python -m bench --smoke

## Only the peer comparison: ours, kubernetes-mcp-server and the SDK's MCPServer (about 4 minutes).
.PHONY: bench-peers
bench-peers: setup node-clients controlplane operator bench-packages
	$(BIN)/python -m bench --only peers

## Where one request's time goes (pyinstrument call trees for tools/list, get-cluster, ...).
profile: setup node-clients controlplane operator
	$(BIN)/python -m bench.profile

clean:
	rm -rf $(VENV) tests/clients/node/node_modules
