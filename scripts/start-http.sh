#!/usr/bin/env bash
# Start cnpg-mcp-server in HTTP mode (gunicorn serving /mcp), the same way `make run` does:
# `.venv/bin/python -m devenv.run`. Every setting comes from the environment and is passed
# through unchanged (OIDC_*, MCP_*, GUNICORN_*, KUBECONFIG, ...; see README.md and
# docs/oidc.md). Extra arguments are handed to gunicorn.
#
#   scripts/start-http.sh
#   OIDC_ISSUER=https://auth.example.com OIDC_AUDIENCE=mcp-api scripts/start-http.sh
#   GUNICORN_BIND=127.0.0.1:3100 scripts/start-http.sh
#
# With KUBECONFIG, in-cluster configuration or ~/.kube/config it serves that cluster;
# with none it starts a local control plane with the CloudNativePG operator and a demo cluster, and stops it on exit.
# Stop the server with Ctrl-C (SIGINT) or SIGTERM; requests in flight are finished first.
set -euo pipefail

case ${1:-} in
  -h | --help)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

# Create the virtualenv when it is missing, or refresh it when `make` finds the
# requirements newer than the last `make setup` (what `make run` would do too).
if [ ! -x .venv/bin/python ] || { [ -f .venv/.installed ] && ! make -s -q setup; }; then
  echo "start-http: running make setup" >&2
  make -s setup >&2
fi

# The original start-http.sh read MCP_HOST/MCP_PORT; honour them when GUNICORN_BIND is unset.
# The default stays 127.0.0.1:3000 (a non-loopback bind needs OIDC_ISSUER, see docs/oidc.md).
if [ -z "${GUNICORN_BIND:-}" ] && { [ -n "${MCP_HOST:-}" ] || [ -n "${MCP_PORT:-}" ]; }; then
  host=${MCP_HOST:-127.0.0.1}
  case $host in *:*) case $host in \[*) ;; *) host="[$host]" ;; esac ;; esac
  export GUNICORN_BIND="$host:${MCP_PORT:-3000}"
fi

exec .venv/bin/python -m devenv.run "$@"
