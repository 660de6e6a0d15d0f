// Browser test of signing in to the portal and of what each person sees: local accounts, single
// sign-on through a real OpenID provider, guests, API tokens, the CLI's device approval and the
// audit log. Starts Pave in-process and drives the built portal (dist/web) with headless Chromium.
//
// Run: node scripts/test.js test/e2e/portal-auth.test.ts
// Every assert here carries a message: without one, node:assert reads and re-parses the
// transpiled source to describe the failed expression, which can block the process for minutes.
// Needs Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startOidcProvider, type TestOidcProvider } from '../../src/testing/oidc-provider.ts';
import { launchPortalBrowser, requireChromium, untilPasses } from '../../src/testing/browser.ts';
import { freePort } from '../../src/testing/net.ts';
import { startTestPave, TEST_ADMIN_PASSWORD, type TestPave } from '../../src/testing/pave.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCREENSHOT_DIR = process.env.PAVE_SCREENSHOT_DIR ?? '/tmp';
const STEP_TIMEOUT = 20_000;
const TEST_TIMEOUT = { timeout: 120_000 };
const MEMBER = { username: 'mia', password: 'mia-password-1234', ref: 'user:default/mia' };
const VIEWER = { username: 'vic', password: 'vic-password-1234', ref: 'user:default/vic' };

let pave: TestPave;
let idp: TestOidcProvider;
let browser: Browser;
let workDir: string;
const contexts: BrowserContext[] = [];

// ---------------------------------------------------------------- helpers



/** A browser of its own (cookies included) for one person. */
async function newPage(): Promise<Page> {
  const context = await browser.newContext({ baseURL: pave.url, viewport: { width: 1440, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on('pageerror', (err) => console.error('[browser pageerror]', err.message));
  return page;
}

async function fillSignInForm(page: Page, username: string, password: string) {
  await page.getByRole('textbox', { name: 'Username' }).fill(username);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Opens `path`, which sends the browser to the sign-in page, signs in, and lands back on `path`. */
async function signedInPage(path: string, username: string, password: string): Promise<Page> {
  const page = await newPage();
  await page.goto(path);
  await page.waitForURL('**/signin?returnTo=**');
  await fillSignInForm(page, username, password);
  await page.waitForURL((url) => url.pathname + url.search === path);
  return page;
}

async function navHrefs(page: Page): Promise<Array<string | null>> {
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  await nav.getByRole('link', { name: /Catalog/ }).waitFor();
  return nav.getByRole('link').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
}

/** What the page's own session says: who is signed in. */
async function sessionOf(page: Page): Promise<{ signedIn: boolean; principal?: { ref: string; roles: string[] } }> {
  return page.evaluate(async () => (await (await fetch('/api/auth/session')).json()) as { signedIn: boolean; principal?: { ref: string; roles: string[] } });
}

async function bearer(token: string, urlPath: string): Promise<{ status: number; body: any }> {
  const res = await fetch(pave.url + urlPath, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(STEP_TIMEOUT) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Two teams, each with a person and components; Jane's email is what single sign-on matches. */
const ORG = `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-a }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-b }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: mia }
spec: { profile: { displayName: Mia Member, email: mia@acme.test }, memberOf: [team-a] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: jane }
spec: { profile: { displayName: Jane Doe, email: jane@acme.test }, memberOf: [team-b] }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: a-service, description: Team A's service }
spec: { type: service, lifecycle: production, owner: group:default/team-a }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: a-worker, description: Team A's worker }
spec: { type: service, lifecycle: production, owner: group:default/team-a }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: b-service, description: Team B's service }
spec: { type: service, lifecycle: production, owner: group:default/team-b }
`;

// ---------------------------------------------------------------- setup

before(async () => {
  requireChromium();
  workDir = await mkdtemp(path.join(tmpdir(), 'pave-e2e-auth-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  idp = await startOidcProvider({
    accounts: {
      jane: { email: 'jane@acme.test', email_verified: true, name: 'Jane' },
      stranger: { email: 'stranger@acme.test', email_verified: true, name: 'Stranger' },
    },
    clients: [{ client_id: 'pave-portal', client_secret: 'pave-portal-secret', redirect_uris: [`${baseUrl}/api/auth/oidc/callback`] }],
  });
  pave = await startTestPave({
    port,
    settings: {
      'server.baseUrl': baseUrl,
      'auth.guest.enabled': true,
      'auth.oidc': { issuer: idp.issuer, clientId: 'pave-portal', clientSecret: 'pave-portal-secret', allowInsecureHttp: true, displayName: 'Acme SSO' },
    },
  });

  const file = path.join(workDir, 'org.yaml');
  await writeFile(file, ORG);
  const added = await pave.api('POST', '/api/catalog/locations', { type: 'file', target: file });
  assert.equal(added.status, 201, `register the org: ${JSON.stringify(added.body)}`);
  await untilPasses(
    async () => {
      const mia = await pave.api('GET', '/api/catalog/entities/by-name/user/default/mia');
      assert.ok(mia.body?.relations?.some((r: { type: string }) => r.type === 'memberOf'), 'mia is a member of team-a');
      const b = await pave.api('GET', '/api/catalog/entities/by-name/component/default/b-service');
      assert.ok(b.body?.relations?.some((r: { type: string }) => r.type === 'ownedBy'), 'b-service is owned by team-b');
    },
    30_000,
    'the org to be processed',
  );
  for (const [who, role] of [[MEMBER, null], [VIEWER, 'viewer']] as const) {
    const account = await pave.api('POST', '/api/auth/accounts', { username: who.username, password: who.password, entityRef: who.ref, role });
    assert.equal(account.status, 201, `create the account ${who.username}: ${JSON.stringify(account.body)}`);
  }

  browser = await launchPortalBrowser(ROOT);
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close().catch(() => {});
  await pave?.close();
  await idp?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- tests

test('admin signs in with the form, reads the audit log, and creates, uses and revokes a token', TEST_TIMEOUT, async () => {
  const page = await newPage();
  await page.goto('/catalog/default/component/a-service');
  await page.waitForURL('**/signin?returnTo=%2Fcatalog%2Fdefault%2Fcomponent%2Fa-service');
  await page.getByRole('heading', { name: 'Sign in to Pave' }).waitFor();
  await page.getByRole('button', { name: 'Sign in with Acme SSO' }).waitFor();
  await page.getByRole('button', { name: 'Continue as guest' }).waitFor();

  // A wrong password says so, and the page stays.
  await fillSignInForm(page, 'admin', 'not-the-password');
  const failure = page.getByRole('alert').filter({ hasText: 'Wrong username or password' });
  await failure.waitFor();
  assert.equal(await failure.getByTestId('error-code').textContent(), 'SIGNIN_FAILED', 'the failure shows its code');
  assert.match(new URL(page.url()).pathname, /^\/signin$/, 'still on the sign-in page');

  // The right one lands where the visit started.
  await fillSignInForm(page, 'admin', TEST_ADMIN_PASSWORD);
  await page.waitForURL('**/catalog/default/component/a-service');
  await page.getByTestId('entity-title').waitFor();
  assert.equal((await sessionOf(page)).principal?.ref, 'user:default/admin', 'signed in as the admin');
  assert.deepEqual(await navHrefs(page), ['/catalog', '/docs', '/create', '/register', '/locations', '/audit'], 'admins see every page');
  const actions = page.getByRole('group', { name: 'Entity actions' });
  await actions.getByRole('button', { name: 'Refresh' }).waitFor();
  await actions.getByRole('button', { name: 'Remove entity' }).waitFor();

  // The user menu: who, with which role.
  await page.getByTestId('user-menu').click();
  const menu = page.getByRole('menu');
  await menu.waitFor();
  assert.ok((await menu.getByTestId('user-roles').textContent())?.includes('admin'), 'the menu shows the admin role');
  await page.keyboard.press('Escape');

  // The audit log has both sign-ins, and the chain verifies.
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: /Audit/ }).click();
  await page.waitForURL('**/audit');
  await page.locator('[data-testid="audit-row"][data-action="auth.signin"][data-actor="user:default/admin"][data-outcome="success"]').first().waitFor();
  await page.locator('[data-testid="audit-row"][data-action="auth.signin"][data-outcome="denied"]').first().waitFor();
  await page.getByRole('button', { name: 'Verify chain' }).click();
  const verified = page.getByTestId('verify-result');
  await verified.waitFor();
  assert.equal(await verified.getAttribute('data-ok'), 'true', `verify says ok: ${await verified.textContent()}`);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-audit.png'), fullPage: true });

  // Filters narrow the list and the export.
  await page.getByRole('textbox', { name: 'Action' }).fill('auth.signin');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL('**/audit?action=auth.signin');
  await untilPasses(async () => {
    const rowActions = await page.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    assert.ok(rowActions.length >= 2 && rowActions.every((a) => a === 'auth.signin'), `only sign-ins: ${rowActions}`);
  });
  const exportHref = await page.getByTestId('audit-export').getAttribute('href');
  assert.equal(exportHref, '/api/audit/export?action=auth.signin', 'the export link carries the filters');
  const exported = await page.evaluate(async (href) => (await fetch(href!)).text(), exportHref);
  const lines = exported.trim().split('\n').map((l) => JSON.parse(l) as { action: string });
  assert.ok(lines.length >= 2 && lines.every((l) => l.action === 'auth.signin'), `export has the sign-ins only: ${exported.slice(0, 300)}`);

  // A token: created in the page, shown once, works against the API, then revoked.
  await page.getByTestId('user-menu').click();
  await page.getByRole('menuitem', { name: 'Tokens' }).click();
  await page.waitForURL('**/settings/tokens');
  await page.getByRole('textbox', { name: 'Name' }).fill('e2e-script');
  await page.getByRole('button', { name: 'Create token' }).click();
  const shown = page.getByTestId('new-token');
  await shown.waitFor();
  const token = ((await shown.textContent()) ?? '').trim();
  assert.match(token, /^pave_pat_/, 'a personal token is shown');
  await page.getByTestId('created-token').getByRole('button', { name: 'Copy' }).waitFor();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-tokens.png'), fullPage: true });

  const whoami = await bearer(token, '/api/auth/whoami');
  assert.equal(whoami.status, 200, `the token works: ${JSON.stringify(whoami.body)}`);
  assert.equal(whoami.body.ref, 'user:default/admin', 'the token acts as the admin');
  assert.deepEqual(whoami.body.scopes, ['write'], 'with the scope chosen');

  await page.getByRole('button', { name: 'I have copied it' }).click();
  await shown.waitFor({ state: 'detached' });
  await page.reload();
  const row = page.locator('[data-testid="token-row"][data-token-name="e2e-script"]');
  await row.waitFor();
  assert.ok(!(await page.content()).includes(token), 'the token is never shown again');

  await row.getByRole('button', { name: 'Revoke e2e-script' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click();
  await row.waitFor({ state: 'detached' });
  const refused = await bearer(token, '/api/auth/whoami');
  assert.equal(refused.status, 401, 'a revoked token is refused');
  assert.equal(refused.body.error.code, 'TOKEN_REVOKED', `refused as revoked: ${JSON.stringify(refused.body)}`);

  // Signing out ends the session: the portal asks to sign in again.
  await page.getByTestId('user-menu').click();
  await page.getByRole('menuitem', { name: 'Sign out', exact: true }).click();
  await page.waitForURL('**/signin');
  await page.goto('/locations');
  await page.waitForURL('**/signin?returnTo=%2Flocations');
  assert.equal((await sessionOf(page)).signedIn, false, 'signed out');
});

test("a member sees Refresh and Remove on their team's component only, and no audit log", TEST_TIMEOUT, async () => {
  const page = await signedInPage('/catalog/default/component/a-service', MEMBER.username, MEMBER.password);
  const session = await sessionOf(page);
  assert.equal(session.principal?.ref, MEMBER.ref, 'signed in as the member');
  assert.deepEqual(session.principal?.roles, ['member'], 'with the member role');
  // Members register components (the default policy allows catalog.location.create), but read no audit log.
  assert.deepEqual(await navHrefs(page), ['/catalog', '/docs', '/create', '/register', '/locations'], 'no Audit in the navigation');

  // Their team's component: both actions.
  const actions = page.getByRole('group', { name: 'Entity actions' });
  await actions.getByRole('button', { name: 'Refresh' }).waitFor();
  await actions.getByRole('button', { name: 'Remove entity' }).waitFor();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-entity-actions.png') });

  // Another team's: neither, once the permission checks have answered.
  await page.goto('/catalog/default/component/b-service');
  await page.getByTestId('entity-title').waitFor();
  await page.waitForLoadState('networkidle');
  assert.equal(await page.getByRole('button', { name: 'Remove entity' }).count(), 0, "no Remove on another team's component");
  assert.equal(await page.getByRole('button', { name: 'Refresh', exact: true }).count(), 0, "no Refresh on another team's component");

  // The API refuses a forged removal, from this very session (cookie and CSRF token) and with a token.
  const uid = (await pave.api('GET', '/api/catalog/entities/by-name/component/default/b-service')).body.metadata.uid as string;
  const forged = await page.evaluate(async (id) => {
    const { csrfToken } = (await (await fetch('/api/auth/session')).json()) as { csrfToken: string };
    const res = await fetch(`/api/catalog/entities/by-uid/${id}`, { method: 'DELETE', headers: { 'x-csrf-token': csrfToken } });
    return { status: res.status, body: (await res.json()) as { error: { code: string } } };
  }, uid);
  assert.equal(forged.status, 403, `forged delete refused: ${JSON.stringify(forged.body)}`);
  assert.equal(forged.body.error.code, 'NOT_ALLOWED', 'refused as not allowed');
  const withToken = await pave.apiAs(await pave.tokenFor(MEMBER.ref, ['write']))('DELETE', `/api/catalog/entities/by-uid/${uid}`);
  assert.equal(withToken.status, 403, 'forged delete with a token refused');
  assert.equal((await pave.api('GET', '/api/catalog/entities/by-name/component/default/b-service')).status, 200, 'b-service is still there');

  // The audit log is not usable by URL either.
  await page.goto('/audit');
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  assert.equal((await pave.apiAs(await pave.tokenFor(MEMBER.ref, ['write']))('GET', '/api/audit')).status, 403, 'the API refuses the audit log too');

  // Locations: the member may unregister what they registered, and only re-read what the admin did.
  const own = path.join(workDir, 'mia-service.yaml');
  await writeFile(own, 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: mia-service }\nspec: { type: service, lifecycle: experimental, owner: group:default/team-a }\n');
  const registered = await pave.apiAs(await pave.tokenFor(MEMBER.ref, ['write']))('POST', '/api/catalog/locations', { type: 'file', target: own });
  assert.equal(registered.status, 201, `the member registers a location: ${JSON.stringify(registered.body)}`);
  await page.goto('/locations');
  const theirs = page.locator(`[data-testid="location"][data-location-id="${registered.body.location.id}"]`);
  await theirs.getByRole('button', { name: /^Remove / }).waitFor();
  const adminsCard = page.locator('[data-testid="location"]').filter({ hasText: 'org.yaml' });
  await adminsCard.getByRole('button', { name: /^Refresh / }).waitFor();
  await page.waitForLoadState('networkidle');
  assert.equal(await adminsCard.getByRole('button', { name: /^Remove / }).count(), 0, "no Remove on someone else's location");

  // Removing their own component works through the page.
  await page.goto('/catalog/default/component/a-worker');
  await page.getByRole('group', { name: 'Entity actions' }).getByRole('button', { name: 'Remove entity' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove entity' }).click();
  await page.waitForURL('**/catalog');
  await untilPasses(async () => {
    assert.equal((await pave.api('GET', '/api/catalog/entities/by-name/component/default/a-worker')).status, 404, 'a-worker removed');
  });

  // And so does refreshing one.
  await page.goto('/catalog/default/component/a-service');
  await page.getByRole('group', { name: 'Entity actions' }).getByRole('button', { name: 'Refresh' }).click();
  await page.getByTestId('refresh-queued').waitFor();
});

test('a viewer sees no Register, no Audit and no changes; a session ended elsewhere asks to sign in again', TEST_TIMEOUT, async () => {
  const page = await signedInPage('/locations', VIEWER.username, VIEWER.password);
  assert.deepEqual((await sessionOf(page)).principal?.roles, ['viewer'], 'signed in as a viewer');
  assert.deepEqual(await navHrefs(page), ['/catalog', '/docs', '/locations'], 'no Register and no Audit in the navigation');
  const card = page.getByTestId('location').first();
  await card.waitFor();
  await page.waitForLoadState('networkidle');
  assert.equal(await card.getByRole('button').count(), 0, 'no Refresh or Remove on locations');
  assert.equal(await page.getByRole('link', { name: 'Register a location' }).count(), 0, 'no Register button');
  await page.goto('/catalog/default/component/a-service');
  await page.getByTestId('entity-title').waitFor();
  await page.waitForLoadState('networkidle');
  assert.equal(await page.getByRole('group', { name: 'Entity actions' }).count(), 0, 'no entity actions');
  await page.goto('/register');
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();

  // A session ended elsewhere: the next request sends the page to sign in, and back afterwards.
  const ended = await pave.api('POST', '/api/auth/sessions/revoke', { principalRef: VIEWER.ref });
  assert.equal(ended.status, 200, `an admin ends the viewer's sessions: ${JSON.stringify(ended.body)}`);
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: /Catalog/ }).click();
  // Whichever notices first, the catalog's own request or the session check of the page being
  // left, sends the page to sign in with the page to come back to.
  await page.waitForURL((url) => url.pathname === '/signin');
  const returnTo = new URL(page.url()).searchParams.get('returnTo');
  assert.ok(returnTo === '/catalog' || returnTo === '/register', `signing in will come back to the page: ${page.url()}`);
  await fillSignInForm(page, VIEWER.username, VIEWER.password);
  await page.waitForURL((url) => url.pathname === returnTo);
  if (returnTo === '/catalog') await page.getByRole('heading', { name: 'Catalog', level: 2 }).waitFor();
  else await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
});

test('single sign-on through the OpenID provider: a catalog user gets in, an unknown one is told why', TEST_TIMEOUT, async () => {
  const page = await newPage();
  await page.goto('/catalog/default/component/b-service');
  await page.waitForURL('**/signin?returnTo=**');
  await page.getByRole('button', { name: 'Sign in with Acme SSO' }).click();
  await page.waitForURL(`${idp.issuer}/**`);
  await page.locator('#login input[name=login]').fill('jane');
  await page.locator('#login button').click();
  await page.waitForURL(`${pave.url}/catalog/default/component/b-service`);
  await page.getByTestId('entity-title').waitFor();
  const session = await sessionOf(page);
  assert.equal(session.principal?.ref, 'user:default/jane', `signed in as Jane: ${JSON.stringify(session)}`);
  await untilPasses(async () => assert.equal(await page.getByTestId('user-name').textContent(), 'Jane Doe', 'the header shows her name'));
  // Jane is in team-b, which owns b-service.
  await page.getByRole('group', { name: 'Entity actions' }).getByRole('button', { name: 'Remove entity' }).waitFor();

  const stranger = await newPage();
  await stranger.goto('/signin');
  await stranger.getByRole('button', { name: 'Sign in with Acme SSO' }).click();
  await stranger.waitForURL(`${idp.issuer}/**`);
  await stranger.locator('#login input[name=login]').fill('stranger');
  await stranger.locator('#login button').click();
  await stranger.waitForURL('**/signin?error=SIGNIN_USER_NOT_FOUND**');
  const alert = stranger.getByTestId('signin-error');
  await alert.waitFor();
  const message = (await alert.textContent()) ?? '';
  assert.ok(message.includes('You are not in the catalog yet'), `a clear title: ${message}`);
  assert.ok(message.includes('stranger@acme.test') && message.includes('no User in the catalog'), `the reason: ${message}`);
  assert.equal((await sessionOf(stranger)).signedIn, false, 'the stranger is not signed in');
  await stranger.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-signin-error.png') });
});

test('a guest looks around but gets no tokens and no register page', TEST_TIMEOUT, async () => {
  const page = await newPage();
  await page.goto('/catalog');
  await page.waitForURL('**/signin?returnTo=%2Fcatalog');
  await page.getByRole('button', { name: 'Continue as guest' }).click();
  await page.waitForURL('**/catalog');
  await page.getByRole('heading', { name: 'Catalog', level: 2 }).waitFor();
  assert.deepEqual((await sessionOf(page)).principal?.roles, ['guest'], 'signed in as a guest');
  assert.deepEqual(await navHrefs(page), ['/catalog', '/docs', '/locations'], 'guests see no Register and no Audit');
  await page.getByTestId('user-menu').click();
  await page.getByRole('menuitem', { name: 'Sign out', exact: true }).waitFor();
  assert.equal(await page.getByRole('menuitem', { name: 'Tokens' }).count(), 0, 'guests have no tokens');
});

test('the device page approves a CLI sign-in, whose poll then gets a token; a denied one gets none', TEST_TIMEOUT, async () => {
  const start = async (clientName: string) => {
    const res = await pave.apiAs(undefined)('POST', '/api/auth/device/code', { clientName, scopes: ['read'] });
    assert.equal(res.status, 200, `device code: ${JSON.stringify(res.body)}`);
    return res.body as { deviceCode: string; userCode: string; verificationUriComplete: string };
  };
  const poll = (deviceCode: string) => pave.apiAs(undefined)('POST', '/api/auth/device/token', { deviceCode });

  const grant = await start('pave CLI on laptop');
  assert.equal(grant.verificationUriComplete, `${pave.url}/device?code=${grant.userCode}`, 'the CLI is sent to the device page');
  assert.equal((await poll(grant.deviceCode)).body.error.code, 'AUTHORIZATION_PENDING', 'nothing before approval');

  // The link from the terminal: sign in first, then the request.
  const page = await signedInPage(`/device?code=${grant.userCode}`, 'admin', TEST_ADMIN_PASSWORD);
  await page.getByText('pave CLI on laptop').waitFor();
  assert.equal(await page.getByTestId('device-code').textContent(), grant.userCode, 'the code to compare with the terminal');
  assert.deepEqual(await page.getByTestId('device-scope').allTextContents(), ['read'], 'the scopes asked for');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-device.png') });
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.locator('[data-testid="device-result"][data-result="approved"]').waitFor();

  const issued = await untilPasses(
    async () => {
      const res = await poll(grant.deviceCode);
      assert.equal(res.status, 200, `poll: ${JSON.stringify(res.body)}`);
      return res.body as { token: string; scopes: string[] };
    },
    10_000,
    'the approved poll',
  );
  assert.deepEqual(issued.scopes, ['read'], 'the token has the scopes asked for');
  const whoami = await bearer(issued.token, '/api/auth/whoami');
  assert.equal(whoami.body.ref, 'user:default/admin', 'the CLI acts as the person who approved');

  // Deny: the CLI's poll is refused.
  const denied = await start('pave CLI somewhere else');
  await page.goto(`/device?code=${denied.userCode}`);
  await page.getByText('pave CLI somewhere else').waitFor();
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.locator('[data-testid="device-result"][data-result="denied"]').waitFor();
  await untilPasses(async () => {
    const res = await poll(denied.deviceCode);
    assert.equal(res.body?.error?.code, 'ACCESS_DENIED', `denied poll: ${JSON.stringify(res.body)}`);
  });

  // A code that does not exist says so.
  await page.goto('/device?code=BCDF-GHJK');
  await page.getByRole('alert').filter({ hasText: 'DEVICE_CODE_NOT_FOUND' }).waitFor();
});
