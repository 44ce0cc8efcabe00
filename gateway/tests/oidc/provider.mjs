// A real OpenID provider (oidc-provider, a certified OpenID Connect implementation) for
// gateway/tests/jwt.rs. It listens on 127.0.0.1 (a free port) and prints one JSON line:
// {"issuer": "http://127.0.0.1:PORT", "port": PORT}.
//
// Tokens: the client_credentials grant, with resource indicators so that access tokens are
// JWTs (RS256) for an audience:
//   https://weather.example  - a 300 s token
//   https://short.example    - a 1 s token (to see expiry)
//   https://maps.example     - another audience
// Clients (secret "secret-<id>"), each with its roles in `roles`, `realm_access.roles` and
// `resource_access.weather-app.roles`, and `tenant: "acme"`:
//   weather-admin: admin, reader      weather-reader: reader
//
// Admin endpoints (the test drives the key rotation):
//   POST /admin/rotate?keep=1  sign with a new key from now on; keep=1 keeps the old key in the
//                              JWKS (after the new one), otherwise it is dropped
//   POST /admin/down, /admin/up  make /jwks answer 503, or answer again
//   GET  /admin/kid            the kid tokens are signed with now
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

const RESOURCES = {
  'https://weather.example': 300,
  'https://short.example': 1,
  'https://maps.example': 300,
};
const ROLES = {
  'weather-admin': ['admin', 'reader'],
  'weather-reader': ['reader'],
};

let generation = 0;
function newKey() {
  generation += 1;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: `key-${generation}`, use: 'sig', alg: 'RS256' };
}

function makeProvider(issuer, keys) {
  const provider = new Provider(issuer, {
    clients: Object.keys(ROLES).map((id) => ({
      client_id: id,
      client_secret: `secret-${id}`,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'read write',
    })),
    jwks: { keys },
    scopes: ['read', 'write'],
    // The resource server's own TTL (1 s for https://short.example).
    ttl: { ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'https://weather.example',
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          const ttl = RESOURCES[resource];
          if (ttl === undefined) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: 'read write',
            audience: resource,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    extraTokenClaims: (_ctx, token) => {
      const roles = ROLES[token.clientId] ?? [];
      return {
        tenant: 'acme',
        roles,
        realm_access: { roles },
        resource_access: { 'weather-app': { roles } },
      };
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  return provider;
}

let keys = [newKey()];
let down = false;
let issuer;
let provider;
let handler;

function install() {
  provider = makeProvider(issuer, keys);
  handler = provider.callback();
}

const server = createServer((req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname.startsWith('/admin/')) {
    const answer = (body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST' && url.pathname === '/admin/rotate') {
      const next = newKey();
      keys = url.searchParams.get('keep') === '1' ? [next, ...keys] : [next];
      install();
      return answer({ kid: next.kid, jwks: keys.map((k) => k.kid) });
    }
    if (req.method === 'POST' && url.pathname === '/admin/down') {
      down = true;
      return answer({ down });
    }
    if (req.method === 'POST' && url.pathname === '/admin/up') {
      down = false;
      return answer({ down });
    }
    if (url.pathname === '/admin/kid') {
      return answer({ kid: keys[0].kid });
    }
    res.writeHead(404);
    return res.end();
  }
  if (down && url.pathname === '/jwks') {
    res.writeHead(503);
    return res.end('down');
  }
  return handler(req, res);
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  issuer = `http://127.0.0.1:${port}`;
  install();
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

// Ends with the test process: stdin closes when the parent goes away.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
