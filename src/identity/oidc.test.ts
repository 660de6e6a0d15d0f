import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import type { OidcConfig } from '../core/config.ts';
import { PaveError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { freshStore } from '../testing/db.ts';
import {
  cancelSignInOverHttp,
  signInOverHttp,
  startOidcProvider,
  startTamperingProxy,
  type IdTokenTampering,
  type TestOidcProvider,
} from '../testing/oidc-provider.ts';
import { OidcSignIn } from './oidc.ts';
import { oidcMigrations } from './oidc-migrations.ts';

const CLIENT_ID = 'pave-test';
const CLIENT_SECRET = 'client-secret-that-must-never-show-up';
const REDIRECT_URI = 'http://127.0.0.1:7007/api/auth/oidc/callback';

const accounts = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Liddell', preferred_username: 'alice', groups: ['team-a', 'admins'] },
  bob: { name: 'Bob' },
};
const clients = [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [REDIRECT_URI] }];
const now = () => Math.floor(Date.now() / 1000);

async function rejection(promise: Promise<unknown>, code: string, reason?: string): Promise<PaveError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof PaveError, `expected a PaveError ${code}, got ${err instanceof Error ? err.stack : String(err)}`);
  assert.equal(err.code, code, err.message);
  if (reason) assert.equal(err.details.reason, reason, err.message);
  return err;
}

function assertLeaksNothing(err: PaveError, secrets: (string | null)[]): void {
  const text = JSON.stringify({ message: err.message, details: err.details });
  for (const secret of secrets) if (secret) assert.ok(!text.includes(secret), `${err.code} leaks a secret, code or token: ${text}`);
  assert.ok(!/eyJ[\w-]+\.eyJ/.test(text), `${err.code} leaks a JWT: ${text}`);
}

describe('OIDC sign-in', () => {
  let store: Store;
  let close: () => Promise<void>;
  let provider: TestOidcProvider;

  before(async () => {
    ({ store, close } = await freshStore([...oidcMigrations]));
    provider = await startOidcProvider({ accounts, clients });
  });
  after(async () => {
    await provider.stop();
    await close();
  });

  const config = (overrides: Partial<OidcConfig> = {}): OidcConfig => ({
    issuer: provider.issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    scope: 'openid profile email',
    displayName: 'Test SSO',
    clockToleranceSeconds: 30,
    allowInsecureHttp: true,
    unknownUsers: 'refuse',
    resolvers: [],
    ...overrides,
  });
  const signInFor = (overrides: Partial<OidcConfig> = {}) => new OidcSignIn({ store, config: config(overrides), redirectUri: REDIRECT_URI });

  /** Begins a sign-in and completes the provider's pages as `login`: the callback URL Pave would receive. */
  async function callbackFor(oidc: OidcSignIn, login = 'alice', returnTo = '/catalog?kind=component'): Promise<URL> {
    return signInOverHttp(await oidc.begin(returnTo), login);
  }

  test('signs in with the authorization code flow and returns the claims, email from userinfo', async () => {
    const oidc = signInFor();
    const authorizationUrl = new URL(await oidc.begin('/catalog?kind=component'));
    assert.equal(authorizationUrl.origin, provider.issuer);
    assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorizationUrl.searchParams.get('redirect_uri'), REDIRECT_URI);
    assert.equal(authorizationUrl.searchParams.get('scope'), 'openid profile email');
    const state = authorizationUrl.searchParams.get('state');
    assert.ok(state && authorizationUrl.searchParams.get('nonce'), 'the authorization URL carries a state and a nonce');
    const [flow] = await store.query('select state, code_verifier, expires_at > now() + interval \'9 minutes\' as ten_minutes from auth_oidc_flows where state = $1', [state]);
    assert.ok(flow?.ten_minutes, 'the flow is stored for ten minutes');
    assert.ok(!authorizationUrl.href.includes(flow.code_verifier), 'the PKCE verifier stays in the store');

    const claims = await oidc.complete(await signInOverHttp(authorizationUrl.href, 'alice'));
    assert.deepEqual(
      { ...claims, claims: undefined },
      {
        issuer: provider.issuer,
        subject: 'alice',
        email: 'alice@example.com',
        emailVerified: true,
        name: 'Alice Liddell',
        preferredUsername: 'alice',
        groups: ['team-a', 'admins'],
        claims: undefined,
        returnTo: '/catalog?kind=component',
      },
    );
    assert.equal(claims.claims.aud, CLIENT_ID);
  });

  test('an account without email signs in with the claims it has', async () => {
    const oidc = signInFor();
    const claims = await oidc.complete(await callbackFor(oidc, 'bob', '/'));
    assert.equal(claims.subject, 'bob');
    assert.equal(claims.name, 'Bob');
    assert.equal(claims.email, undefined);
    assert.equal(claims.groups, undefined);
  });

  test('a callback is accepted once: a replay, even a concurrent one, is OIDC_STATE_INVALID', async () => {
    const oidc = signInFor();
    const callback = await callbackFor(oidc);
    const results = await Promise.allSettled([oidc.complete(callback), oidc.complete(callback)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one of two concurrent callbacks succeeds');
    const failed = results.find((r) => r.status === 'rejected');
    await rejection(Promise.reject(failed?.reason), 'OIDC_STATE_INVALID', 'replayed');
    const err = await rejection(oidc.complete(callback), 'OIDC_STATE_INVALID', 'replayed');
    assert.equal(err.status, 400);
    assertLeaksNothing(err, [callback.searchParams.get('code'), CLIENT_SECRET]);
  });

  test('an unknown or missing state is OIDC_STATE_INVALID', async () => {
    const oidc = signInFor();
    const callback = await callbackFor(oidc);
    callback.searchParams.set('state', 'a-state-pave-never-issued');
    await rejection(oidc.complete(callback), 'OIDC_STATE_INVALID', 'unknown');
    callback.searchParams.delete('state');
    await rejection(oidc.complete(callback), 'OIDC_STATE_INVALID', 'missing');
  });

  test('a flow older than ten minutes is OIDC_STATE_EXPIRED', async () => {
    const oidc = signInFor();
    const callback = await callbackFor(oidc);
    await store.query("update auth_oidc_flows set expires_at = now() - interval '1 second' where state = $1", [callback.searchParams.get('state')]);
    const err = await rejection(oidc.complete(callback), 'OIDC_STATE_EXPIRED');
    assert.equal(err.status, 400);
  });

  test('the user cancelling at the provider is OIDC_PROVIDER_ERROR with its error code and description', async () => {
    const oidc = signInFor();
    const callback = await cancelSignInOverHttp(await oidc.begin('/'));
    const err = await rejection(oidc.complete(callback), 'OIDC_PROVIDER_ERROR');
    assert.equal(err.status, 401);
    assert.equal(err.details.error, 'access_denied');
    assert.equal(err.details.errorDescription, 'The user cancelled the sign-in');
    assert.match(err.message, /access_denied.*cancelled/);
  });

  test('a token endpoint refusing the code is OIDC_CODE_REJECTED, without the code or the secret', async () => {
    const wrongSecret = 'a-wrong-secret-that-must-not-show-up-either';
    const oidc = signInFor({ clientSecret: wrongSecret });
    const callback = await callbackFor(oidc);
    const err = await rejection(oidc.complete(callback), 'OIDC_CODE_REJECTED');
    assert.equal(err.status, 401);
    assert.equal(err.details.error, 'invalid_client');
    assertLeaksNothing(err, [callback.searchParams.get('code'), wrongSecret, CLIENT_SECRET]);

    const pkce = signInFor();
    const stolen = await callbackFor(pkce);
    await store.query("update auth_oidc_flows set code_verifier = repeat('x', 64) where state = $1", [stolen.searchParams.get('state')]);
    const pkceErr = await rejection(pkce.complete(stolen), 'OIDC_CODE_REJECTED');
    assert.equal(pkceErr.details.error, 'invalid_grant');
    assertLeaksNothing(pkceErr, [stolen.searchParams.get('code'), CLIENT_SECRET]);
  });

  test('a provider down is OIDC_PROVIDER_UNAVAILABLE, at begin or midway; the same OidcSignIn works once it is back', async () => {
    const flaky = await startOidcProvider({ accounts, clients });
    await flaky.stop();
    const oidc = signInFor({ issuer: flaky.issuer });
    const err = await rejection(oidc.begin('/'), 'OIDC_PROVIDER_UNAVAILABLE', 'unreachable');
    assert.equal(err.status, 503);
    assert.ok(err.message.includes(flaky.issuer), `the message names the issuer: ${err.message}`);

    const back = await startOidcProvider({ accounts, clients, port: flaky.port });
    let stopped = false;
    try {
      const claims = await oidc.complete(await callbackFor(oidc));
      assert.equal(claims.issuer, flaky.issuer);
      assert.equal(claims.subject, 'alice');

      const callback = await callbackFor(oidc);
      await back.stop();
      stopped = true;
      const midway = await rejection(oidc.complete(callback), 'OIDC_PROVIDER_UNAVAILABLE', 'unreachable');
      assertLeaksNothing(midway, [callback.searchParams.get('code'), CLIENT_SECRET]);
    } finally {
      if (!stopped) await back.stop();
    }
  });

  test('an issuer that differs from the one discovery names is OIDC_PROVIDER_UNAVAILABLE with the issuer to configure', async () => {
    const alias = await startTamperingProxy(provider, { discovery: (document) => ({ ...document, issuer: provider.issuer }) });
    try {
      const err = await rejection(signInFor({ issuer: alias.issuer }).begin('/'), 'OIDC_PROVIDER_UNAVAILABLE', 'issuer_mismatch');
      assert.equal(err.details.discoveredIssuer, provider.issuer);
      assert.ok(err.message.includes(`set auth.oidc.issuer to exactly "${provider.issuer}"`), err.message);
    } finally {
      await alias.stop();
    }
  });

  test('configuration mistakes are refused when OidcSignIn is made or a sign-in begins', async () => {
    assert.throws(
      () => signInFor({ allowInsecureHttp: false }),
      (e: unknown) => e instanceof PaveError && e.code === 'OIDC_CONFIG_INVALID',
      'an http issuer needs allowInsecureHttp',
    );
    const oidc = signInFor();
    for (const returnTo of ['//evil.example/x', 'https://evil.example', '/\\evil.example', 'catalog']) {
      await rejection(oidc.begin(returnTo), 'OIDC_RETURN_TO_INVALID');
    }
  });

  describe('ID tokens altered by a tampering proxy in front of the provider', () => {
    let foreignKey: Awaited<ReturnType<typeof exportJWK>>;
    before(async () => {
      foreignKey = await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey);
    });

    const cases: { name: string; tampering: () => IdTokenTampering; reason?: string; tolerance?: number }[] = [
      { name: 'untouched tokens through the proxy are accepted', tampering: () => ({}) },
      { name: 'another audience', tampering: () => ({ idToken: (c) => ({ ...c, aud: 'another-client' }) }), reason: 'wrong_audience' },
      { name: 'another issuer', tampering: () => ({ idToken: (c) => ({ ...c, iss: 'https://evil.example' }) }), reason: 'wrong_issuer' },
      { name: 'a signature by a key the provider does not hold', tampering: () => ({ signingKey: foreignKey }), reason: 'bad_signature' },
      { name: 'an expired token', tampering: () => ({ idToken: (c) => ({ ...c, iat: now() - 600, exp: now() - 120 }) }), reason: 'expired' },
      {
        name: 'an expiry within the clock tolerance is accepted',
        tampering: () => ({ idToken: (c) => ({ ...c, iat: now() - 600, exp: now() - 10 }) }),
        tolerance: 30,
      },
      { name: 'issued in the future beyond the tolerance', tampering: () => ({ idToken: (c) => ({ ...c, iat: now() + 120 }) }), reason: 'issued_in_future' },
      { name: 'issued in the future within the tolerance is accepted', tampering: () => ({ idToken: (c) => ({ ...c, iat: now() + 20 }) }) },
      { name: 'another sign-in’s nonce', tampering: () => ({ idToken: (c: JWTPayload) => ({ ...c, nonce: 'nonce-of-another-sign-in' }) }), reason: 'nonce_mismatch' },
    ];

    for (const c of cases) {
      test(`${c.name}${c.reason ? ` → OIDC_TOKEN_INVALID (${c.reason})` : ''}`, async () => {
        const proxy = await startTamperingProxy(provider, c.tampering());
        try {
          const oidc = signInFor({ issuer: proxy.issuer, clockToleranceSeconds: c.tolerance ?? 30 });
          const callback = await callbackFor(oidc);
          if (!c.reason) {
            const claims = await oidc.complete(callback);
            assert.equal(claims.subject, 'alice');
            assert.equal(claims.email, 'alice@example.com');
            return;
          }
          const err = await rejection(oidc.complete(callback), 'OIDC_TOKEN_INVALID', c.reason);
          assert.equal(err.status, 401);
          assert.ok(proxy.tokensIssued.length > 0, 'the provider issued tokens through the proxy');
          assertLeaksNothing(err, [callback.searchParams.get('code'), CLIENT_SECRET, ...proxy.tokensIssued]);
        } finally {
          await proxy.stop();
        }
      });
    }
  });
});
