import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, startTestPave, type TestPave } from '../../src/testing/pave.ts';

/**
 * Every route of the API, called as every kind of principal, against the expected status. The
 * table must name every route the OpenAPI document lists, so a new route without a row fails.
 */
const ROLES = ['anon', 'guest', 'viewer', 'readToken', 'alice', 'bob', 'admin'] as const;
type RoleName = (typeof ROLES)[number];
type Expect = Record<RoleName, number>;

const org = `
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
metadata: { name: alice }
spec: { memberOf: [team-a], profile: { email: alice@acme.test } }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: bob }
spec: { memberOf: [team-b] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: vic }
spec: { memberOf: [team-b] }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: comp-a }
spec: { type: service, lifecycle: production, owner: team-a }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: comp-b }
spec: { type: service, lifecycle: production, owner: team-b }
`;

let pave: TestPave;
let dir: string;
let orgLocation: string;
let aliceLocation: string;
const creds = {} as Record<RoleName, { headers: Record<string, string> }>;
let n = 0;

const component = (name: string, owner: string) =>
  `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: ${name} }\nspec: { type: service, lifecycle: production, owner: ${owner} }\n`;

function freshFile(owner = 'team-a'): string {
  const file = path.join(dir, `extra-${++n}.yaml`);
  fs.writeFileSync(file, component(`extra-${n}`, owner));
  return file;
}

async function compBUid(): Promise<string> {
  return eventually(
    async () => {
      const r = await pave.api('GET', '/api/catalog/entities/by-name/component/default/comp-b');
      if (r.status === 200) return r.body.metadata.uid as string;
      await pave.catalog.refreshLocation(orgLocation);
      return undefined;
    },
    15_000,
    'comp-b to be back in the catalog',
  );
}

before(async () => {
  pave = await startTestPave({ settings: { 'auth.local.signInsPerMinutePerAddress': 1000, 'auth.guest.enabled': true, 'auth.roles': { admins: [], viewers: ['user:default/vic'], defaultRole: 'member' } } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-matrix-'));
  fs.writeFileSync(path.join(dir, 'org.yaml'), org);
  const added = await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(dir, 'org.yaml') });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  orgLocation = added.body.location.id;
  await eventually(async () => ((await pave.api('GET', '/api/catalog/entities/by-name/user/default/alice')).status === 200 ? true : undefined), 15_000, 'the org');

  const tokenHeaders = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });
  creds.anon = { headers: {} };
  creds.admin = tokenHeaders(pave.token);
  creds.readToken = tokenHeaders(await pave.tokenFor('user:default/admin', ['read']));
  creds.alice = tokenHeaders(await pave.tokenFor('user:default/alice'));
  creds.bob = tokenHeaders(await pave.tokenFor('user:default/bob'));
  creds.viewer = tokenHeaders(await pave.tokenFor('user:default/vic'));
  const guest = await fetch(`${pave.url}/api/auth/guest`, { method: 'POST' });
  assert.equal(guest.status, 200, 'guest sign-in');
  const cookie = guest.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  creds.guest = { headers: { cookie, 'x-csrf-token': ((await guest.json()) as any).csrfToken } };

  const aliceLoc = await fetch(`${pave.url}/api/catalog/locations`, {
    method: 'POST',
    headers: { ...creds.alice.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'file', target: freshFile() }),
  });
  assert.equal(aliceLoc.status, 201, 'alice registers a location');
  aliceLocation = ((await aliceLoc.json()) as any).location.id;
  await pave.git.create({ org: 'matrix', name: 'repo-b', owner: 'group:default/team-b' });
});

after(async () => {
  await pave?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Row {
  method: string;
  /** The route as the OpenAPI document writes it. */
  route: string;
  path?: (role: RoleName) => Promise<string> | string;
  body?: (role: RoleName) => Promise<unknown> | unknown;
  expect: Expect;
}

const all = (s: number, anon = 401): Expect => ({ anon, guest: s, viewer: s, readToken: s, alice: s, bob: s, admin: s });
const adminOnly = (s: number): Expect => ({ anon: 401, guest: 403, viewer: 403, readToken: 403, alice: 403, bob: 403, admin: s });
const read = all(200);
const NO_TASK = '00000000-0000-4000-8000-000000000000';

const deviceCode = async () => {
  const r = await pave.apiAs(undefined)('POST', '/api/auth/device/code', {});
  return r.body.userCode as string;
};
const aliceToken = async () => {
  const r = await fetch(`${pave.url}/api/auth/tokens`, { method: 'POST', headers: { ...creds.alice.headers, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'victim', scopes: ['read'] }) });
  return ((await r.json()) as any).id as string;
};
const aliceFreshLocation = async () => {
  const r = await fetch(`${pave.url}/api/catalog/locations`, {
    method: 'POST',
    headers: { ...creds.alice.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'file', target: freshFile() }),
  });
  return ((await r.json()) as any).location.id as string;
};
const account = async () => {
  const username = `acct-${++n}`;
  await pave.api('POST', '/api/auth/accounts', { username, password: 'a-long-password-1', entityRef: `user:default/${username}` });
  return username;
};

const rows: Row[] = [
  // ---- catalog reads: everyone signed in ----
  { method: 'GET', route: '/api/catalog/entities', expect: read },
  { method: 'GET', route: '/api/catalog/entities/by-query', path: () => '/api/catalog/entities/by-query?limit=5', expect: read },
  { method: 'POST', route: '/api/catalog/entities/by-query', body: () => ({ limit: 5 }), expect: read },
  { method: 'POST', route: '/api/catalog/entities/by-refs', body: () => ({ entityRefs: ['component:default/comp-a'] }), expect: read },
  { method: 'GET', route: '/api/catalog/entities/by-name/{kind}/{namespace}/{name}', path: () => '/api/catalog/entities/by-name/component/default/comp-a', expect: read },
  { method: 'GET', route: '/api/catalog/entities/by-name/{kind}/{namespace}/{name}/ancestry', path: () => '/api/catalog/entities/by-name/component/default/comp-a/ancestry', expect: read },
  { method: 'GET', route: '/api/catalog/entities/by-uid/{uid}', path: async () => `/api/catalog/entities/by-uid/${await compBUid()}`, expect: read },
  { method: 'GET', route: '/api/catalog/entity-facets', path: () => '/api/catalog/entity-facets?facet=kind', expect: read },
  { method: 'POST', route: '/api/catalog/entity-facets', body: () => ({ facets: ['kind'] }), expect: read },
  { method: 'GET', route: '/api/catalog/locations', expect: read },
  { method: 'POST', route: '/api/catalog/locations/by-query', body: () => ({}), expect: read },
  { method: 'GET', route: '/api/catalog/locations/{id}', path: () => `/api/catalog/locations/${orgLocation}`, expect: read },
  { method: 'GET', route: '/api/catalog/locations/by-entity/{kind}/{namespace}/{name}', path: () => '/api/catalog/locations/by-entity/component/default/comp-a', expect: read },
  {
    method: 'POST',
    route: '/api/catalog/validate-entity',
    body: () => ({ entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'x' }, spec: { type: 'service', lifecycle: 'x', owner: 'y' } }, location: 'url:https://x' }),
    expect: read,
  },
  { method: 'POST', route: '/api/catalog/analyze-location', body: () => ({ location: { type: 'file', target: path.join(dir, 'org.yaml') } }), expect: read },
  { method: 'GET', route: '/api/jobs', expect: read },
  { method: 'GET', route: '/api/jobs/{id}', path: () => '/api/jobs/999999', expect: all(404) },
  { method: 'GET', route: '/api/events', expect: read },
  { method: 'GET', route: '/api/search/query', path: () => '/api/search/query?term=comp', expect: read },
  { method: 'POST', route: '/api/search/reindex', expect: adminOnly(200) },
  { method: 'GET', route: '/api/docs/', path: () => '/api/docs', expect: read },
  { method: 'GET', route: '/api/git/repos', expect: read },
  { method: 'POST', route: '/api/git/repos', body: (role) => ({ org: 'matrix', name: `new-${role.toLowerCase()}` }), expect: { ...all(403), alice: 201, bob: 201, admin: 201 } },
  { method: 'GET', route: '/api/git/repos/{org}/{name}', path: () => '/api/git/repos/matrix/repo-b', expect: read },
  { method: 'DELETE', route: '/api/git/repos/{org}/{name}', path: async (role) => `/api/git/repos/matrix/${(await pave.git.create({ org: 'matrix', name: `gone-${role.toLowerCase()}`, owner: 'group:default/team-b' })).name}`, expect: { ...all(403), bob: 204, admin: 204 } },
  // repo-b is empty: readers get past the gate to "push a first commit".
  { method: 'GET', route: '/api/git/repos/{org}/{name}/tree', path: () => '/api/git/repos/matrix/repo-b/tree', expect: all(404) },
  { method: 'GET', route: '/api/git/repos/{org}/{name}/blob', path: () => '/api/git/repos/matrix/repo-b/blob?path=README.md', expect: all(404) },
  { method: 'GET', route: '/api/git/repos/{org}/{name}/commits', path: () => '/api/git/repos/matrix/repo-b/commits', expect: all(404) },
  { method: 'GET', route: '/git/{org}/{repo}/info/refs', path: () => '/git/matrix/repo-b.git/info/refs?service=git-upload-pack', expect: read },
  // repo-b has no branches and no change requests: past the gate, 404s.
  { method: 'POST', route: '/api/git/repos/{org}/{name}/changes', path: () => '/api/git/repos/matrix/repo-b/changes', body: () => ({ title: 'x', sourceBranch: 'feature' }), expect: { ...all(403), alice: 404, bob: 404, admin: 404 } },
  { method: 'GET', route: '/api/git/repos/{org}/{name}/changes', path: () => '/api/git/repos/matrix/repo-b/changes', expect: read },
  { method: 'GET', route: '/api/git/repos/{org}/{name}/changes/{number}', path: () => '/api/git/repos/matrix/repo-b/changes/1', expect: all(404) },
  { method: 'GET', route: '/api/git/repos/{org}/{name}/changes/{number}/diff', path: () => '/api/git/repos/matrix/repo-b/changes/1/diff', expect: all(404) },
  { method: 'POST', route: '/api/git/repos/{org}/{name}/changes/{number}/comments', path: () => '/api/git/repos/matrix/repo-b/changes/1/comments', body: () => ({ body: 'hi' }), expect: { ...all(403), alice: 404, bob: 404, admin: 404 } },
  { method: 'POST', route: '/api/git/repos/{org}/{name}/changes/{number}/merge', path: () => '/api/git/repos/matrix/repo-b/changes/1/merge', expect: { ...all(403), alice: 404, bob: 404, admin: 404 } },
  { method: 'POST', route: '/api/git/repos/{org}/{name}/changes/{number}/close', path: () => '/api/git/repos/matrix/repo-b/changes/1/close', expect: { ...all(403), alice: 404, bob: 404, admin: 404 } },
  { method: 'GET', route: '/git/{org}/{repo}/blob/{ref}/{*}', path: () => '/git/matrix/repo-b/blob/main/README.md', expect: all(404) },
  // No such template or task: whoever gets past the gate meets a 404.
  { method: 'POST', route: '/api/scaffolder/v2/tasks', body: () => ({ templateRef: 'template:default/nope', values: {} }), expect: { ...all(403), alice: 404, bob: 404, admin: 404 } },
  { method: 'GET', route: '/api/scaffolder/v2/tasks', expect: read },
  { method: 'GET', route: '/api/scaffolder/v2/tasks/{taskId}', path: () => `/api/scaffolder/v2/tasks/${NO_TASK}`, expect: all(404) },
  { method: 'GET', route: '/api/scaffolder/v2/tasks/{taskId}/events', path: () => `/api/scaffolder/v2/tasks/${NO_TASK}/events`, expect: all(404) },
  { method: 'GET', route: '/api/scaffolder/v2/tasks/{taskId}/eventstream', path: () => `/api/scaffolder/v2/tasks/${NO_TASK}/eventstream`, expect: all(404) },
  { method: 'POST', route: '/api/scaffolder/v2/tasks/{taskId}/cancel', path: () => `/api/scaffolder/v2/tasks/${NO_TASK}/cancel`, expect: { ...all(403), alice: 404, bob: 404, admin: 404 } },
  { method: 'POST', route: '/api/scaffolder/v2/tasks/{taskId}/retry', path: () => `/api/scaffolder/v2/tasks/${NO_TASK}/retry`, expect: { ...all(403), alice: 404, bob: 404, admin: 404 } },
  { method: 'GET', route: '/api/scaffolder/v2/actions', expect: read },
  { method: 'GET', route: '/api/scaffolder/v2/templating-extensions', expect: read },
  { method: 'GET', route: '/api/scaffolder/v2/templates/{namespace}/{kind}/{name}/parameter-schema', path: () => '/api/scaffolder/v2/templates/default/template/nope/parameter-schema', expect: all(404) },
  { method: 'POST', route: '/api/scaffolder/v2/dry-run', body: () => ({ template: {}, values: {} }), expect: { ...all(403), alice: 400, bob: 400, admin: 400 } },
  // A JSON body is not git's: past the gate, a 415.
  { method: 'POST', route: '/git/{org}/{repo}/git-upload-pack', path: () => '/git/matrix/repo-b.git/git-upload-pack', body: () => ({}), expect: all(415) },
  { method: 'POST', route: '/git/{org}/{repo}/git-receive-pack', path: () => '/git/matrix/repo-b.git/git-receive-pack', body: () => ({}), expect: { ...all(403), bob: 415, admin: 415 } },
  // comp-b has no docs: readers get past the gate to a 404 with DOCS_NOT_FOUND.
  { method: 'GET', route: '/api/docs/{namespace}/{kind}/{name}', path: () => '/api/docs/default/component/comp-b', expect: all(404) },
  { method: 'GET', route: '/api/docs/{namespace}/{kind}/{name}/pages/{*}', path: () => '/api/docs/default/component/comp-b/pages/', expect: all(404) },
  { method: 'GET', route: '/api/docs/{namespace}/{kind}/{name}/assets/{*}', path: () => '/api/docs/default/component/comp-b/assets/a.png', expect: all(404) },
  { method: 'POST', route: '/api/docs/{namespace}/{kind}/{name}/build', path: () => '/api/docs/default/component/comp-b/build', expect: { ...all(403), bob: 202, admin: 202 } },
  // ---- the caller's own things ----
  { method: 'GET', route: '/api/auth/session', expect: all(200, 200) },
  { method: 'GET', route: '/api/auth/whoami', expect: read },
  { method: 'GET', route: '/api/auth/tokens', expect: read },
  { method: 'POST', route: '/api/permission/authorize', body: () => ({ items: [{ id: '1', permission: { name: 'catalog.entity.delete' }, resourceRef: 'component:default/comp-a' }] }), expect: read },
  { method: 'POST', route: '/api/auth/device/code', body: () => ({}), expect: all(200, 200) },
  { method: 'POST', route: '/api/auth/device/token', body: () => ({ deviceCode: 'not-a-device-code' }), expect: all(400, 400) },
  { method: 'GET', route: '/api/auth/device/{userCode}', path: async () => `/api/auth/device/${await deviceCode()}`, expect: read },
  // A guest is not a person who can hold a token.
  { method: 'POST', route: '/api/auth/device/{userCode}/approve', path: async () => `/api/auth/device/${await deviceCode()}/approve`, expect: { ...all(204), guest: 400 } },
  { method: 'POST', route: '/api/auth/device/{userCode}/deny', path: async () => `/api/auth/device/${await deviceCode()}/deny`, expect: { ...all(204), guest: 400 } },
  { method: 'POST', route: '/api/auth/signin', body: () => ({ username: 'nobody-here', password: 'wrong-password' }), expect: all(401, 401) },
  { method: 'POST', route: '/api/auth/guest', expect: all(200, 200) },
  // Only the admin has a local account: the others are told so; a wrong current password is refused.
  { method: 'POST', route: '/api/auth/password', body: () => ({ currentPassword: 'wrong-password', newPassword: 'another-long-password' }), expect: { ...all(404), admin: 401, readToken: 401 } },
  // ---- tokens ----
  { method: 'POST', route: '/api/auth/tokens', body: () => ({ name: 'matrix', scopes: ['read'] }), expect: { ...all(201), guest: 403, readToken: 403 } },
  { method: 'DELETE', route: '/api/auth/tokens/{id}', path: async () => `/api/auth/tokens/${await aliceToken()}`, expect: { ...all(403), alice: 200, admin: 200 } },
  // ---- admin only ----
  { method: 'GET', route: '/api/audit/', expect: adminOnly(200) },
  { method: 'GET', route: '/api/audit/export', expect: adminOnly(200) },
  { method: 'GET', route: '/api/audit/verify', expect: adminOnly(200) },
  { method: 'GET', route: '/api/auth/accounts', expect: adminOnly(200) },
  { method: 'POST', route: '/api/auth/accounts', body: () => ({ username: `made-${++n}`, password: 'a-long-password-1', entityRef: `user:default/made-${n}` }), expect: adminOnly(201) },
  { method: 'DELETE', route: '/api/auth/accounts/{username}', path: async () => `/api/auth/accounts/${await account()}`, expect: adminOnly(204) },
  { method: 'POST', route: '/api/auth/accounts/{username}/unlock', path: async () => `/api/auth/accounts/${await account()}/unlock`, expect: adminOnly(200) },
  { method: 'POST', route: '/api/auth/sessions/revoke', body: () => ({ principalRef: 'user:default/nobody' }), expect: adminOnly(200) },
  { method: 'POST', route: '/api/jobs/{id}/retry', path: () => '/api/jobs/999999/retry', expect: adminOnly(404) },
  // ---- catalog changes: members change what their groups own or what they registered ----
  { method: 'POST', route: '/api/catalog/locations', body: () => ({ type: 'file', target: freshFile() }), expect: { ...all(403), alice: 201, bob: 201, admin: 201 } },
  { method: 'PUT', route: '/api/catalog/locations/{id}', path: () => `/api/catalog/locations/${aliceLocation}`, body: async () => {
      const l = (await pave.api('GET', `/api/catalog/locations/${aliceLocation}`)).body;
      return { type: l.type, target: l.target };
    }, expect: { ...all(403), alice: 200, admin: 200 } },
  { method: 'POST', route: '/api/catalog/locations/{id}/refresh', path: () => `/api/catalog/locations/${aliceLocation}/refresh`, expect: { ...all(403), alice: 202, bob: 202, admin: 202 } },
  { method: 'DELETE', route: '/api/catalog/locations/{id}', path: async () => `/api/catalog/locations/${await aliceFreshLocation()}`, expect: { ...all(403), alice: 204, admin: 204 } },
  { method: 'POST', route: '/api/catalog/refresh', body: () => ({ entityRef: 'component:default/comp-b' }), expect: { ...all(403), bob: 200, admin: 200 } },
  { method: 'DELETE', route: '/api/catalog/entities/by-uid/{uid}', path: async () => `/api/catalog/entities/by-uid/${await compBUid()}`, expect: { ...all(403), bob: 204, admin: 204 } },
  // ---- sessions last: they end the guest's ----
  { method: 'POST', route: '/api/auth/signout-everywhere', expect: read },
  { method: 'POST', route: '/api/auth/signout', expect: all(204, 204) },
];

test('every route × every role gives the expected status', async () => {
  const failures: string[] = [];
  for (const role of ROLES) {
    for (const row of rows) {
      const p = row.path ? await row.path(role) : row.route;
      const body = row.body ? await row.body(role) : undefined;
      const res = await fetch(pave.url + p, {
        method: row.method,
        headers: { ...creds[role].headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status !== row.expect[role]) failures.push(`${role} ${row.method} ${p}: expected ${row.expect[role]}, got ${res.status} ${text.slice(0, 200)}`);
    }
  }
  assert.deepEqual(failures, [], failures.join('\n'));
});

test('the table covers every route of the OpenAPI document', async () => {
  const doc = (await pave.api('GET', '/api/openapi.json')).body;
  const listed = Object.entries<any>(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  const covered = new Set(rows.map((r) => `${r.method} ${r.route}`));
  const missing = listed.filter((r) => !covered.has(r));
  assert.deepEqual(missing, [], `routes without a row in the access matrix: ${missing.join(', ')}`);
  assert.ok(listed.length >= 49, `the OpenAPI document lists ${listed.length} routes`);
});

test('a list is filtered, not refused, when reading is conditional', async () => {
  // A second Pave whose policy lets members read only what their groups own.
  const scoped = await startTestPave({
    settings: {
      'permission.rules': [
        { roles: ['admin'], permissions: ['*'], decision: 'allow' },
        { roles: ['member'], permissions: ['catalog.entity.read'], decision: 'conditional', conditions: { anyOf: [{ rule: 'IS_ENTITY_OWNER' }, { rule: 'IS_ENTITY_KIND', params: { kinds: ['user', 'group'] } }] } },
      ],
    },
  });
  try {
    await scoped.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(dir, 'org.yaml') });
    await eventually(async () => ((await scoped.api('GET', '/api/catalog/entities/by-name/component/default/comp-b')).status === 200 ? true : undefined), 15_000, 'org');
    const alice = scoped.apiAs(await scoped.tokenFor('user:default/alice'));
    const names = (await alice('GET', '/api/catalog/entities?filter=kind=component')).body.map((e: any) => e.metadata.name).sort();
    assert.deepEqual(names, ['comp-a'], 'alice lists only her team’s component');
    const page = (await alice('GET', '/api/catalog/entities/by-query?filter=kind=component&limit=1')).body;
    assert.equal(page.totalItems, 1, 'totals count only what she may read');
    const facets = (await alice('GET', '/api/catalog/entity-facets?facet=kind')).body.facets.kind;
    assert.deepEqual(facets.find((f: any) => f.value === 'Component')?.count, 1, 'facets count only what she may read');
    assert.equal((await alice('GET', '/api/catalog/entities/by-name/component/default/comp-b')).status, 404, 'another team’s component looks missing');
    const refs = (await alice('POST', '/api/catalog/entities/by-refs', { entityRefs: ['component:default/comp-a', 'component:default/comp-b'] })).body.items;
    assert.equal(refs[0]?.metadata.name, 'comp-a', 'by-refs keeps what she may read');
    assert.equal(refs[1], null, 'by-refs hides the rest');
    assert.equal((await alice('GET', '/api/catalog/entities?filter=kind=user')).body.length, 3, 'users are readable through the anyOf branch');
  } finally {
    await scoped.close();
  }
});

test('a policy naming an unknown rule stops start-up with a clear error', async () => {
  await assert.rejects(
    startTestPave({ settings: { 'permission.rules': [{ permissions: ['catalog.entity.delete'], decision: 'conditional', conditions: { rule: 'IS_ENTITY_OWNR' } }] } }),
    (e: any) => e.code === 'POLICY_INVALID' && /IS_ENTITY_OWNR/.test(e.message) && /IS_ENTITY_OWNER/.test(e.message),
  );
});
