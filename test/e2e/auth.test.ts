import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/testing/net.ts';
import { signInOverHttp, startOidcProvider } from '../../src/testing/oidc-provider.ts';
import { eventually, startTestPave, TEST_ADMIN_PASSWORD, type TestPave, tokenSecretOf } from '../../src/testing/pave.ts';

const org = `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-a }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: jane }
spec: { memberOf: [team-a], profile: { email: jane@acme.test, displayName: Jane Doe } }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: comp-a }
spec: { type: service, lifecycle: production, owner: team-a }
`;


/** A tiny cookie jar: enough for one browser-like client of Pave. */
class Browser {
  cookies = new Map<string, string>();
  constructor(readonly base: string) {}
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async fetch(p: string, init: RequestInit = {}) {
    const res = await fetch(p.startsWith('http') ? p : this.base + p, { ...init, redirect: 'manual', headers: { ...(init.headers as any), cookie: this.header() } });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const [k, v] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (attrs.some((a) => /max-age=0|expires=thu, 01 jan 1970/i.test(a.trim())) || v === '') this.cookies.delete(k);
      else this.cookies.set(k, v);
    }
    return res;
  }
  async json(p: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) {
    const res = await this.fetch(p, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }
}

describe('tokens', () => {
  let pave: TestPave;
  before(async () => {
    pave = await startTestPave();
  });
  after(() => pave.close());

  test('a created token is shown once, stored hashed, works, and records its last use', async () => {
    const created = await pave.api('POST', '/api/auth/tokens', { name: 'laptop', scopes: ['read'], expiresInDays: 7 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.token, /^pave_pat_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/, 'token format');
    const listed = (await pave.api('GET', '/api/auth/tokens')).body.items.find((t: any) => t.id === created.body.id);
    assert.equal(listed.token, undefined, 'the list never shows the token');
    const [row] = await pave.store.query<any>('select * from auth_tokens where id = $1', [created.body.id]);
    assert.ok(!JSON.stringify(row).includes(tokenSecretOf(created.body.token)), 'only a hash of the secret is stored');
    const use = await pave.apiAs(created.body.token)('GET', '/api/auth/whoami');
    assert.equal(use.status, 200, 'the token works');
    assert.deepEqual(use.body.scopes, ['read'], 'with its scopes');
    await eventually(async () => ((await pave.api('GET', '/api/auth/tokens')).body.items.find((t: any) => t.id === created.body.id)?.lastUsedAt ? true : undefined), 5000, 'last used time');
    const used = await eventually(async () => (await pave.api('GET', '/api/audit?action=auth.token.use')).body.items.find((e: any) => e.tokenId === created.body.id), 5000, 'token use in the audit log');
    assert.equal(used.actor, 'user:default/admin', 'token use is audited with its owner');
    assert.equal(used.authMethod, 'token', 'and how they authenticated');
  });

  test('malformed, tampered, revoked and expired tokens are refused with stable codes, and nothing changes', async () => {
    const { body } = await pave.api('POST', '/api/auth/tokens', { name: 'short-lived', scopes: ['write'], expiresInDays: 1.5 / 86400 });
    const token: string = body.token;
    const before = await pave.store.query('select count(*)::int as n from catalog_locations');
    const attempt = async (t: string | undefined, header?: string) =>
      fetch(`${pave.url}/api/catalog/locations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: header ?? `Bearer ${t}` },
        body: JSON.stringify({ type: 'url', target: 'https://example.invalid/catalog-info.yaml' }),
      });
    const codeOf = async (res: Response) => ((await res.json()) as any).error.code;
    const malformed = await attempt('not-a-token');
    assert.equal(malformed.status, 401, 'malformed');
    assert.equal(await codeOf(malformed), 'TOKEN_INVALID', 'malformed code');
    assert.match(malformed.headers.get('www-authenticate') ?? '', /Bearer/, 'WWW-Authenticate names the scheme');
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    assert.equal(await codeOf(await attempt(token.slice(0, -1) + last)), 'TOKEN_INVALID', 'tampered secret');
    assert.equal(await codeOf(await attempt(token.replace('pave_pat_', 'pave_svc_'))), 'TOKEN_INVALID', 'tampered kind');
    assert.equal(await codeOf(await attempt(undefined, `Basic ${Buffer.from('admin:x').toString('base64')}`)), 'TOKEN_INVALID', 'another scheme');
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal(await codeOf(await attempt(token)), 'TOKEN_EXPIRED', 'expired');
    const other = (await pave.api('POST', '/api/auth/tokens', { name: 'to-revoke', scopes: ['write'] })).body;
    assert.equal((await pave.apiAs(other.token)('GET', '/api/auth/whoami')).status, 200, 'works before revocation');
    assert.equal((await pave.api('DELETE', `/api/auth/tokens/${other.id}`)).status, 200, 'revoked');
    assert.equal(await codeOf(await attempt(other.token)), 'TOKEN_REVOKED', 'revoked token refused at once on this replica');
    const afterRows = await pave.store.query('select count(*)::int as n from catalog_locations');
    assert.deepEqual(afterRows, before, 'no refused request registered anything');
  });

  test('a read-scoped token cannot write, whatever its owner may do', async () => {
    const t = (await pave.api('POST', '/api/auth/tokens', { name: 'ro', scopes: ['read'] })).body.token;
    const res = await pave.apiAs(t)('POST', '/api/catalog/locations', { type: 'url', target: 'https://example.invalid/x.yaml' });
    assert.equal(res.status, 403, 'refused');
    assert.equal(res.body.error.code, 'TOKEN_SCOPE_INSUFFICIENT', 'scope code');
    const ro = (await pave.api('GET', '/api/auth/tokens')).body.items.find((i: any) => i.name === 'ro');
    const admins = (await pave.api('POST', '/api/auth/tokens', { name: 'admin-ro', scopes: ['write'] })).body;
    assert.equal((await pave.apiAs(t)('DELETE', `/api/auth/tokens/${admins.id}`)).status, 403, 'a read token cannot revoke another token');
    assert.equal((await pave.apiAs(t)('DELETE', `/api/auth/tokens/${ro.id}`)).status, 200, 'but it can revoke itself (pave logout)');
    assert.equal((await pave.apiAs(t)('GET', '/api/auth/whoami')).body.error.code, 'TOKEN_REVOKED', 'and is then refused');
    const perCapability = (await pave.api('POST', '/api/auth/tokens', { name: 'catalog-only', scopes: ['catalog.*'] })).body.token;
    assert.equal((await pave.apiAs(perCapability)('GET', '/api/catalog/entities')).status, 200, 'a capability scope covers its reads');
    assert.equal((await pave.apiAs(perCapability)('GET', '/api/jobs')).status, 403, 'and nothing outside it');
  });

  test('bad token requests get field-level errors', async () => {
    assert.equal((await pave.api('POST', '/api/auth/tokens', { name: 'x', scopes: ['everything!'] })).body.error.code, 'TOKEN_SCOPE_INVALID', 'bad scope');
    assert.equal((await pave.api('POST', '/api/auth/tokens', { name: 'x', expiresInDays: 10_000 })).body.error.code, 'TOKEN_LIFETIME_INVALID', 'too long');
    assert.equal((await pave.api('DELETE', '/api/auth/tokens/nope')).status, 404, 'unknown token');
  });

  test('an admin makes a service token that acts for a group', async () => {
    const res = await pave.api('POST', '/api/auth/tokens', { name: 'ci', kind: 'service', service: 'ci-deployer', role: 'member', owners: ['group:default/team-a'], scopes: ['write'] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const who = (await pave.apiAs(res.body.token)('GET', '/api/auth/whoami')).body;
    assert.equal(who.ref, 'service:ci-deployer', 'service principal');
    assert.deepEqual(who.ownershipRefs, ['service:ci-deployer', 'group:default/team-a'], 'owns for its group');
    const member = await pave.tokenFor('user:default/someone');
    const refused = await pave.apiAs(member)('POST', '/api/auth/tokens', { name: 'ci', kind: 'service', service: 'sneaky' });
    assert.equal(refused.status, 403, 'members cannot make service tokens');
  });
});

describe('sessions and local accounts', () => {
  let pave: TestPave;
  before(async () => {
    pave = await startTestPave({ settings: { 'auth.local.maxFailedAttempts': 3, 'auth.local.signInsPerMinutePerAddress': 14, 'auth.session.idleMinutes': 0.05 } });
  });
  after(() => pave.close());

  test('sign-in sets an httpOnly SameSite cookie; writes need the CSRF token; sign-out ends the session', async () => {
    const b = new Browser(pave.url);
    const signin = await b.json('/api/auth/signin', 'POST', { username: 'admin', password: TEST_ADMIN_PASSWORD });
    assert.equal(signin.status, 200, JSON.stringify(signin.body));
    const cookie = signin.headers.getSetCookie().join('\n');
    assert.match(cookie, /pave_session=/, 'session cookie');
    assert.match(cookie, /HttpOnly/i, 'httpOnly');
    assert.match(cookie, /SameSite=Lax/i, 'SameSite');
    assert.equal(signin.body.principal.ref, 'user:default/admin', 'signed in as the admin');
    const noCsrf = await b.json('/api/auth/tokens', 'POST', { name: 'x' });
    assert.equal(noCsrf.status, 403, 'a write without the CSRF header is refused');
    assert.equal(noCsrf.body.error.code, 'CSRF_TOKEN_INVALID', 'CSRF code');
    const withCsrf = await b.json('/api/auth/tokens', 'POST', { name: 'x' }, { 'x-csrf-token': signin.body.csrfToken });
    assert.equal(withCsrf.status, 201, 'with it the write works');
    assert.equal((await b.json('/api/auth/whoami')).status, 200, 'reads need no CSRF header');
    assert.equal((await b.json('/api/auth/signout', 'POST')).status, 204, 'signed out');
    const old = [...b.cookies.values()];
    assert.equal(old.length, 0, 'the cookie is cleared');
  });

  test('a revoked session cookie is refused with SESSION_EXPIRED; sign-out everywhere ends the others', async () => {
    const one = new Browser(pave.url);
    const two = new Browser(pave.url);
    const s1 = (await one.json('/api/auth/signin', 'POST', { username: 'admin', password: TEST_ADMIN_PASSWORD })).body;
    await two.json('/api/auth/signin', 'POST', { username: 'admin', password: TEST_ADMIN_PASSWORD });
    const everywhere = await one.json('/api/auth/signout-everywhere', 'POST', undefined, { 'x-csrf-token': s1.csrfToken });
    assert.equal(everywhere.status, 200, JSON.stringify(everywhere.body));
    assert.ok(everywhere.body.revoked >= 2, `both sessions revoked (${everywhere.body.revoked})`);
    const res = await two.json('/api/auth/whoami');
    assert.equal(res.status, 401, 'the other browser is signed out');
    assert.equal(res.body.error.code, 'SESSION_EXPIRED', 'with a clear code');
    assert.equal((await two.json('/api/auth/session')).body.signedIn, false, 'the session endpoint answers signed out');
  });

  test('an idle session expires', async () => {
    const b = new Browser(pave.url);
    await b.json('/api/auth/signin', 'POST', { username: 'admin', password: TEST_ADMIN_PASSWORD });
    assert.equal((await b.json('/api/auth/whoami')).status, 200, 'fresh session works');
    await new Promise((r) => setTimeout(r, 3500));
    const res = await b.json('/api/auth/whoami');
    assert.equal(res.status, 401, 'idle session refused');
    assert.match(res.body.error.message, /idle/, 'the message says why');
  });

  test('repeated wrong passwords lock the account; the admin unlocks it', async () => {
    await pave.api('POST', '/api/auth/accounts', { username: 'carol', password: 'carol-password-1', entityRef: 'user:default/carol' });
    const b = new Browser(pave.url);
    for (let i = 0; i < 3; i++) assert.equal((await b.json('/api/auth/signin', 'POST', { username: 'carol', password: 'wrong' })).body.error.code, 'SIGNIN_FAILED', `attempt ${i}`);
    const locked = await b.json('/api/auth/signin', 'POST', { username: 'carol', password: 'carol-password-1' });
    assert.equal(locked.status, 423, 'locked even with the right password');
    assert.equal(locked.body.error.code, 'ACCOUNT_LOCKED', 'lock code');
    assert.equal((await pave.api('POST', '/api/auth/accounts/carol/unlock')).status, 200, 'unlocked');
    assert.equal((await b.json('/api/auth/signin', 'POST', { username: 'carol', password: 'carol-password-1' })).status, 200, 'signs in after unlock');
    assert.equal((await pave.api('POST', '/api/auth/accounts', { username: 'dave', password: 'short', entityRef: 'user:default/dave' })).body.error.code, 'PASSWORD_TOO_SHORT', 'password rule');
  });

  test('sign-in attempts are rate limited per address', async () => {
    const b = new Browser(pave.url);
    let status = 0;
    for (let i = 0; i < 20 && status !== 429; i++) status = (await b.json('/api/auth/signin', 'POST', { username: `ghost-${i}`, password: 'x' })).status;
    assert.equal(status, 429, 'rate limited');
  });
});

describe('single sign-on with a real OIDC provider', () => {
  let pave: TestPave;
  let provider: Awaited<ReturnType<typeof startOidcProvider>>;
  let port: number;
  let guestPort: number;
  let dir: string;

  const startProvider = async (p?: number, signingKey?: any) =>
    startOidcProvider({
      port: p,
      signingKey,
      accounts: { jane: { email: 'jane@acme.test', name: 'Jane' }, stranger: { email: 'stranger@elsewhere.test', name: 'S' } },
      clients: [
        { client_id: 'pave', client_secret: 'pave-client-secret-123', redirect_uris: [`http://127.0.0.1:${port}/api/auth/oidc/callback`] },
        { client_id: 'pave-guests', client_secret: 'pave-client-secret-456', redirect_uris: [`http://127.0.0.1:${guestPort}/api/auth/oidc/callback`] },
      ],
    });

  before(async () => {
    port = await freePort();
    guestPort = await freePort();
    provider = await startProvider();
    pave = await startTestPave({
      port,
      settings: {
        'server.baseUrl': `http://127.0.0.1:${port}`,
        'auth.oidc': { issuer: provider.issuer, clientId: 'pave', clientSecret: 'pave-client-secret-123', allowInsecureHttp: true },
      },
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-sso-'));
    fs.writeFileSync(path.join(dir, 'org.yaml'), org);
    await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(dir, 'org.yaml') });
    await eventually(async () => ((await pave.api('GET', '/api/catalog/entities/by-name/user/default/jane')).status === 200 ? true : undefined), 15_000, 'jane');
  });
  after(async () => {
    await pave.close();
    await provider.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const signIn = async (b: Browser, login: string, returnTo = '/catalog') => {
    const start = await b.fetch(`/api/auth/oidc/start?returnTo=${encodeURIComponent(returnTo)}`);
    assert.equal(start.status, 302, 'start redirects to the provider');
    const callback = await signInOverHttp(start.headers.get('location')!, login);
    return { callback, res: await b.fetch(callback.toString()) };
  };

  test('a person signs in as the catalog User matching their email, with their groups', async () => {
    const b = new Browser(pave.url);
    const { res } = await signIn(b, 'jane');
    assert.equal(res.status, 302, 'callback redirects');
    assert.equal(res.headers.get('location'), '/catalog', 'back where they were going');
    const session = (await b.json('/api/auth/session')).body;
    assert.equal(session.signedIn, true, 'signed in');
    assert.equal(session.principal.ref, 'user:default/jane', 'as the catalog user');
    assert.deepEqual(session.principal.ownershipRefs, ['user:default/jane', 'group:default/team-a'], 'with her groups');
    assert.equal(session.principal.displayName, 'Jane Doe', 'display name from the catalog');
    const entry = await eventually(async () => (await pave.api('GET', '/api/audit?action=auth.signin&actor=user:default/jane')).body.items[0], 5000, 'the audit entry');
    assert.equal(entry.authMethod, 'oidc', 'the sign-in is audited');
    assert.equal(entry.outcome, 'success', 'as a success');
  });

  test('someone with no catalog User is refused with a clear page; replayed and foreign callbacks are refused', async () => {
    const b = new Browser(pave.url);
    const { res } = await signIn(b, 'stranger');
    const to = new URL(res.headers.get('location')!, pave.url);
    assert.equal(to.pathname, '/signin', 'sent to the sign-in page');
    assert.equal(to.searchParams.get('error'), 'SIGNIN_USER_NOT_FOUND', 'with the code');
    assert.match(to.searchParams.get('message')!, /stranger@elsewhere\.test/, 'and who they signed in as');
    assert.equal((await b.json('/api/auth/session')).body.signedIn, false, 'not signed in');
    await eventually(
      async () => ((await pave.api('GET', '/api/audit?action=auth.signin&outcome=denied')).body.items.some((e: any) => e.details?.code === 'SIGNIN_USER_NOT_FOUND') ? true : undefined),
      5000,
      'the refusal in the audit log',
    );

    const jane = new Browser(pave.url);
    const { callback } = await signIn(jane, 'jane');
    const replay = await jane.fetch(callback.toString());
    assert.equal(new URL(replay.headers.get('location')!, pave.url).searchParams.get('error'), 'OIDC_STATE_INVALID', 'a replayed callback is refused');

    const victim = new Browser(pave.url);
    const attacker = new Browser(pave.url);
    const start = await attacker.fetch('/api/auth/oidc/start?returnTo=/');
    const forged = await signInOverHttp(start.headers.get('location')!, 'jane');
    const res2 = await victim.fetch(forged.toString());
    assert.equal(new URL(res2.headers.get('location')!, pave.url).searchParams.get('error'), 'OIDC_STATE_INVALID', 'a callback from another browser is refused');
    assert.equal((await victim.json('/api/auth/session')).body.signedIn, false, 'the victim is not signed in as someone else');
  });

  test('with unknownUsers: guest, someone without a catalog User is admitted read-only', async () => {
    const guests = await startTestPave({
      port: guestPort,
      settings: {
        'server.baseUrl': `http://127.0.0.1:${guestPort}`,
        'auth.oidc': { issuer: provider.issuer, clientId: 'pave-guests', clientSecret: 'pave-client-secret-456', allowInsecureHttp: true, unknownUsers: 'guest' },
      },
    });
    try {
      const b = new Browser(guests.url);
      const start = await b.fetch('/api/auth/oidc/start?returnTo=/catalog');
      const res = await b.fetch((await signInOverHttp(start.headers.get('location')!, 'stranger')).toString());
      assert.equal(res.headers.get('location'), '/catalog', 'admitted');
      const session = (await b.json('/api/auth/session')).body;
      assert.equal(session.principal.type, 'guest', 'as a guest');
      assert.equal(session.permissions['catalog.location.create'], 'DENY', 'who cannot register');
      assert.equal(session.permissions['catalog.entity.read'], 'ALLOW', 'but can read');
    } finally {
      await guests.close();
    }
  });

  test('without server.baseUrl the callback address uses the port Pave listens on', async () => {
    const any = await startTestPave({ settings: { 'auth.oidc': { issuer: provider.issuer, clientId: 'pave', clientSecret: 'pave-client-secret-123', allowInsecureHttp: true } } });
    try {
      const start = await fetch(`${any.url}/api/auth/oidc/start?returnTo=/`, { redirect: 'manual' });
      const redirect = new URL(start.headers.get('location')!).searchParams.get('redirect_uri');
      assert.equal(redirect, `http://localhost:${any.port}/api/auth/oidc/callback`, 'the real port, not 0');
    } finally {
      await any.close();
    }
  });

  test('a provider that is down gives a clear sign-in error; existing sessions keep working', async () => {
    const b = new Browser(pave.url);
    await signIn(b, 'jane');
    await provider.stop();
    try {
      const other = new Browser(pave.url);
      const start = await other.fetch('/api/auth/oidc/start?returnTo=/');
      const to = new URL(start.headers.get('location')!, pave.url);
      assert.equal(to.pathname, '/signin', 'back to the sign-in page');
      assert.equal(to.searchParams.get('error'), 'OIDC_PROVIDER_UNAVAILABLE', 'provider down');
      assert.equal((await b.json('/api/auth/whoami')).status, 200, 'the signed-in session still works');
    } finally {
      provider = await startProvider(provider.port, provider.signingKey);
    }
    const again = new Browser(pave.url);
    assert.equal((await signIn(again, 'jane')).res.headers.get('location'), '/catalog', 'sign-in works again once the provider is back');
  });
});

describe('HTTP hardening', () => {
  let pave: TestPave;
  before(async () => {
    pave = await startTestPave({ settings: { 'server.trustProxy': true, 'server.cors': { origins: ['https://portal.acme.test'], credentials: true }, 'server.bodyLimitBytes': 2048 } });
  });
  after(() => pave.close());

  test('security headers, HSTS only over TLS, CORS only for configured origins, body limit', async () => {
    const res = await fetch(`${pave.url}/healthz`);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'.*script-src 'self'/, 'CSP');
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, 'no framing');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'DENY', 'no framing for old browsers either');
    assert.equal(res.headers.get('strict-transport-security'), null, 'no HSTS over plain http');
    const tls = await fetch(`${pave.url}/healthz`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.match(tls.headers.get('strict-transport-security') ?? '', /max-age=\d+/, 'HSTS behind a TLS proxy');
    const allowed = await fetch(`${pave.url}/api/catalog/entities`, { method: 'OPTIONS', headers: { origin: 'https://portal.acme.test', 'access-control-request-method': 'GET' } });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://portal.acme.test', 'configured origin allowed');
    const other = await fetch(`${pave.url}/api/catalog/entities`, { method: 'OPTIONS', headers: { origin: 'https://evil.test', 'access-control-request-method': 'GET' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null, 'other origins are not');
    const big = await pave.api('POST', '/api/catalog/validate-entity', { entity: { x: 'y'.repeat(4096) }, location: 'url:x' });
    assert.equal(big.status, 413, 'body over the limit');
    assert.equal(big.body.error.code, 'BODY_TOO_LARGE', 'with its code');
  });
});
