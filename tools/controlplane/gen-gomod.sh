#!/usr/bin/env bash
# Regenerate go.mod: require k8s.io/kubernetes at the pinned release and replace every
# staging module (listed in that release's own go.mod) with its published v0.Y.Z.
set -euo pipefail
cd "$(dirname "$0")"
. ./versions.env
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
staging_version="v0.${KUBERNETES_VERSION#1.}"
rm -f go.mod go.sum
go mod init cnpg-mcp-server/tools/controlplane >/dev/null 2>&1
kube_gomod=$(go mod download -json "k8s.io/kubernetes@v${KUBERNETES_VERSION}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
modules=$(sed -n 's|^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/src/k8s.io/.*|\1|p' "$kube_gomod" | sort -u)
for module in $modules; do
  go mod edit -replace="$module=$module@$staging_version"
done
go mod edit -require="k8s.io/kubernetes@v${KUBERNETES_VERSION}" -require="go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
go mod tidy
echo "go.mod: k8s.io/kubernetes v${KUBERNETES_VERSION}, $(echo "$modules" | wc -l) staging replaces at $staging_version, etcd ${ETCD_VERSION}"
