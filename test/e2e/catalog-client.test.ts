// Backstage's official CatalogClient (@backstage/catalog-client 1.16), unchanged, against a real
// Pave on the backend under test: every method of the client, with real results checked.
//
// Run: PAVE_TEST_BACKENDS=pglite node scripts/test.js test/e2e/catalog-client.test.ts
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CATALOG_FILTER_EXISTS, CatalogClient } from '@backstage/catalog-client';
import type { Entity } from '@backstage/catalog-model';
import type { FilterPredicate } from '@backstage/filter-predicates';
import { eventually, startTestPave, type TestPave } from '../../src/testing/pave.ts';

let pave: TestPave;
let client: CatalogClient;
let dir: string;
let rootFile: string;
let componentsFile: string;
let rootLocationId: string;
let files: Server;
let filesUrl: string;

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const generatedName = (locationRef: string) => `generated-${sha1(locationRef)}`;

const ROOT = `
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: fixture-root
  description: The fixture catalog
spec:
  targets:
    - ./org.yaml
    - ./components.yaml
    - ./apis.yaml
    - ./ns/ops.yaml
`;

const ORG = `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-a, title: Team A }
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
spec: { memberOf: [team-a] }
`;

const COMPONENTS = `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc-a
  title: Payments Service
  description: Takes the money
  tags: [java, web]
  annotations:
    pave.dev/tier: gold
spec:
  type: service
  lifecycle: production
  owner: team-a
  system: sys-x
  providesApis: [api-a]
  dependsOn: [component:svc-b, resource:db-1]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc-b
  tags: [go]
spec:
  type: service
  lifecycle: experimental
  owner: team-b
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: web-c
  tags: [java]
spec:
  type: website
  lifecycle: production
  owner: team-a
  system: sys-x
  consumesApis: [api-a]
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: { name: db-1 }
spec: { type: database, owner: team-b }
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: { name: sys-x }
spec: { owner: team-a }
`;

const APIS = `
apiVersion: backstage.io/v1alpha1
kind: API
metadata: { name: api-a }
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  system: sys-x
  definition: "openapi: 3.0.0"
`;

const OPS = `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ops-tool
  namespace: ops
spec:
  type: service
  lifecycle: production
  owner: group:default/team-b
  dependsOn: [component:default/svc-a]
`;

const extraComponent = (name: string) => `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ${name} }
spec: { type: library, lifecycle: experimental, owner: team-b }
`;

// Everything the root location produces, plus its generated Location entity.
const FIXTURE = ['alice', 'api-a', 'db-1', 'fixture-root', 'ops-tool', 'svc-a', 'svc-b', 'sys-x', 'team-a', 'team-b', 'web-c'];

const names = (items: (Entity | undefined)[]) => items.map((e) => e?.metadata.name).sort();
const relationsOf = (e: Entity | undefined) => (e?.relations ?? []).map((r) => `${r.type} ${r.targetRef}`);

/** Runs `fn` and returns the ResponseError it throws. */
async function responseError(fn: () => Promise<unknown>): Promise<any> {
  try {
    await fn();
  } catch (e: any) {
    assert.equal(e.name, 'ResponseError', String(e?.stack ?? e));
    return e;
  }
  assert.fail('expected a ResponseError');
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pave-client-'));
  await mkdir(path.join(dir, 'ns'));
  await mkdir(path.join(dir, 'served', 'one'), { recursive: true });
  await mkdir(path.join(dir, 'served', 'two'), { recursive: true });
  rootFile = path.join(dir, 'catalog-info.yaml');
  componentsFile = path.join(dir, 'components.yaml');
  await writeFile(rootFile, ROOT);
  await writeFile(path.join(dir, 'org.yaml'), ORG);
  await writeFile(componentsFile, COMPONENTS);
  await writeFile(path.join(dir, 'apis.yaml'), APIS);
  await writeFile(path.join(dir, 'ns', 'ops.yaml'), OPS);
  await writeFile(path.join(dir, 'served', 'one', 'catalog-info.yaml'), extraComponent('extra-one'));
  await writeFile(path.join(dir, 'served', 'two', 'catalog-info.yaml'), extraComponent('extra-two'));

  // A plain static file server, for url locations.
  files = createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    try {
      const body = await readFile(path.join(dir, 'served', path.normalize(rel)));
      res.writeHead(200, { 'content-type': 'text/yaml' }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;

  pave = await startTestPave();
  // Pave's API wants a token; a Backstage app's fetchApi adds its credentials the same way.
  const authedFetch: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${pave.token}`);
    return fetch(input, { ...init, headers });
  };
  client = new CatalogClient({ discoveryApi: { getBaseUrl: async () => `${pave.url}/api/catalog` }, fetchApi: { fetch: authedFetch } });
  const added = await client.addLocation({ type: 'file', target: rootFile });
  rootLocationId = added.location.id;
  await eventually(async () => {
    const { items } = await client.getEntities({ fields: ['metadata.name'] });
    return items.length === FIXTURE.length + 1 ? items : undefined;
  }, 15_000, 'the fixture catalog');
});

after(async () => {
  await pave?.close();
  await new Promise((r) => files?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('CatalogClient against Pave', () => {
  test('getEntities: all, filter (AND, OR, exists), fields', async () => {
    const all = await client.getEntities();
    assert.deepEqual(names(all.items), [...FIXTURE, generatedName(`file:${rootFile}`)].sort());
    for (const e of all.items) {
      assert.match(e.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(typeof e.metadata.etag, 'string');
      assert.equal(e.metadata.namespace ?? 'default', e.metadata.name === 'ops-tool' ? 'ops' : 'default');
    }

    const services = await client.getEntities({ filter: { kind: 'Component', 'spec.type': 'service' } });
    assert.deepEqual(names(services.items), ['ops-tool', 'svc-a', 'svc-b']);

    const either = await client.getEntities({ filter: [{ kind: 'API' }, { kind: 'system' }] });
    assert.deepEqual(names(either.items), ['api-a', 'sys-x']);

    const multi = await client.getEntities({ filter: { kind: ['api', 'resource'] } });
    assert.deepEqual(names(multi.items), ['api-a', 'db-1']);

    const tagged = await client.getEntities({ filter: { 'metadata.tags': CATALOG_FILTER_EXISTS, 'metadata.tags.java': CATALOG_FILTER_EXISTS } });
    assert.deepEqual(names(tagged.items), ['svc-a', 'web-c']);

    const owned = await client.getEntities({ filter: { 'relations.ownedBy': 'group:default/team-b' } });
    assert.deepEqual(names(owned.items), ['db-1', 'ops-tool', 'svc-b']);

    const inOps = await client.getEntities({ filter: { 'metadata.namespace': 'ops' } });
    assert.deepEqual(names(inOps.items), ['ops-tool']);

    const projected = await client.getEntities({
      filter: { kind: 'component', 'metadata.name': 'svc-a' },
      fields: ['kind', 'metadata.name', 'metadata.annotations.backstage.io/managed-by-location', 'spec.owner'],
    });
    assert.deepEqual(projected.items, [
      { kind: 'Component', metadata: { name: 'svc-a', annotations: { 'backstage.io/managed-by-location': `file:${componentsFile}` } }, spec: { owner: 'team-a' } },
    ]);
  });

  test('getEntities: order, offset, limit and after', async () => {
    const fields = ['metadata.name'];
    const filter = { kind: 'component' };
    const asc = await client.getEntities({ filter, fields, order: { field: 'metadata.name', order: 'asc' } });
    assert.deepEqual(asc.items.map((e) => e.metadata.name), ['ops-tool', 'svc-a', 'svc-b', 'web-c']);
    const desc = await client.getEntities({ filter, fields, order: [{ field: 'spec.lifecycle', order: 'asc' }, { field: 'metadata.name', order: 'desc' }] });
    assert.deepEqual(desc.items.map((e) => e.metadata.name), ['svc-b', 'web-c', 'svc-a', 'ops-tool']);

    const page1 = await client.getEntities({ filter, fields, order: { field: 'metadata.name', order: 'desc' }, limit: 2 });
    assert.deepEqual(page1.items.map((e) => e.metadata.name), ['web-c', 'svc-b']);
    const page2 = await client.getEntities({ filter, fields, order: { field: 'metadata.name', order: 'desc' }, limit: 2, offset: 2 });
    assert.deepEqual(page2.items.map((e) => e.metadata.name), ['svc-a', 'ops-tool']);
    const beyond = await client.getEntities({ filter, fields, limit: 2, offset: 10 });
    assert.deepEqual(beyond.items, []);

    // `after` is the opaque cursor of the Link header; the client passes it through.
    const raw = await fetch(`${pave.url}/api/catalog/entities?filter=kind%3Dcomponent&fields=metadata.name&order=asc%3Ametadata.name&limit=3`, {
      headers: { authorization: `Bearer ${pave.token}` },
    });
    const link = raw.headers.get('link');
    assert.ok(link, 'link');
    const afterCursor = new URL(/^<([^>]+)>/.exec(link)![1], pave.url).searchParams.get('after')!;
    const rest = await client.getEntities({ filter, fields, order: { field: 'metadata.name', order: 'asc' }, after: afterCursor });
    assert.deepEqual(rest.items.map((e) => e.metadata.name), ['web-c']);
  });

  test('getEntitiesByRefs: order kept, misses undefined, fields, filter and query', async () => {
    const refs = ['component:default/web-c', 'component:default/nope', 'Component:Default/SVC-A', 'component:ops/ops-tool', 'group:default/team-a'];
    const plain = await client.getEntitiesByRefs({ entityRefs: refs });
    assert.deepEqual(
      plain.items.map((e) => e?.metadata.name),
      ['web-c', undefined, 'svc-a', 'ops-tool', 'team-a'],
    );
    assert.ok(relationsOf(plain.items[2]).includes('dependsOn component:default/svc-b'), 'relationsOf(plain.items[2]).includes(\'dependsOn component:default/svc-b\')');

    const filtered = await client.getEntitiesByRefs({ entityRefs: refs, filter: { kind: 'component', 'spec.type': 'service' }, fields: ['metadata.name'] });
    assert.deepEqual(filtered.items, [undefined, undefined, { metadata: { name: 'svc-a' } }, { metadata: { name: 'ops-tool' } }, undefined]);

    const queried = await client.getEntitiesByRefs({ entityRefs: refs, query: { 'metadata.tags': { $exists: true } }, fields: ['metadata.name', 'metadata.tags'] });
    assert.deepEqual(queried.items, [{ metadata: { name: 'web-c', tags: ['java'] } }, undefined, { metadata: { name: 'svc-a', tags: ['java', 'web'] } }, undefined, undefined]);

    // query and filter together: both must hold.
    const both = await client.getEntitiesByRefs({ entityRefs: refs, query: { 'metadata.tags': 'java' }, filter: { 'spec.type': 'website' }, fields: ['metadata.name'] });
    assert.deepEqual(both.items, [{ metadata: { name: 'web-c' } }, undefined, undefined, undefined, undefined]);

    // More refs than one request holds: the client splits them and concatenates the answers.
    const many = [...Array.from({ length: 1500 }, (_, i) => `component:default/missing-${i}`), 'api:default/api-a'];
    const big = await client.getEntitiesByRefs({ entityRefs: many, fields: ['metadata.name'] });
    assert.equal(big.items.length, 1501);
    assert.equal(big.items.filter(Boolean).length, 1);
    assert.deepEqual(big.items[1500], { metadata: { name: 'api-a' } });

    assert.deepEqual(await client.getEntitiesByRefs({ entityRefs: [] }), { items: [] });
  });

  test('queryEntities: GET first page, POST cursor pages (filter in cursor), prev cursor, totalItems', async () => {
    const first = await client.queryEntities({
      filter: { kind: ['component', 'api'] },
      orderFields: { field: 'metadata.name', order: 'asc' },
      limit: 2,
      fields: ['metadata.name'],
    });
    assert.equal(first.totalItems, 5);
    assert.deepEqual(first.items, [{ metadata: { name: 'api-a' } }, { metadata: { name: 'ops-tool' } }]);
    assert.equal(first.pageInfo.prevCursor, undefined);
    assert.ok(first.pageInfo.nextCursor, 'first.pageInfo.nextCursor');
    const decoded = JSON.parse(atob(first.pageInfo.nextCursor));
    assert.ok('query' in decoded, 'the cursor carries the filter as a predicate, so the client follows it with POST');

    const second = await client.queryEntities({ cursor: first.pageInfo.nextCursor, limit: 2, fields: ['metadata.name'] });
    assert.equal(second.totalItems, 5);
    assert.deepEqual(second.items, [{ metadata: { name: 'svc-a' } }, { metadata: { name: 'svc-b' } }]);
    assert.ok(second.pageInfo.prevCursor, 'second.pageInfo.prevCursor');
    assert.ok(second.pageInfo.nextCursor, 'second.pageInfo.nextCursor');

    const third = await client.queryEntities({ cursor: second.pageInfo.nextCursor!, limit: 2, fields: ['metadata.name'] });
    assert.deepEqual(third.items, [{ metadata: { name: 'web-c' } }]);
    assert.equal(third.pageInfo.nextCursor, undefined);
    assert.ok(third.pageInfo.prevCursor, 'third.pageInfo.prevCursor');

    const back = await client.queryEntities({ cursor: third.pageInfo.prevCursor!, limit: 2, fields: ['metadata.name'] });
    assert.deepEqual(back.items, [{ metadata: { name: 'svc-a' } }, { metadata: { name: 'svc-b' } }]);
    assert.ok(back.pageInfo.nextCursor, 'back.pageInfo.nextCursor');
    const backAgain = await client.queryEntities({ cursor: back.pageInfo.prevCursor!, limit: 2, fields: ['metadata.name'] });
    assert.deepEqual(backAgain.items, [{ metadata: { name: 'api-a' } }, { metadata: { name: 'ops-tool' } }]);
    assert.equal(backAgain.pageInfo.prevCursor, undefined, 'the first page has no previous page');
  });

  test('queryEntities: GET paging without a filter, desc order, offset, totalItems exclude', async () => {
    const first = await client.queryEntities({ orderFields: [{ field: 'metadata.name', order: 'desc' }], limit: 5, fields: ['metadata.name'] });
    assert.equal(first.totalItems, FIXTURE.length + 1);
    assert.deepEqual(first.items.map((e) => e.metadata.name), ['web-c', 'team-b', 'team-a', 'sys-x', 'svc-b']);
    assert.ok(!('query' in JSON.parse(atob(first.pageInfo.nextCursor!))), 'no filter: the client follows with GET');
    const seen = first.items.map((e) => e.metadata.name);
    let cursor = first.pageInfo.nextCursor;
    while (cursor) {
      const page = await client.queryEntities({ cursor, limit: 5, fields: ['metadata.name'] });
      assert.equal(page.totalItems, FIXTURE.length + 1);
      seen.push(...page.items.map((e) => e.metadata.name));
      cursor = page.pageInfo.nextCursor;
    }
    assert.deepEqual(seen, [...FIXTURE, generatedName(`file:${rootFile}`)].sort().reverse());

    const offset = await client.queryEntities({ filter: { kind: 'component' }, orderFields: { field: 'metadata.name', order: 'asc' }, offset: 1, limit: 2, totalItems: 'exclude' });
    assert.deepEqual(offset.items.map((e) => e.metadata.name), ['svc-a', 'svc-b']);
    assert.equal(offset.totalItems, 0);

    // Sorting by a field keeps only the entities that have it, in items and totalItems (as Backstage).
    const byTitle = await client.queryEntities({ orderFields: { field: 'metadata.title', order: 'asc' }, fields: ['metadata.name', 'metadata.title'] });
    assert.deepEqual(byTitle.items, [{ metadata: { name: 'svc-a', title: 'Payments Service' } }, { metadata: { name: 'team-a', title: 'Team A' } }]);
    assert.equal(byTitle.totalItems, 2);

    const countOnly = await client.queryEntities({ filter: { kind: 'component' }, limit: 0 });
    assert.deepEqual(countOnly, { items: [], totalItems: 4, pageInfo: {} });

    const none = await client.queryEntities({ filter: { kind: 'template' } });
    assert.deepEqual(none, { items: [], totalItems: 0, pageInfo: {} });
  });

  test('queryEntities: fullTextFilter', async () => {
    const res = await client.queryEntities({
      fullTextFilter: { term: '  SVC ', fields: ['metadata.name', 'metadata.title'] },
      orderFields: { field: 'metadata.name', order: 'asc' },
    });
    assert.deepEqual(res.items.map((e) => e.metadata.name), ['svc-a', 'svc-b']);
    assert.equal(res.totalItems, 2);
    const byTitle = await client.queryEntities({ filter: { kind: 'component' }, fullTextFilter: { term: 'payments', fields: ['metadata.title'] } });
    assert.deepEqual(names(byTitle.items), ['svc-a']);
    const paged = await client.queryEntities({ fullTextFilter: { term: 'team', fields: ['metadata.name'] }, orderFields: { field: 'metadata.name', order: 'asc' }, limit: 1 });
    assert.deepEqual(paged.items.map((e) => e.metadata.name), ['team-a']);
    assert.equal(paged.totalItems, 2);
    const next = await client.queryEntities({ cursor: paged.pageInfo.nextCursor! });
    assert.deepEqual(next.items.map((e) => e.metadata.name), ['team-b'], 'the cursor keeps the full-text filter');
  });

  test('queryEntities: predicate query (POST), with cursor follow-ups', async () => {
    const query: FilterPredicate = { $all: [{ kind: 'component' }, { $not: { 'metadata.namespace': 'ops' } }] };
    const first = await client.queryEntities({ query, orderFields: { field: 'metadata.name', order: 'desc' }, limit: 2, fields: ['metadata.name'] });
    assert.equal(first.totalItems, 3);
    assert.deepEqual(first.items.map((e) => e.metadata.name), ['web-c', 'svc-b']);
    const second = await client.queryEntities({ cursor: first.pageInfo.nextCursor!, limit: 2, fields: ['metadata.name'] });
    assert.deepEqual(second.items.map((e) => e.metadata.name), ['svc-a']);
    assert.equal(second.pageInfo.nextCursor, undefined);

    const relations = await client.queryEntities({ query: { relations: { $contains: { type: 'apiConsumedBy' } } } });
    assert.deepEqual(names(relations.items), ['api-a']);

    // query and filter together are ANDed by the client.
    const combined = await client.queryEntities({ query: { 'spec.lifecycle': 'production' }, filter: { kind: 'component' } });
    assert.deepEqual(names(combined.items), ['ops-tool', 'svc-a', 'web-c']);
  });

  test('streamEntities: every entity, page by page', async () => {
    const pages: Entity[][] = [];
    for await (const page of client.streamEntities({ pageSize: 4, fields: ['metadata.name'] })) pages.push(page);
    assert.deepEqual(pages.map((p) => p.length), [4, 4, 4]);
    assert.deepEqual(names(pages.flat()), [...FIXTURE, generatedName(`file:${rootFile}`)].sort());

    const filtered: Entity[][] = [];
    for await (const page of client.streamEntities({ filter: { kind: 'group' }, pageSize: 1, orderFields: { field: 'metadata.name', order: 'asc' } })) filtered.push(page);
    assert.deepEqual(filtered.map((p) => p.map((e) => e.metadata.name)), [['team-a'], ['team-b']]);

    const empty: Entity[][] = [];
    for await (const page of client.streamEntities({ filter: { kind: 'template' } })) empty.push(page);
    assert.deepEqual(empty, [[]]);
  });

  test('getEntityByRef / getEntityByName: present, other namespace, relations both ways, missing → undefined', async () => {
    const svcA = await client.getEntityByRef('component:default/svc-a');
    assert.equal(svcA?.metadata.name, 'svc-a');
    assert.equal(svcA?.metadata.title, 'Payments Service');
    assert.equal(svcA?.metadata.annotations?.['backstage.io/managed-by-origin-location'], `file:${rootFile}`);
    assert.deepEqual(relationsOf(svcA), [
      'dependencyOf component:ops/ops-tool',
      'dependsOn component:default/svc-b',
      'dependsOn resource:default/db-1',
      'ownedBy group:default/team-a',
      'partOf system:default/sys-x',
      'providesApi api:default/api-a',
    ]);

    const svcB = await client.getEntityByRef({ kind: 'component', namespace: 'default', name: 'svc-b' });
    assert.deepEqual(relationsOf(svcB), ['dependencyOf component:default/svc-a', 'ownedBy group:default/team-b']);

    const teamA = await client.getEntityByRef('group:team-a');
    assert.ok(relationsOf(teamA).includes('ownerOf component:default/svc-a'), 'relationsOf(teamA).includes(\'ownerOf component:default/svc-a\')');
    assert.ok(relationsOf(teamA).includes('hasMember user:default/alice'), 'relationsOf(teamA).includes(\'hasMember user:default/alice\')');
    const alice = await client.getEntityByRef('user:default/alice');
    assert.deepEqual(relationsOf(alice), ['memberOf group:default/team-a']);
    const api = await client.getEntityByRef('api:api-a');
    assert.deepEqual(relationsOf(api), [
      'apiConsumedBy component:default/web-c',
      'apiProvidedBy component:default/svc-a',
      'ownedBy group:default/team-a',
      'partOf system:default/sys-x',
    ]);
    const teamB = await client.getEntityByRef('group:default/team-b');
    assert.ok(relationsOf(teamB).includes('ownerOf component:ops/ops-tool'), 'relationsOf(teamB).includes(\'ownerOf component:ops/ops-tool\')');

    const ops = await client.getEntityByRef('component:ops/ops-tool');
    assert.equal(ops?.metadata.namespace, 'ops');
    assert.equal(await client.getEntityByRef('component:default/ops-tool'), undefined);
    assert.equal(await client.getEntityByRef('component:default/nope'), undefined);
    assert.equal(await client.getEntityByRef('Component:Default/SVC-A').then((e) => e?.metadata.uid), svcA?.metadata.uid, 'refs are case-insensitive');

    const byName = await client.getEntityByName({ kind: 'System', namespace: 'default', name: 'sys-x' });
    assert.equal(byName?.kind, 'System');
    assert.deepEqual(
      relationsOf(byName).filter((r) => r.startsWith('hasPart')),
      ['hasPart api:default/api-a', 'hasPart component:default/svc-a', 'hasPart component:default/web-c'],
    );
    assert.equal(await client.getEntityByName({ kind: 'system', namespace: 'default', name: 'nope' }), undefined);
  });

  test('getEntityAncestors: the entity, then the Location entities it came through', async () => {
    const generated = `location:default/${generatedName(`file:${rootFile}`)}`;
    const res = await client.getEntityAncestors({ entityRef: 'component:default/svc-a' });
    assert.equal(res.rootEntityRef, 'component:default/svc-a');
    assert.deepEqual(
      res.items.map((i) => [`${i.entity.kind.toLowerCase()}:${i.entity.metadata.namespace ?? 'default'}/${i.entity.metadata.name}`, i.parentEntityRefs]),
      [
        ['component:default/svc-a', ['location:default/fixture-root']],
        ['location:default/fixture-root', [generated]],
        [generated, []],
      ],
    );
    const ops = await client.getEntityAncestors({ entityRef: 'component:ops/ops-tool' });
    assert.equal(ops.rootEntityRef, 'component:ops/ops-tool');
    assert.deepEqual(ops.items[0].parentEntityRefs, ['location:default/fixture-root']);
    const root = await client.getEntityAncestors({ entityRef: generated });
    assert.deepEqual(root.items.map((i) => i.parentEntityRefs), [[]]);

    const err = await responseError(() => client.getEntityAncestors({ entityRef: 'component:default/nope' }));
    assert.equal(err.statusCode, 404);
    assert.equal(err.cause.name, 'NotFoundError');
  });

  test('getEntityFacets: GET with filter, POST with query', async () => {
    const byKind = await client.getEntityFacets({ facets: ['kind', 'spec.type'], filter: { 'metadata.namespace': 'default' } });
    const sortBuckets = (b: { value: string; count: number }[]) => [...b].sort((x, y) => (x.value < y.value ? -1 : 1));
    assert.deepEqual(sortBuckets(byKind.facets.kind), [
      { value: 'API', count: 1 },
      { value: 'Component', count: 3 },
      { value: 'Group', count: 2 },
      { value: 'Location', count: 2 },
      { value: 'Resource', count: 1 },
      { value: 'System', count: 1 },
      { value: 'User', count: 1 },
    ]);
    assert.deepEqual(sortBuckets(byKind.facets['spec.type']), [
      { value: 'database', count: 1 },
      { value: 'file', count: 1 },
      { value: 'openapi', count: 1 },
      { value: 'service', count: 2 },
      { value: 'team', count: 2 },
      { value: 'website', count: 1 },
    ]);

    const tags = await client.getEntityFacets({ facets: ['metadata.tags', 'relations.ownedBy'], query: { kind: 'component' } });
    assert.deepEqual(sortBuckets(tags.facets['metadata.tags']), [
      { value: 'go', count: 1 },
      { value: 'java', count: 2 },
      { value: 'web', count: 1 },
    ]);
    // Relations are facets too (Backstage indexes them as relations.<type> = target ref).
    assert.deepEqual(sortBuckets(tags.facets['relations.ownedBy']), [
      { value: 'group:default/team-a', count: 2 },
      { value: 'group:default/team-b', count: 2 },
    ]);
    const owners = await client.getEntityFacets({ facets: ['relations.ownerOf'], filter: { kind: 'group' } });
    assert.deepEqual(sortBuckets(owners.facets['relations.ownerOf']).map((b) => [b.value, b.count]), [
      ['api:default/api-a', 1],
      ['component:default/svc-a', 1],
      ['component:default/svc-b', 1],
      ['component:default/web-c', 1],
      ['component:ops/ops-tool', 1],
      ['resource:default/db-1', 1],
      ['system:default/sys-x', 1],
    ]);

    const combined = await client.getEntityFacets({ facets: ['metadata.name'], query: { kind: 'component' }, filter: { 'spec.type': 'service' } });
    assert.deepEqual(sortBuckets(combined.facets['metadata.name']).map((b) => b.value), ['ops-tool', 'svc-a', 'svc-b']);

    const none = await client.getEntityFacets({ facets: ['spec.type'], filter: { kind: 'template' } });
    assert.deepEqual(none, { facets: { 'spec.type': [] } });
  });

  test('getLocations, getLocationById, getLocationByRef, getLocationByEntity', async () => {
    const { items } = await client.getLocations();
    assert.equal(items.length, 1);
    const loc = items[0];
    assert.equal(loc.id, rootLocationId);
    assert.equal(loc.type, 'file');
    assert.equal(loc.target, rootFile);
    assert.equal((loc as any).entityRef, `location:default/${generatedName(`file:${rootFile}`)}`);

    const byId = await client.getLocationById(rootLocationId);
    assert.equal(byId?.id, rootLocationId);
    assert.equal(byId?.target, rootFile);
    assert.equal(await client.getLocationById('00000000-0000-4000-8000-000000000000'), undefined);
    assert.equal(await client.getLocationById('not-a-uuid'), undefined);

    const byRef = await client.getLocationByRef(`file:${rootFile}`);
    assert.equal(byRef?.id, rootLocationId);
    assert.equal(await client.getLocationByRef(`file:${rootFile}.nope`), undefined);

    const byEntity = await client.getLocationByEntity('component:default/svc-a');
    assert.equal(byEntity?.id, rootLocationId);
    const byEntityOps = await client.getLocationByEntity({ kind: 'component', namespace: 'ops', name: 'ops-tool' });
    assert.equal(byEntityOps?.id, rootLocationId);
    assert.equal(await client.getLocationByEntity('component:default/nope'), undefined);
  });

  test('validateEntity: valid, invalid', async () => {
    const good: Entity = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name: 'new-thing' },
      spec: { type: 'service', lifecycle: 'production', owner: 'team-a' },
    };
    assert.deepEqual(await client.validateEntity(good, 'url:https://github.com/acme/new-thing/blob/main/catalog-info.yaml'), { valid: true });

    const badName = await client.validateEntity({ ...good, metadata: { name: 'not a valid name!' } }, 'url:https://github.com/acme/x/blob/main/catalog-info.yaml');
    assert.equal(badName.valid, false);
    assert.ok(!badName.valid && badName.errors.length >= 1, '!badName.valid && badName.errors.length >= 1');
    if (!badName.valid) {
      assert.equal(badName.errors[0].name, 'InputError');
      assert.match(badName.errors[0].message, /name/);
    }

    const noOwner = await client.validateEntity({ ...good, spec: { type: 'service', lifecycle: 'production' } }, 'url:https://example.com/catalog-info.yaml');
    assert.equal(noOwner.valid, false);
    if (!noOwner.valid) assert.match(noOwner.errors.map((e) => e.message).join('\n'), /owner/);

    const unknownKind = await client.validateEntity({ ...good, kind: 'Spaceship' }, 'url:https://example.com/catalog-info.yaml');
    assert.equal(unknownKind.valid, false);

    const badDependsOn = await client.validateEntity({ ...good, spec: { ...good.spec, dependsOn: ['svc-b'] } }, 'url:https://example.com/catalog-info.yaml');
    assert.equal(badDependsOn.valid, false, 'dependsOn needs a kind in the ref');

    // Validation does not add anything to the catalog.
    assert.equal(await client.getEntityByRef('component:default/new-thing'), undefined);
  });

  test('analyzeLocation: existing entity files, or a suggested entity', async () => {
    const served = `${filesUrl}/one/catalog-info.yaml`;
    const existing = await client.analyzeLocation({ location: { type: 'url', target: served } });
    assert.deepEqual(existing.generateEntities, []);
    assert.equal(existing.existingEntityFiles.length, 1);
    assert.equal(existing.existingEntityFiles[0].entity.metadata.name, 'extra-one');
    assert.equal(existing.existingEntityFiles[0].isRegistered, false);
    assert.deepEqual(existing.existingEntityFiles[0].location, { type: 'url', target: served });

    const repo = await client.analyzeLocation({ location: { type: 'url', target: `${filesUrl}/acme/my-repo` } });
    assert.deepEqual(repo.existingEntityFiles, []);
    assert.equal(repo.generateEntities.length, 1);
    assert.equal(repo.generateEntities[0].entity.kind, 'Component');
    assert.equal(repo.generateEntities[0].entity.metadata?.name, 'my-repo');
    assert.deepEqual(repo.generateEntities[0].entity.spec, { type: 'other', lifecycle: 'unknown' });

    const registered = await client.analyzeLocation({ location: { type: 'file', target: rootFile } });
    assert.ok(registered.existingEntityFiles.length > 0, 'registered.existingEntityFiles.length > 0');
    assert.ok(registered.existingEntityFiles.every((f) => f.isRegistered), 'registered.existingEntityFiles.every((f) => f.isRegistered)');
    assert.ok(registered.existingEntityFiles.some((f) => f.entity.metadata.name === 'svc-a'), 'registered.existingEntityFiles.some((f) => f.entity.metadata.name === \'svc-a\')');
  });

  test('addLocation: dryRun, real, duplicate → ConflictError, onConflict refresh', async () => {
    const target = `${filesUrl}/one/catalog-info.yaml`;
    const dry = await client.addLocation({ target, dryRun: true });
    assert.equal(dry.exists, false);
    assert.deepEqual(dry.location, { id: `url:${target}`, type: 'url', target, entityRef: `location:default/${generatedName(`url:${target}`)}` });
    assert.deepEqual(dry.entities.map((e) => `${e.kind}:${e.metadata.name}`), [`Location:${generatedName(`url:${target}`)}`, 'Component:extra-one']);
    assert.equal(dry.entities[1].metadata.annotations?.['backstage.io/managed-by-location'], `url:${target}`);
    assert.equal(await client.getEntityByRef('component:default/extra-one'), undefined, 'a dry run adds nothing');
    assert.equal((await client.getLocations()).items.length, 1);

    const added = await client.addLocation({ target });
    assert.equal(added.exists, undefined);
    assert.match(added.location.id, /^[0-9a-f-]{36}$/);
    assert.equal(added.location.type, 'url');
    assert.equal(added.location.target, target);
    const extra = await eventually(() => client.getEntityByRef('component:default/extra-one'), 10_000, 'extra-one');
    assert.equal(extra.metadata.annotations?.['backstage.io/managed-by-origin-location'], `url:${target}`);
    assert.equal((await client.getLocationByEntity('component:extra-one'))?.id, added.location.id);
    const ancestry = await client.getEntityAncestors({ entityRef: 'component:extra-one' });
    assert.deepEqual(ancestry.items.map((i) => i.parentEntityRefs), [[added.location.entityRef], []]);
    assert.equal(ancestry.items[1].entity.metadata.name, generatedName(`url:${target}`));

    const again = await client.addLocation({ target, dryRun: true });
    assert.equal(again.exists, true);

    const err = await responseError(() => client.addLocation({ target }));
    assert.equal(err.statusCode, 409);
    assert.equal(err.cause.name, 'ConflictError');
    assert.match(err.cause.message, /already exists/);

    const refreshed = await client.addLocation({ target, onConflict: 'refresh' });
    assert.equal(refreshed.location.id, added.location.id);

    const bad = await responseError(() => client.addLocation({ type: 'url', target: 'not a url' }));
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.cause.name, 'InputError');

    const { items } = await client.getLocations();
    assert.deepEqual(items.map((l) => l.id).sort(), [rootLocationId, added.location.id].sort());
  });

  test('queryLocations and streamLocations', async () => {
    const all = await client.queryLocations();
    assert.equal(all.totalItems, 2);
    assert.equal(all.items.length, 2);
    assert.deepEqual(all.pageInfo, {});
    const ids = all.items.map((l) => l.id);
    assert.deepEqual(ids, [...ids].sort(), 'ordered by id');

    const fileLocations = await client.queryLocations({ query: { type: 'FILE' } });
    assert.deepEqual(fileLocations.items.map((l) => l.target), [rootFile]);
    assert.equal(fileLocations.totalItems, 1);
    const prefixed = await client.queryLocations({ query: { target: { $hasPrefix: filesUrl } } });
    assert.deepEqual(prefixed.items.map((l) => l.type), ['url']);

    const first = await client.queryLocations({ limit: 1 });
    assert.equal(first.totalItems, 2);
    assert.deepEqual(first.items.map((l) => l.id), [ids[0]]);
    assert.ok(first.pageInfo.nextCursor, 'first.pageInfo.nextCursor');
    const second = await client.queryLocations({ cursor: first.pageInfo.nextCursor! });
    assert.deepEqual(second.items.map((l) => l.id), [ids[1]]);
    assert.equal(second.pageInfo.nextCursor, undefined);

    const streamed: string[][] = [];
    for await (const page of client.streamLocations()) streamed.push(page.map((l) => l.id));
    assert.deepEqual(streamed, [ids]);
    const streamedFiltered: string[] = [];
    for await (const page of client.streamLocations({ query: { type: 'url' } })) streamedFiltered.push(...page.map((l) => l.type));
    assert.deepEqual(streamedFiltered, ['url']);
    const emptyStream: unknown[] = [];
    for await (const page of client.streamLocations({ query: { type: 'nope' } })) emptyStream.push(page);
    assert.deepEqual(emptyStream, []);
  });

  test('updateLocation: points the location elsewhere, its entities follow', async () => {
    const one = `${filesUrl}/one/catalog-info.yaml`;
    const two = `${filesUrl}/two/catalog-info.yaml`;
    const loc = await client.getLocationByRef(`url:${one}`);
    assert.ok(loc, 'loc');
    const updated = await client.updateLocation(loc.id, { target: two });
    assert.equal(updated.id, loc.id);
    assert.equal(updated.type, 'url');
    assert.equal(updated.target, two);
    assert.equal(updated.entityRef, loc.entityRef, 'the location keeps its entity ref');
    assert.equal((await client.getLocationById(loc.id))?.target, two);
    await eventually(async () => ((await client.getEntityByRef('component:default/extra-two')) ? true : undefined), 10_000, 'extra-two');
    await eventually(async () => ((await client.getEntityByRef('component:default/extra-one')) === undefined ? true : undefined), 10_000, 'extra-one gone');

    const conflict = await responseError(() => client.updateLocation(loc.id, { type: 'file', target: rootFile }));
    assert.equal(conflict.statusCode, 409);
    assert.equal(conflict.cause.name, 'ConflictError');
    const missing = await responseError(() => client.updateLocation('00000000-0000-4000-8000-000000000000', { target: one }));
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.cause.name, 'NotFoundError');
  });

  test(
    'updateLocation: the entity ref stays the same in later reads, and names the Location entity',
    async () => {
      const loc = await client.getLocationByRef(`url:${filesUrl}/two/catalog-info.yaml`);
      assert.ok(loc, 'loc');
      assert.equal(loc.entityRef, `location:default/${generatedName(`url:${filesUrl}/one/catalog-info.yaml`)}`);
      assert.ok(await client.getEntityByRef(loc.entityRef), 'await client.getEntityByRef(loc.entityRef)');
    },
  );

  test('removeLocationById: the location and its entities go; missing → NotFoundError', async () => {
    const loc = await client.getLocationByRef(`url:${filesUrl}/two/catalog-info.yaml`);
    assert.ok(loc, 'loc');
    await client.removeLocationById(loc.id);
    assert.equal(await client.getLocationById(loc.id), undefined);
    assert.equal(await client.getEntityByRef('component:default/extra-two'), undefined);
    assert.deepEqual((await client.getLocations()).items.map((l) => l.id), [rootLocationId]);
    const err = await responseError(() => client.removeLocationById(loc.id));
    assert.equal(err.statusCode, 404);
    assert.equal(err.cause.name, 'NotFoundError');
  });

  test('removeEntityByUid and refreshEntity: a removed entity comes back when its location is read again', async () => {
    const original = await client.getEntityByRef('component:default/svc-b');
    assert.ok(original?.metadata.uid, 'original?.metadata.uid');
    await client.removeEntityByUid(original.metadata.uid);
    assert.equal(await client.getEntityByRef('component:default/svc-b'), undefined);
    const svcA = await client.getEntityByRef('component:default/svc-a');
    assert.ok(relationsOf(svcA).includes('dependsOn component:default/svc-b'), 'relations to a missing entity are kept');
    // Removing an unknown uid is not an error (as in Backstage), whatever its form.
    await client.removeEntityByUid('00000000-0000-4000-8000-000000000000');
    await client.removeEntityByUid('not-a-uuid');

    await client.refreshEntity('component:default/svc-a');
    const back = await eventually(() => client.getEntityByRef('component:default/svc-b'), 10_000, 'svc-b back');
    assert.notEqual(back.metadata.uid, original.metadata.uid);
    assert.deepEqual(relationsOf(back), ['dependencyOf component:default/svc-a', 'ownedBy group:default/team-b']);

    const err = await responseError(() => client.refreshEntity('component:default/nope'));
    assert.equal(err.statusCode, 404);
    assert.equal(err.cause.name, 'NotFoundError');
  });

  test('errors: bad input reaches the client as InputError', async () => {
    const badFilter = await responseError(() => client.getEntities({ filter: { '': 'x' } }));
    assert.equal(badFilter.statusCode, 400);
    assert.equal(badFilter.cause.name, 'InputError');
    assert.match(badFilter.cause.message, /Invalid filter/);

    const badQuery = await responseError(() => client.queryEntities({ query: { kind: { $regex: 'x' } } as any }));
    assert.equal(badQuery.statusCode, 400);
    assert.equal(badQuery.cause.name, 'InputError');

    const badCursor = await responseError(() => client.queryEntities({ cursor: 'bm90IGEgY3Vyc29y' }));
    assert.equal(badCursor.statusCode, 400);
    assert.equal(badCursor.cause.name, 'InputError');
    assert.match(badCursor.cause.message, /Malformed cursor/);

    const badFacets = await responseError(() => client.getEntityFacets({ facets: [] }));
    assert.equal(badFacets.statusCode, 400);
    assert.equal(badFacets.cause.name, 'InputError');

    const badOrder = await responseError(() => client.getEntities({ order: { field: 'metadata.name', order: 'up' as any } }));
    assert.equal(badOrder.statusCode, 400);
    assert.equal(badOrder.cause.name, 'InputError');
  });
});
