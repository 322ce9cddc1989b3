// A local OpenID Provider for tests: panva's oidc-provider 9.13.3 issuing RFC 9068 JWT access
// tokens for client_credentials (and, when INTERACTIVE, the authorization code flow with PKCE),
// with the audience chosen by resource indicators (RFC 8707).
// devenv/idp.py (LocalIdP) starts it; every setting comes from the environment:
//
//   PORT              port to listen on (127.0.0.1 only)
//   ISSUER            http://127.0.0.1:PORT (the exact `iss` the resource server will compare)
//   KEYS_FILE         private JWKS JSON: one RSA 2048 key (RS256) and one EC P-256 key (ES256)
//   CLIENTS_FILE      JSON list of static client metadata
//   RESOURCES         comma-separated allowed resource indicators; the first is the default
//   REGISTRATION      "true" enables dynamic client registration at /reg (default "false")
//   INITIAL_ACCESS_TOKEN  with REGISTRATION: /reg then requires `Authorization: Bearer <this>` (RFC 7591 §3)
//   REGISTRATION_ADVERTISED  "false" keeps /reg out of discovery (an IdP whose registration API is for
//                     operators only, as Okta's is): MCP clients then fall back to the MCP server's /register
//   INTERACTIVE       "true" enables oidc-provider's development login and consent pages, so the
//                     authorization code flow can be driven over HTTP (any login and password are accepted)
//   ACCESS_TOKEN_TTL  access token lifetime in seconds (default 300)
//   NODE_MODULES_DIR  where oidc-provider is installed (default: tests/clients/node/node_modules)
//
// Why the import is indirect: ESM resolves a bare specifier relative to the importing file and
// ignores NODE_PATH, and this script lives in devenv/idp/, far from the node_modules that
// tools/node-clients.sh links into tests/clients/node/ (or that CI keeps in a cache). So we build a
// CommonJS resolver anchored in that folder (createRequire), ask it for the package entry file and
// import that file by absolute URL. oidc-provider's own imports (jose, koa) then resolve next to its
// real location, as usual. This works for any cwd and through the node_modules symlink;
// oidc-provider 9.13.3 declares only "main" (no "exports" map), so require.resolve finds the same
// entry point `import "oidc-provider"` would.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function fail(message) {
  console.error(`idp: ${message}`);
  process.exit(2);
}

function required(name) {
  const value = process.env[name];
  if (!value) fail(`environment variable ${name} is required`);
  return value;
}

const modulesDir = resolve(process.env.NODE_MODULES_DIR || join(here, '..', '..', 'tests', 'clients', 'node', 'node_modules'));
const requireFromClients = createRequire(join(dirname(modulesDir), 'package.json'));
let entry;
try {
  entry = requireFromClients.resolve('oidc-provider');
} catch (err) {
  fail(`oidc-provider is not installed under ${modulesDir} (run tools/node-clients.sh): ${err.message}`);
}
const { default: Provider, errors } = await import(pathToFileURL(entry).href);

const port = Number.parseInt(required('PORT'), 10);
const issuer = required('ISSUER');
const jwks = JSON.parse(readFileSync(required('KEYS_FILE'), 'utf8'));
const clients = JSON.parse(readFileSync(required('CLIENTS_FILE'), 'utf8'));
const resources = required('RESOURCES').split(',').map((s) => s.trim()).filter(Boolean);
if (resources.length === 0) fail('RESOURCES lists no resource indicator');
const registration = (process.env.REGISTRATION || 'false').toLowerCase() === 'true';
const initialAccessToken = process.env.INITIAL_ACCESS_TOKEN || undefined;
const registrationAdvertised = (process.env.REGISTRATION_ADVERTISED || 'true').toLowerCase() === 'true';
const interactive = (process.env.INTERACTIVE || 'false').toLowerCase() === 'true';
if (initialAccessToken && !registration) fail('INITIAL_ACCESS_TOKEN needs REGISTRATION=true');
const accessTokenTTL = Number.parseInt(process.env.ACCESS_TOKEN_TTL || '300', 10);
if (!Number.isInteger(port) || port <= 0) fail(`PORT must be a port number, got ${process.env.PORT}`);
if (!Number.isInteger(accessTokenTTL) || accessTokenTTL <= 0) fail('ACCESS_TOKEN_TTL must be a positive integer');

// offline_access (refresh tokens, for people who log in) only with INTERACTIVE: it is what makes
// oidc-provider offer the refresh_token grant, and a machine-only IdP should not list it.
const SCOPES = ['openid', 'cnpg:read', 'cnpg:write', 'cnpg:admin', 'mcp:tools', ...(interactive ? ['offline_access'] : [])];
const defaultResource = resources[0];
const allowed = new Set(resources);

const provider = new Provider(issuer, {
  clients,
  jwks,
  // Requested scopes outside this list are silently dropped from tokens (as real IdPs do).
  scopes: SCOPES,
  // A random secret per process: only the interactive flow uses cookies, within one login.
  cookies: { keys: [crypto.randomUUID()] },
  ttl: {
    // Both set so the provider does not warn; a resource server's accessTokenTTL wins anyway.
    AccessToken: accessTokenTTL,
    ClientCredentials: accessTokenTTL,
  },
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    // No login UI unless INTERACTIVE: then nobody can log in interactively, which is the point.
    // The development pages accept any login and ask for consent: enough to drive the code flow over HTTP.
    devInteractions: { enabled: interactive },
    // false simulates an IdP without DCR: registration_endpoint disappears from discovery. A string
    // initialAccessToken is a fixed token /reg requires (Keycloak's initial access tokens work alike).
    registration: { enabled: registration, initialAccessToken },
    resourceIndicators: {
      enabled: true,
      // Used when the client sends no resource=, so every token is audience-restricted.
      async defaultResource(_ctx, _client, oneOf) {
        if (oneOf) return oneOf.includes(defaultResource) ? defaultResource : oneOf;
        return defaultResource;
      },
      async useGrantedResource() {
        return true;
      },
      async getResourceServerInfo(_ctx, indicator, client) {
        // A named export in v9: Provider.errors.InvalidTarget would be undefined → server_error.
        if (!allowed.has(indicator)) throw new errors.InvalidTarget();
        return {
          // Everything the client may have: the requested scopes are then filtered by this list.
          scope: client.scope || SCOPES.join(' '),
          accessTokenTTL,
          accessTokenFormat: 'jwt',
          // One IdP covers both algorithms: clients named *-es get ES256; others (DCR too) RS256.
          jwt: { sign: { alg: client.clientId.endsWith('-es') ? 'ES256' : 'RS256' } },
          // No `audience`: aud is then the resource indicator itself, as the MCP spec wants.
        };
      },
    },
  },
});

// One line per request on stdout (the log file LocalIdP keeps), for post-mortems of failed tests.
provider.use(async (ctx, next) => {
  const began = process.hrtime.bigint();
  try {
    await next();
  } finally {
    const ms = Number(process.hrtime.bigint() - began) / 1e6;
    console.log(`${new Date().toISOString()} ${ctx.method} ${ctx.path} ${ctx.status} ${ms.toFixed(1)}ms`);
  }
});
// An IdP whose registration API exists but is not published (REGISTRATION_ADVERTISED=false).
if (!registrationAdvertised) {
  provider.use(async (ctx, next) => {
    await next();
    // oidc-provider serves the same document at both well-known paths (OIDC and RFC 8414).
    const discovery = ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'];
    if (discovery.includes(ctx.path) && ctx.body) delete ctx.body.registration_endpoint;
  });
}
// Token endpoint errors are answered as JSON; log them too (which client, which error).
provider.on('grant.error', (ctx, err) => {
  console.log(`grant.error client=${ctx.oidc?.client?.clientId ?? '-'} ${err.error ?? err.name}: ${err.error_description ?? err.message}`);
});
provider.on('server_error', (_ctx, err) => {
  console.error('server_error', err);
});

const server = provider.listen(port, '127.0.0.1', () => {
  const kids = jwks.keys.map((k) => `${k.kid}(${k.alg})`).join(' ');
  console.log(`idp: listening on ${issuer} resources=${resources.join(' ')} registration=${registration} `
    + `initialAccessToken=${initialAccessToken ? 'required' : 'no'} advertised=${registrationAdvertised} `
    + `interactive=${interactive} keys=${kids}`);
});
// EADDRINUSE and friends: exit with the reason in the log, which LocalIdP reads to retry a port.
server.on('error', (err) => {
  console.error(`idp: cannot listen on 127.0.0.1:${port}: ${err.code ?? ''} ${err.message}`);
  process.exit(1);
});
// Stop promptly on SIGTERM/SIGINT (LocalIdP.stop); open keep-alive sockets must not delay it.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    console.log(`idp: ${signal}, exiting`);
    process.exit(0);
  });
}
