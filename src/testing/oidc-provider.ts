import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';

/**
 * A real OpenID provider for tests: the `oidc-provider` package on 127.0.0.1 with plain HTML
 * sign-in pages that Chromium and `signInOverHttp` can both complete. Consent is granted
 * automatically; the login form takes an account id and nothing else.
 */

export interface TestOidcClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export interface TestOidcProviderOptions {
  /** Account id (typed into the login form, becomes `sub`) → its claims: email, name, preferred_username, groups… */
  accounts: Record<string, Record<string, unknown>>;
  clients: TestOidcClient[];
  /** Listen on this port (e.g. to bring a stopped provider back at the same issuer); random when absent. */
  port?: number;
  /** Sign with this key (a restarted provider keeps its keys, as real ones do); new when absent. */
  signingKey?: JWK;
}

export interface TestOidcProvider {
  /** `http://127.0.0.1:<port>`: the issuer to configure (with `allowInsecureHttp: true`). */
  issuer: string;
  port: number;
  /** The private RS256 JWK (with `kid`) the provider signs ID tokens with: forge correctly signed tokens with it. */
  signingKey: JWK;
  stop(): Promise<void>;
}

// oidc-provider ships no type declarations: these are the parts of its API this harness uses.
interface InteractionDetails {
  uid: string;
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, unknown> & { client_id: string };
  session?: { accountId: string };
  grantId?: string;
}
interface ProviderGrant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
}
interface OidcProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission: boolean },
  ): Promise<void>;
  Grant: { new (props: { accountId: string; clientId: string }): ProviderGrant; find(id: string): Promise<ProviderGrant | undefined> };
}
type OidcProviderClass = new (issuer: string, configuration: Record<string, unknown>) => OidcProviderInstance;

let providerClass: Promise<OidcProviderClass> | undefined;
function loadProviderClass(): Promise<OidcProviderClass> {
  // A non-literal specifier: the untyped package is typed by the interfaces above instead.
  const specifier: string = 'oidc-provider';
  providerClass ??= import(specifier).then((m: { default: OidcProviderClass }) => m.default);
  return providerClass;
}

export async function startOidcProvider(opts: TestOidcProviderOptions): Promise<TestOidcProvider> {
  const Provider = await loadProviderClass();
  const signingKey: JWK = opts.signingKey ?? {
    ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)),
    kid: `test-${randomBytes(4).toString('hex')}`,
    alg: 'RS256',
    use: 'sig',
  };

  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    adapter: memoryAdapter(),
    clients: opts.clients.map((c) => ({ ...c, grant_types: ['authorization_code'], response_types: ['code'] })),
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      // Like many company IdPs, group membership comes with the profile.
      profile: ['name', 'preferred_username', 'given_name', 'family_name', 'groups'],
    },
    features: { devInteractions: { enabled: false } },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
    findAccount: async (_ctx: unknown, id: string) => {
      const claims = Object.hasOwn(opts.accounts, id) ? opts.accounts[id] : undefined;
      return claims && { accountId: id, claims: async () => ({ ...claims, sub: id }) };
    },
    renderError: async (ctx: { type: string; body: string }, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in failed', `<p id="error">${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`);
    },
  });

  const providerCallback = provider.callback();
  handler = (req, res) => {
    const match = /^\/interaction\/([\w-]+)(?:\/(login|cancel))?$/.exec((req.url ?? '').split('?')[0]);
    if (!match) return providerCallback(req, res);
    interaction(provider, opts.accounts, req, res, match[2]).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page('Sign-in failed', `<p id="error">${escapeHtml(e instanceof Error ? e.message : String(e))}</p>`));
    });
  };

  return {
    issuer,
    port,
    signingKey,
    stop: () => closeServer(server),
  };
}

async function interaction(
  provider: OidcProviderInstance,
  accounts: Record<string, Record<string, unknown>>,
  req: IncomingMessage,
  res: ServerResponse,
  action: string | undefined,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (action === 'cancel' && req.method === 'POST') {
    const result = { error: 'access_denied', error_description: 'The user cancelled the sign-in' };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  if (details.prompt.name === 'consent') return grantConsent(provider, details, req, res);
  if (action === 'login' && req.method === 'POST') {
    const login = new URLSearchParams(await readBody(req)).get('login')?.trim() ?? '';
    if (Object.hasOwn(accounts, login)) {
      return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    }
    return sendLoginPage(res, details, 401, `No account "${login}" at this test provider; known: ${Object.keys(accounts).join(', ')}`);
  }
  return sendLoginPage(res, details, 200);
}

/** Grants every scope and claim the client asked for, as a first-party provider would. */
async function grantConsent(provider: OidcProviderInstance, details: InteractionDetails, req: IncomingMessage, res: ServerResponse) {
  const grant =
    (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
    new provider.Grant({ accountId: details.session?.accountId ?? '', clientId: details.params.client_id });
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

function sendLoginPage(res: ServerResponse, details: InteractionDetails, status: number, error?: string): void {
  const base = `/interaction/${details.uid}`;
  const body = `
<h1>Sign in to ${escapeHtml(details.params.client_id)}</h1>
${error ? `<p id="error">${escapeHtml(error)}</p>` : ''}
<form id="login" method="post" action="${base}/login">
  <label>Account id <input name="login" autocomplete="off" autofocus required></label>
  <button type="submit">Sign in</button>
</form>
<form id="cancel" method="post" action="${base}/cancel"><button type="submit">Cancel</button></form>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(page('Sign in', body));
}

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)} · test OpenID provider</title></head><body>${body}</body></html>`;

function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * oidc-provider's storage, kept in this process (its built-in one warns on every start).
 * Only what the authorization-code flow needs: records by id, sessions by uid, revocation by grant.
 */
function memoryAdapter() {
  const records = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>();
  const live = (key: string) => {
    const r = records.get(key);
    if (r && r.expiresAt <= Date.now()) records.delete(key);
    return r && r.expiresAt > Date.now() ? r.payload : undefined;
  };
  return (model: string) => ({
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      records.set(`${model}:${id}`, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    },
    async find(id: string) {
      return live(`${model}:${id}`);
    },
    async findByUid(uid: string) {
      for (const [key] of records) {
        const payload = key.startsWith(`${model}:`) ? live(key) : undefined;
        if (payload?.uid === uid) return payload;
      }
      return undefined;
    },
    async findByUserCode() {
      return undefined;
    },
    async consume(id: string) {
      const payload = live(`${model}:${id}`);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    },
    async destroy(id: string) {
      records.delete(`${model}:${id}`);
    },
    async revokeByGrantId(grantId: string) {
      for (const [key, r] of records) if (r.payload.grantId === grantId) records.delete(key);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Driving the sign-in pages over plain HTTP

/**
 * Completes a sign-in at the test provider the way a browser would (redirects, cookies, the
 * login form) and returns the URL the provider finally redirects to at the client's
 * `redirect_uri`, without fetching it: hand it to the client's callback.
 */
export function signInOverHttp(authorizationUrl: string, login: string): Promise<URL> {
  return driveSignIn(authorizationUrl, 'login', new URLSearchParams({ login }));
}

/** Presses Cancel on the login page: the provider redirects back with `error=access_denied`. */
export function cancelSignInOverHttp(authorizationUrl: string): Promise<URL> {
  return driveSignIn(authorizationUrl, 'cancel', new URLSearchParams());
}

async function driveSignIn(authorizationUrl: string, formId: 'login' | 'cancel', fields: URLSearchParams): Promise<URL> {
  const redirectUri = new URL(authorizationUrl).searchParams.get('redirect_uri');
  if (!redirectUri) throw new Error(`The authorization URL ${authorizationUrl} has no redirect_uri parameter`);
  const target = new URL(redirectUri);
  const jar = new CookieJar();
  let url = new URL(authorizationUrl);
  let body: URLSearchParams | undefined;
  let submitted = false;
  for (let step = 0; step < 20; step++) {
    const res = await fetch(url, {
      method: body ? 'POST' : 'GET',
      body,
      redirect: 'manual',
      headers: { cookie: jar.header(url), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    });
    jar.store(res.headers.getSetCookie());
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      const next = new URL(location, url);
      if (next.origin === target.origin && next.pathname === target.pathname) return next;
      url = next;
      body = undefined;
      continue;
    }
    const html = await res.text();
    const action = new RegExp(`<form id="${formId}" method="post" action="([^"]+)"`).exec(html)?.[1];
    if (!action || submitted) {
      const shown = html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
      throw new Error(`The test OpenID provider answered HTTP ${res.status} at ${url.pathname} instead of redirecting to ${redirectUri}: ${shown}`);
    }
    url = new URL(action.replace(/&#38;/g, '&'), url);
    body = fields;
    submitted = true;
  }
  throw new Error(`The sign-in at ${authorizationUrl} did not reach ${redirectUri} within 20 redirects`);
}

/** Just enough of a cookie jar for one host: names, paths and deletions. */
class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  store(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key, val = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = val;
        if (key.toLowerCase() === 'max-age' && Number(val) <= 0) expired = true;
        if (key.toLowerCase() === 'expires' && Date.parse(val) <= Date.now()) expired = true;
      }
      const key = `${name}\n${path}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  header(url: URL): string {
    return [...this.cookies.values()]
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

// ---------------------------------------------------------------------------------------------
// A tampering proxy, for tests of what a client does with a bad ID token

export interface IdTokenTampering {
  /** Changes the claims of each ID token the provider issues (`iss` already names the proxy). */
  idToken?: (claims: JWTPayload) => JWTPayload;
  /** Signs the ID tokens with this key instead of the provider's; the `kid` still names the provider's key. */
  signingKey?: JWK;
  /** Changes the discovery document (`issuer` already names the proxy). */
  discovery?: (document: Record<string, unknown>) => Record<string, unknown>;
}

export interface TamperingProxy {
  /** The proxy's URL: configure it as the issuer. */
  issuer: string;
  /** Every token the token endpoint handed out through the proxy, to check none leaks. */
  tokensIssued: string[];
  stop(): Promise<void>;
}

/**
 * TEST-ONLY TAMPERING PROXY: a man in the middle in front of a test provider. To the client it
 * is the issuer (`proxy.issuer`); it forwards everything to the provider and re-issues every
 * ID token from the token endpoint with `iss` set to itself, the claims changed by
 * `tampering.idToken` and re-signed (by the provider's key unless `tampering.signingKey`).
 * With no tampering, sign-in through it succeeds, which shows the proxy alone changes nothing.
 */
export async function startTamperingProxy(
  provider: TestOidcProvider,
  tampering: IdTokenTampering = {},
): Promise<TamperingProxy> {
  const discovered = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
  const tokenPath = new URL(discovered.token_endpoint).pathname;
  const agent = new http.Agent({ keepAlive: false });
  let issuer = '';
  const tokensIssued: string[] = [];

  const server = http.createServer((req, res) => {
    forward(req)
      .then(async (upstream) => {
        const path = (req.url ?? '/').split('?')[0];
        let body = upstream.body;
        const json = () => JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        if (upstream.status === 200 && path === '/.well-known/openid-configuration') {
          const document = { ...json(), issuer };
          body = Buffer.from(JSON.stringify(tampering.discovery ? tampering.discovery(document) : document));
        }
        if (upstream.status === 200 && path === tokenPath && req.method === 'POST') {
          const tokens = json();
          if (typeof tokens.id_token === 'string') tokens.id_token = await reissue(tokens.id_token);
          for (const value of [tokens.access_token, tokens.id_token, tokens.refresh_token]) if (typeof value === 'string') tokensIssued.push(value);
          body = Buffer.from(JSON.stringify(tokens));
        }
        const headers = { ...upstream.headers };
        delete headers['transfer-encoding'];
        delete headers.etag;
        headers['content-length'] = String(body.length);
        if (typeof headers.location === 'string') {
          const location = new URL(headers.location, issuer);
          if (location.searchParams.get('iss') === provider.issuer) {
            location.searchParams.set('iss', issuer);
            headers.location = location.href;
          }
        }
        res.writeHead(upstream.status, headers);
        res.end(body);
      })
      .catch((e: unknown) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`test tampering proxy: ${e instanceof Error ? e.message : String(e)}`);
      });
  });

  async function forward(req: IncomingMessage) {
    const body = Buffer.from(await readBody(req));
    return new Promise<{ status: number; headers: http.OutgoingHttpHeaders; body: Buffer }>((resolve, reject) => {
      // The Host header stays the proxy's, so the provider names the proxy in every URL it builds.
      const upstream = http.request(
        { host: '127.0.0.1', port: provider.port, method: req.method, path: req.url, headers: req.headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  async function reissue(idToken: string): Promise<string> {
    const [header, payload] = idToken
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
    const claims: JWTPayload = { ...payload, iss: issuer };
    const key = await importJWK(tampering.signingKey ?? provider.signingKey, header.alg);
    return new SignJWT(tampering.idToken ? tampering.idToken(claims) : claims).setProtectedHeader({ alg: header.alg, kid: header.kid }).sign(key);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { issuer, tokensIssued, stop: () => closeServer(server) };
}
