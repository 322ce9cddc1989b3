#!/usr/bin/env bash
# Fetch the pinned Keycloak distribution from Maven Central into a cache outside the repo keyed by
# version: ${CNPG_MCP_CACHE:-~/.cache/cnpg-mcp}/keycloak/<version>/ (a 177 MB zip, checked against
# the pinned sha512, then unpacked). Prints the path of bin/kc.sh. Needs Java 17 or later
# (Debian's default-jre-headless is installed when java is missing). Later runs return at once.
set -euo pipefail
cd "$(dirname "$0")"
. ./versions.env
dir="${CNPG_MCP_CACHE:-$HOME/.cache/cnpg-mcp}/keycloak/${KEYCLOAK_VERSION}"
kc="$dir/keycloak-${KEYCLOAK_VERSION}/bin/kc.sh"
if ! command -v java >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends default-jre-headless >/dev/null
fi
if [ -x "$kc" ]; then
  echo "$kc"
  exit 0
fi
echo "keycloak: fetching ${KEYCLOAK_VERSION} from Maven Central (first run only)..." >&2
rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
zip="$dir.tmp/keycloak.zip"
curl -fsSL --retry 3 -o "$zip" \
  "https://repo1.maven.org/maven2/org/keycloak/keycloak-quarkus-dist/${KEYCLOAK_VERSION}/keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip"
echo "${KEYCLOAK_SHA512}  $zip" | sha512sum --check --quiet
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$zip" "$dir.tmp"
rm "$zip"
chmod +x "$dir.tmp/keycloak-${KEYCLOAK_VERSION}/bin/"*.sh
"$dir.tmp/keycloak-${KEYCLOAK_VERSION}/bin/kc.sh" --version >&2
rm -rf "$dir" && mv "$dir.tmp" "$dir"
echo "$kc"
