// The catalog's filter language over HTTP, case by case, against a real Pave on the backend
// under test: the legacy `filter=` query param of GET /entities (Backstage semantics), the
// predicate language of POST /entities/by-query, bad input, and the `fields` / `order` params.
//
// Run: PAVE_TEST_BACKENDS=pglite node scripts/test.js src/catalog/filters.test.ts
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, startTestPave, type TestPave } from '../testing/pave.ts';

let pave: TestPave;
let dir: string;
let rootFile: string;
let componentsFile: string;
let generatedName: string;

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
metadata: { name: alice }
spec: { memberOf: [team-a] }
`;

const COMPONENTS = `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc-a
  title: Service A
  tags: [java, web]
  annotations:
    pave.dev/tier: gold
    github.com/project-slug: acme/svc-a
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
  annotations:
    pave.dev/tier: silver
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
  type: Website
  lifecycle: Production
  owner: team-a
  system: sys-x
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
`;

const ROOT = `
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: { name: fixture-root }
spec:
  targets: [./org.yaml, ./components.yaml, ./apis.yaml, ./ns/ops.yaml]
`;

const ALL = ['alice', 'api-a', 'db-1', 'fixture-root', 'ops-tool', 'svc-a', 'svc-b', 'sys-x', 'team-a', 'team-b', 'web-c'];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pave-filters-'));
  await mkdir(path.join(dir, 'ns'));
  rootFile = path.join(dir, 'catalog-info.yaml');
  componentsFile = path.join(dir, 'components.yaml');
  await writeFile(rootFile, ROOT);
  await writeFile(path.join(dir, 'org.yaml'), ORG);
  await writeFile(componentsFile, COMPONENTS);
  await writeFile(path.join(dir, 'apis.yaml'), APIS);
  await writeFile(path.join(dir, 'ns', 'ops.yaml'), OPS);
  generatedName = `generated-${createHash('sha1').update(`file:${rootFile}`).digest('hex')}`;
  pave = await startTestPave();
  const added = await pave.api('POST', '/api/catalog/locations', { type: 'file', target: rootFile });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  await eventually(async () => {
    const { body } = await pave.api('GET', '/api/catalog/entities?fields=metadata.name');
    return Array.isArray(body) && body.length === ALL.length + 1 ? body : undefined;
  }, 15_000, 'the fixture catalog');
});

after(async () => {
  await pave?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const names = (items: any[]) => items.map((e) => e.metadata.name as string).sort();

async function getNames(filters: string[]): Promise<string[]> {
  const qs = filters.map((f) => `filter=${encodeURIComponent(f)}`).join('&');
  const res = await pave.api('GET', `/api/catalog/entities?${qs}`);
  assert.equal(res.status, 200, `GET /entities?${qs}: ${JSON.stringify(res.body)}`);
  return names(res.body);
}

async function queryNames(query: unknown): Promise<string[]> {
  const res = await pave.api('POST', '/api/catalog/entities/by-query', { query, limit: 100 });
  assert.equal(res.status, 200, `POST by-query ${JSON.stringify(query)}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.totalItems, res.body.items.length, 'totalItems counts the same set');
  return names(res.body.items);
}

/** Asserts Backstage's error body: `{ error: { name, code, message, details }, response: { statusCode } }`. */
function assertError(res: { status: number; body: any; headers: Headers }, status: number, message?: RegExp) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const { error, response } = res.body;
  assert.equal(typeof error, 'object');
  assert.equal(typeof error.code, 'string');
  assert.ok(error.code.length > 0, 'error.code.length > 0');
  assert.equal(typeof error.message, 'string');
  assert.equal(typeof error.details, 'object');
  assert.equal(error.name, status === 400 ? 'InputError' : status === 404 ? 'NotFoundError' : error.name);
  assert.deepEqual(response, { statusCode: status });
  if (message) assert.match(error.message, message);
}

describe('filter= query param (GET /entities)', () => {
  const cases: { name: string; filters: string[]; expect: string[] | (() => string[]) }[] = [
    { name: 'no filter matches everything', filters: [], expect: () => [...ALL, generatedName].sort() },
    { name: 'kind', filters: ['kind=component'], expect: ['ops-tool', 'svc-a', 'svc-b', 'web-c'] },
    { name: 'comma means AND', filters: ['kind=component,spec.type=service'], expect: ['ops-tool', 'svc-a', 'svc-b'] },
    { name: 'AND with three statements', filters: ['kind=component,spec.type=service,metadata.namespace=default'], expect: ['svc-a', 'svc-b'] },
    { name: 'repeated filter params mean OR', filters: ['kind=api', 'kind=system'], expect: ['api-a', 'sys-x'] },
    { name: 'OR of ANDs', filters: ['kind=component,spec.type=website', 'kind=group'], expect: ['team-a', 'team-b', 'web-c'] },
    { name: 'one key twice in one param means either value', filters: ['kind=component,kind=api'], expect: ['api-a', 'ops-tool', 'svc-a', 'svc-b', 'web-c'] },
    { name: 'either value, ANDed with another key', filters: ['kind=component,kind=api,spec.lifecycle=production'], expect: ['api-a', 'ops-tool', 'svc-a', 'web-c'] },
    { name: 'keys are case-insensitive', filters: ['KIND=component,Spec.Type=service'], expect: ['ops-tool', 'svc-a', 'svc-b'] },
    { name: 'values are case-insensitive', filters: ['kind=COMPONENT,spec.type=SERVICE'], expect: ['ops-tool', 'svc-a', 'svc-b'] },
    { name: 'stored mixed case matches lowercase', filters: ['spec.type=website'], expect: ['web-c'] },
    { name: 'mixed-case value across entities', filters: ['spec.lifecycle=production'], expect: ['api-a', 'ops-tool', 'svc-a', 'web-c'] },
    { name: 'statements are trimmed', filters: [' kind = api , spec.type = openapi '], expect: ['api-a'] },
    { name: 'empty statements are dropped', filters: ['kind=api,,'], expect: ['api-a'] },
    { name: 'value match is exact, not substring', filters: ['metadata.name=svc'], expect: [] },
    { name: 'metadata.name', filters: ['metadata.name=SVC-A'], expect: ['svc-a'] },
    { name: 'key-only tests existence', filters: ['metadata.tags'], expect: ['svc-a', 'svc-b', 'web-c'] },
    { name: 'existence of an annotation', filters: ['metadata.annotations.github.com/project-slug'], expect: ['svc-a'] },
    { name: 'existence ANDed with a value', filters: ['kind=component,spec.system'], expect: ['svc-a', 'web-c'] },
    { name: 'a key that nobody has', filters: ['spec.nothing'], expect: [] },
    { name: 'empty value matches only the empty string', filters: ['spec.type='], expect: [] },
    { name: 'array membership by value', filters: ['metadata.tags=java'], expect: ['svc-a', 'web-c'] },
    { name: 'array membership by key', filters: ['metadata.tags.java'], expect: ['svc-a', 'web-c'] },
    { name: 'array membership by key=true', filters: ['metadata.tags.java=true'], expect: ['svc-a', 'web-c'] },
    { name: 'array membership, AND of two tags', filters: ['metadata.tags=java,metadata.tags.web'], expect: ['svc-a'] },
    { name: 'array membership, either tag', filters: ['metadata.tags=go,metadata.tags=web'], expect: ['svc-a', 'svc-b'] },
    { name: 'array of refs in spec', filters: ['spec.dependsOn=component:svc-b'], expect: ['svc-a'] },
    { name: 'relations by full lowercase ref', filters: ['relations.ownedBy=group:default/team-a'], expect: ['api-a', 'svc-a', 'sys-x', 'web-c'] },
    { name: 'relations ref is case-insensitive', filters: ['relations.ownedby=Group:Default/Team-A'], expect: ['api-a', 'svc-a', 'sys-x', 'web-c'] },
    { name: 'relations short ref does not match', filters: ['relations.ownedBy=team-a'], expect: [] },
    { name: 'relations reverse direction', filters: ['relations.dependencyOf=component:default/svc-a'], expect: ['db-1', 'svc-b'] },
    { name: 'relations to another namespace', filters: ['relations.ownerOf=component:ops/ops-tool'], expect: ['team-b'] },
    { name: 'relations existence', filters: ['relations.memberOf'], expect: ['alice'] },
    { name: 'relations hasMember', filters: ['relations.hasMember=user:default/alice'], expect: ['team-a'] },
    { name: 'relations hasPart', filters: ['relations.hasPart=component:default/svc-a'], expect: ['sys-x'] },
    { name: 'annotation with dots and slashes', filters: ['metadata.annotations.pave.dev/tier=gold'], expect: ['svc-a'] },
    { name: 'annotation, either value', filters: ['metadata.annotations.pave.dev/tier=gold,metadata.annotations.pave.dev/tier=silver'], expect: ['svc-a', 'svc-b'] },
    { name: 'managed-by-location annotation', filters: [`metadata.annotations.backstage.io/managed-by-location=file:${path.join('/', 'nowhere')}`], expect: [] },
    { name: 'spec.type', filters: ['spec.type=database'], expect: ['db-1'] },
    { name: 'spec.owner as written', filters: ['spec.owner=team-b'], expect: ['db-1', 'svc-b'] },
    { name: 'metadata.namespace', filters: ['metadata.namespace=ops'], expect: ['ops-tool'] },
    { name: 'metadata.namespace is always indexed', filters: ['metadata.namespace=default,kind=group'], expect: ['team-a', 'team-b'] },
    { name: 'kind=location', filters: ['kind=location'], expect: () => ['fixture-root', generatedName].sort() },
    { name: 'user with memberOf', filters: ['kind=user,spec.memberOf=team-a'], expect: ['alice'] },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.filters.map((f) => `filter=${f}`).join('&') || '(none)'}`, async () => {
      const expected = typeof c.expect === 'function' ? c.expect() : c.expect;
      assert.deepEqual(await getNames(c.filters), [...expected].sort());
    });
  }

  test('managed-by-location annotation of a real file', async () => {
    assert.deepEqual(await getNames([`metadata.annotations.backstage.io/managed-by-location=file:${componentsFile}`]), ['db-1', 'svc-a', 'svc-b', 'sys-x', 'web-c']);
  });

  test('the same filter through the client encoding (percent-encoded commas, colons and slashes)', async () => {
    const res = await pave.api('GET', '/api/catalog/entities?filter=kind%3Dcomponent%2Cspec.type%3Dservice&filter=relations.ownedby%3Dgroup%3Adefault%2Fteam-a');
    assert.equal(res.status, 200);
    assert.deepEqual(names(res.body), ['api-a', 'ops-tool', 'svc-a', 'svc-b', 'sys-x', 'web-c']);
  });

  test('filters apply to facets and by-query GET alike', async () => {
    const facets = await pave.api('GET', '/api/catalog/entity-facets?facet=spec.type&filter=kind%3Dcomponent');
    assert.equal(facets.status, 200);
    // Buckets keep the original case; their order follows the database collation, so compare as a set.
    assert.deepEqual(Object.keys(facets.body.facets), ['spec.type']);
    assert.deepEqual(
      [...facets.body.facets['spec.type']].sort((a: any, b: any) => (a.value < b.value ? -1 : 1)),
      [
        { value: 'Website', count: 1 },
        { value: 'service', count: 3 },
      ],
    );
    const q = await pave.api('GET', '/api/catalog/entities/by-query?filter=metadata.tags.java&filter=kind%3Dapi');
    assert.equal(q.status, 200);
    assert.equal(q.body.totalItems, 3);
    assert.deepEqual(names(q.body.items), ['api-a', 'svc-a', 'web-c']);
  });
});

describe('predicates (POST /entities/by-query)', () => {
  const cases: { name: string; query: unknown; expect: string[] | (() => string[]) }[] = [
    { name: 'empty object matches everything', query: {}, expect: () => [...ALL, generatedName].sort() },
    { name: 'one field', query: { kind: 'API' }, expect: ['api-a'] },
    { name: 'keys in one object are ANDed', query: { kind: 'component', 'spec.type': 'service' }, expect: ['ops-tool', 'svc-a', 'svc-b'] },
    { name: 'keys and values are case-insensitive', query: { KIND: 'Component', 'SPEC.lifecycle': 'PRODUCTION' }, expect: ['ops-tool', 'svc-a', 'web-c'] },
    { name: '$all', query: { $all: [{ kind: 'component' }, { 'metadata.tags': 'java' }] }, expect: ['svc-a', 'web-c'] },
    { name: '$all of nothing is true', query: { $all: [] }, expect: () => [...ALL, generatedName].sort() },
    { name: '$any', query: { $any: [{ kind: 'api' }, { kind: 'system' }] }, expect: ['api-a', 'sys-x'] },
    { name: '$any of nothing is false', query: { $any: [] }, expect: [] },
    { name: '$not', query: { $all: [{ kind: 'component' }, { $not: { 'spec.type': 'service' } }] }, expect: ['web-c'] },
    { name: '$not of $any', query: { $not: { $any: [{ kind: 'component' }, { kind: 'location' }, { kind: 'group' }] } }, expect: ['alice', 'api-a', 'db-1', 'sys-x'] },
    { name: 'nested $any in $all', query: { $all: [{ $any: [{ kind: 'component' }, { kind: 'resource' }] }, { 'spec.owner': 'team-b' }] }, expect: ['db-1', 'svc-b'] },
    { name: '$exists true', query: { 'spec.system': { $exists: true } }, expect: ['svc-a', 'web-c'] },
    { name: '$exists false', query: { kind: 'component', 'metadata.tags': { $exists: false } }, expect: ['ops-tool'] },
    { name: '$exists on relations', query: { 'relations.dependsOn': { $exists: true } }, expect: ['svc-a'] },
    { name: '$in', query: { kind: { $in: ['API', 'group'] } }, expect: ['api-a', 'team-a', 'team-b'] },
    { name: '$in on an array field', query: { 'metadata.tags': { $in: ['go', 'web'] } }, expect: ['svc-a', 'svc-b'] },
    { name: '$in with nothing matches nothing', query: { kind: { $in: [] } }, expect: [] },
    { name: '$hasPrefix is case-insensitive', query: { 'metadata.name': { $hasPrefix: 'SVC-' } }, expect: ['svc-a', 'svc-b'] },
    { name: '$hasPrefix escapes LIKE wildcards', query: { 'metadata.name': { $hasPrefix: 'svc_' } }, expect: [] },
    { name: '$hasPrefix on an annotation', query: { 'metadata.annotations.github.com/project-slug': { $hasPrefix: 'acme/' } }, expect: ['svc-a'] },
    { name: '$contains a primitive (array membership)', query: { 'metadata.tags': { $contains: 'go' } }, expect: ['svc-b'] },
    { name: 'boolean primitive', query: { 'metadata.tags.java': true }, expect: ['svc-a', 'web-c'] },
    { name: 'relations key form', query: { 'relations.ownedBy': 'group:default/team-b' }, expect: ['db-1', 'ops-tool', 'svc-b'] },
    {
      name: 'relations $contains with targetRef',
      query: { relations: { $contains: { type: 'ownedBy', targetRef: 'group:default/team-a' } } },
      expect: ['api-a', 'svc-a', 'sys-x', 'web-c'],
    },
    {
      name: 'relations $contains, type and ref case-insensitive',
      query: { relations: { $contains: { type: 'OWNEDBY', targetRef: 'Group:default/Team-A' } } },
      expect: ['api-a', 'svc-a', 'sys-x', 'web-c'],
    },
    {
      name: 'relations $contains with targetRef $in',
      query: { relations: { $contains: { type: 'ownedBy', targetRef: { $in: ['group:default/team-b', 'group:default/nobody'] } } } },
      expect: ['db-1', 'ops-tool', 'svc-b'],
    },
    { name: 'relations $contains, any target of a type', query: { relations: { $contains: { type: 'memberOf' } } }, expect: ['alice'] },
    {
      name: 'relations $contains ANDed with a field',
      query: { kind: 'component', relations: { $contains: { type: 'partOf', targetRef: 'system:default/sys-x' } } },
      expect: ['svc-a', 'web-c'],
    },
  ];
  for (const c of cases) {
    test(`${c.name}: ${JSON.stringify(c.query)}`, async () => {
      const expected = typeof c.expect === 'function' ? c.expect() : c.expect;
      assert.deepEqual(await queryNames(c.query), [...expected].sort());
    });
  }

  test('by-refs and facets take the same predicates', async () => {
    const refs = await pave.api('POST', '/api/catalog/entities/by-refs', {
      entityRefs: ['component:default/svc-a', 'component:default/svc-b', 'api:default/api-a'],
      query: { 'metadata.tags': { $exists: true } },
      fields: ['metadata.name'],
    });
    assert.equal(refs.status, 200);
    assert.deepEqual(refs.body, { items: [{ metadata: { name: 'svc-a' } }, { metadata: { name: 'svc-b' } }, null] });
    const facets = await pave.api('POST', '/api/catalog/entity-facets', { facets: ['metadata.tags'], query: { kind: 'component' } });
    assert.equal(facets.status, 200);
    assert.deepEqual(facets.body, {
      facets: {
        'metadata.tags': [
          { value: 'go', count: 1 },
          { value: 'java', count: 2 },
          { value: 'web', count: 1 },
        ],
      },
    });
  });
});

describe('bad input → 400 with the error body', () => {
  const get = (qs: string) => pave.api('GET', `/api/catalog/${qs}`);
  const post = (p: string, body: unknown) => pave.api('POST', `/api/catalog/${p}`, body);
  const cases: { name: string; call: () => ReturnType<typeof get>; message?: RegExp }[] = [
    { name: 'filter with an empty key', call: () => get('entities?filter=%3Dcomponent'), message: /Invalid filter, '=component' is not a valid statement/ },
    { name: 'filter with an empty key after a good one', call: () => get('entities?filter=kind%3Dcomponent%2C%3Dx'), message: /not a valid statement/ },
    { name: 'filter with an empty key on facets', call: () => get('entity-facets?facet=kind&filter=%3Dx') },
    { name: 'filter with an empty key on by-query', call: () => get('entities/by-query?filter=%3Dx') },
    { name: 'facets without facet', call: () => get('entity-facets') },
    { name: 'order in the wrong form', call: () => get('entities?order=up%3Ametadata.name'), message: /Invalid order parameter/ },
    { name: 'orderField with a bad direction', call: () => get('entities/by-query?orderField=metadata.name%2Csideways') },
    { name: 'totalItems not include/exclude', call: () => get('entities/by-query?totalItems=foo') },
    { name: 'negative offset', call: () => get('entities?offset=-1') },
    { name: 'limit 0 on GET /entities', call: () => get('entities?limit=0') },
    { name: 'empty after', call: () => get('entities?after=') },
    { name: 'array fields', call: () => get('entities?fields=metadata.tags%5B0%5D'), message: /array type fields are not supported/ },
    { name: 'malformed cursor (GET)', call: () => get('entities/by-query?cursor=not-a-cursor'), message: /Malformed cursor/ },
    { name: 'cursor that is JSON but not a cursor (GET)', call: () => get(`entities/by-query?cursor=${encodeURIComponent(Buffer.from('{"a":1}').toString('base64'))}`), message: /Malformed cursor/ },
    { name: 'malformed cursor (POST)', call: () => post('entities/by-query', { cursor: 'bm90IGpzb24=' }), message: /Malformed cursor/ },
    { name: 'empty cursor (POST)', call: () => post('entities/by-query', { cursor: '' }), message: /Cursor cannot be empty/ },
    { name: 'malformed locations cursor', call: () => post('locations/by-query', { cursor: 'zzz' }), message: /Malformed cursor/ },
    { name: 'query that is a string', call: () => post('entities/by-query', { query: 'kind=component' }), message: /Query must be an object/ },
    { name: 'query that is an array', call: () => post('entities/by-query', { query: [{ kind: 'component' }] }), message: /Query must be an object/ },
    { name: '$all that is not a list', call: () => post('entities/by-query', { query: { $all: { kind: 'component' } } }), message: /Invalid query/ },
    { name: '$any with a primitive inside', call: () => post('entities/by-query', { query: { $any: ['component'] } }) },
    { name: '$not next to another key', call: () => post('entities/by-query', { query: { $not: { kind: 'api' }, kind: 'component' } }), message: /Invalid query/ },
    { name: 'unknown top-level operator', call: () => post('entities/by-query', { query: { $or: [{ kind: 'api' }] } }) },
    { name: 'unknown value operator', call: () => post('entities/by-query', { query: { kind: { $regex: 'comp.*' } } }), message: /Invalid filter predicate value for field "kind"/ },
    { name: 'null value', call: () => post('entities/by-query', { query: { kind: null } }) },
    { name: '$in that is not a list', call: () => post('entities/by-query', { query: { kind: { $in: 'api' } } }) },
    { name: '$hasPrefix that is not a string', call: () => post('entities/by-query', { query: { kind: { $hasPrefix: ['a'] } } }) },
    { name: 'object $contains off relations', call: () => post('entities/by-query', { query: { 'spec.type': { $contains: { type: 'x' } } } }) },
    { name: 'relations $contains with an unknown key', call: () => post('entities/by-query', { query: { relations: { $contains: { type: 'ownedBy', target: 'x' } } } }) },
    { name: 'relations $contains without type', call: () => post('entities/by-query', { query: { relations: { $contains: { targetRef: 'group:default/team-a' } } } }) },
    { name: 'relations $contains with an empty $in', call: () => post('entities/by-query', { query: { relations: { $contains: { type: 'ownedBy', targetRef: { $in: [] } } } } }) },
    { name: 'invalid predicate on facets', call: () => post('entity-facets', { facets: ['kind'], query: { $all: 3 } }) },
    { name: 'invalid predicate on by-refs', call: () => post('entities/by-refs', { entityRefs: ['component:default/svc-a'], query: { kind: { $nope: 1 } } }) },
    { name: 'location predicate on an unknown key', call: () => post('locations/by-query', { query: { kind: 'component' } }) },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      assertError(await c.call(), 400, c.message);
    });
  }
});

describe('fields and order (GET /entities)', () => {
  test('fields keeps only the named paths, annotations with dots and slashes included', async () => {
    const res = await pave.api(
      'GET',
      '/api/catalog/entities?filter=kind%3Dcomponent%2Cmetadata.namespace%3Ddefault&fields=kind,metadata.name,metadata.annotations.backstage.io/managed-by-location&order=asc%3Ametadata.name',
    );
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const loc = `file:${componentsFile}`;
    assert.deepEqual(res.body, [
      { kind: 'Component', metadata: { name: 'svc-a', annotations: { 'backstage.io/managed-by-location': loc } } },
      { kind: 'Component', metadata: { name: 'svc-b', annotations: { 'backstage.io/managed-by-location': loc } } },
      { kind: 'Component', metadata: { name: 'web-c', annotations: { 'backstage.io/managed-by-location': loc } } },
    ]);
  });

  test('fields as repeated params and with spaces; missing paths are absent', async () => {
    const res = await pave.api('GET', '/api/catalog/entities?filter=metadata.name%3Ddb-1&fields=metadata.name%2C%20spec.type&fields=spec.nothing,metadata.title');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, [{ metadata: { name: 'db-1' }, spec: { type: 'database' } }]);
  });

  test('fields of whole subtrees and of relations', async () => {
    const res = await pave.api('GET', '/api/catalog/entities?filter=metadata.name%3Dsvc-b&fields=metadata.tags,relations');
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 1);
    assert.deepEqual(Object.keys(res.body[0]).sort(), ['metadata', 'relations']);
    assert.deepEqual(res.body[0].metadata, { tags: ['go'] });
    assert.deepEqual(res.body[0].relations, [
      { type: 'dependencyOf', targetRef: 'component:default/svc-a' },
      { type: 'ownedBy', targetRef: 'group:default/team-b' },
    ]);
  });

  const order = async (qs: string) => {
    const res = await pave.api('GET', `/api/catalog/entities?fields=metadata.name&${qs}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.map((e: any) => e.metadata.name);
  };

  test('order asc and desc by name', async () => {
    assert.deepEqual(await order('filter=kind%3Dcomponent&order=asc%3Ametadata.name'), ['ops-tool', 'svc-a', 'svc-b', 'web-c']);
    assert.deepEqual(await order('filter=kind%3Dcomponent&order=desc%3Ametadata.name'), ['web-c', 'svc-b', 'svc-a', 'ops-tool']);
  });

  test('order compares lowercased values', async () => {
    // "Website" sorts after "service" because values are compared lowercased.
    assert.deepEqual(await order('filter=kind%3Dcomponent&order=desc%3Aspec.type&order=asc%3Ametadata.name'), ['web-c', 'ops-tool', 'svc-a', 'svc-b']);
  });

  test('several order params', async () => {
    assert.deepEqual(await order('filter=kind%3Dcomponent&order=asc%3Aspec.type&order=desc%3Ametadata.name'), ['svc-b', 'svc-a', 'ops-tool', 'web-c']);
    assert.deepEqual(await order('filter=kind%3Dcomponent&order=asc%3Aspec.lifecycle&order=asc%3Ametadata.namespace&order=desc%3Ametadata.name'), [
      'svc-b',
      'web-c',
      'svc-a',
      'ops-tool',
    ]);
  });

  test('order by a field some entities lack, paged: those come last', async () => {
    const got = await order('filter=kind%3Dcomponent&order=asc%3Aspec.system&limit=10');
    assert.deepEqual(got.slice(0, 2).sort(), ['svc-a', 'web-c']);
    assert.deepEqual(got.slice(2).sort(), ['ops-tool', 'svc-b']);
  });

  test('paging without order is by entity ref, with a Link header to the next page', async () => {
    const first = await pave.api('GET', '/api/catalog/entities?filter=kind%3Dcomponent&fields=metadata.name&limit=3');
    assert.equal(first.status, 200);
    // component:default/svc-a < component:default/svc-b < component:default/web-c < component:ops/ops-tool
    assert.deepEqual(first.body.map((e: any) => e.metadata.name), ['svc-a', 'svc-b', 'web-c']);
    const link = first.headers.get('link');
    assert.ok(link, 'a Link header when there are more rows');
    const m = /^<([^>]+)>; rel="next"$/.exec(link);
    assert.ok(m, link);
    const next = new URL(m[1], pave.url);
    assert.equal(next.searchParams.has('offset'), false);
    assert.deepEqual(JSON.parse(Buffer.from(next.searchParams.get('after')!, 'base64').toString()), { limit: 3, offset: 3 });
    const second = await pave.api('GET', `${next.pathname}${next.search}`);
    assert.equal(second.status, 200);
    assert.deepEqual(second.body.map((e: any) => e.metadata.name), ['ops-tool']);
    assert.equal(second.headers.get('link'), null);
    const offset = await order('filter=kind%3Dcomponent&order=desc%3Ametadata.name&offset=1&limit=2');
    assert.deepEqual(offset, ['svc-b', 'svc-a']);
  });
});
