// Differential test of the entity validator: Pave must accept exactly the entities Backstage's own
// catalog-model accepts. Thousands of entities of every built-in kind are made by mutating good
// ones with a seeded PRNG (so a failure replays), and each verdict is compared with the one
// computed here straight from @backstage/catalog-model and @backstage/plugin-scaffolder-common.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
  type Entity,
} from '@backstage/catalog-model';
import { templateEntityV1beta3Validator } from '@backstage/plugin-scaffolder-common';
import { EntityValidator, type EntityProblem } from './validation.ts';

// ---------------------------------------------------------------- the reference: Backstage itself

const referencePolicies = EntityPolicies.allOf([
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);
const referenceValidators = [
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
  templateEntityV1beta3Validator,
];

/** Backstage's verdict: the policies, then every kind validator; a throw or no taker refuses. */
async function backstageVerdict(input: unknown): Promise<{ ok: true; entity: Entity } | { ok: false; reason: string }> {
  let entity: Entity;
  try {
    const enforced = await referencePolicies.enforce(structuredClone(input) as Entity);
    if (!enforced) return { ok: false, reason: 'policy: no result' };
    entity = enforced;
  } catch (e) {
    return { ok: false, reason: `policy: ${(e as Error).message}` };
  }
  let accepted = false;
  for (const v of referenceValidators) {
    try {
      if (await v.check(entity)) accepted = true;
    } catch (e) {
      return { ok: false, reason: `kind validator: ${(e as Error).message}` };
    }
  }
  return accepted ? { ok: true, entity } : { ok: false, reason: 'no kind validator accepted it' };
}

// ---------------------------------------------------------------- generating entities

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
    chance: (p: number) => next() < p,
  };
}
type Rng = ReturnType<typeof prng>;

/** One good entity of every built-in kind, as a team would write it. */
const GOOD: Record<string, () => any> = {
  Component: () => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'checkout-service', description: 'Takes the money', tags: ['java'] },
    spec: { type: 'service', lifecycle: 'production', owner: 'team-payments', system: 'shop', providesApis: ['checkout-api'], dependsOn: ['resource:orders-db'] },
  }),
  API: () => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'API',
    metadata: { name: 'checkout-api' },
    spec: { type: 'openapi', lifecycle: 'production', owner: 'team-payments', system: 'shop', definition: 'openapi: 3.0.0\ninfo: {title: Checkout}\n' },
  }),
  Resource: () => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: { name: 'orders-db' },
    spec: { type: 'database', owner: 'team-payments', system: 'shop', dependencyOf: ['component:checkout-service'] },
  }),
  System: () => ({ apiVersion: 'backstage.io/v1alpha1', kind: 'System', metadata: { name: 'shop' }, spec: { owner: 'team-payments', domain: 'commerce' } }),
  Domain: () => ({ apiVersion: 'backstage.io/v1alpha1', kind: 'Domain', metadata: { name: 'commerce' }, spec: { owner: 'team-payments' } }),
  Group: () => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name: 'team-payments' },
    spec: { type: 'team', profile: { displayName: 'Payments', email: 'payments@example.com' }, parent: 'engineering', children: [], members: ['jane'] },
  }),
  User: () => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: 'jane' },
    spec: { profile: { displayName: 'Jane Doe', email: 'jane@example.com' }, memberOf: ['team-payments'] },
  }),
  Location: () => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Location',
    metadata: { name: 'shop-catalog' },
    spec: { type: 'url', targets: ['./services/catalog-info.yaml', './apis/catalog-info.yaml'] },
  }),
  Template: () => ({
    apiVersion: 'scaffolder.backstage.io/v1beta3',
    kind: 'Template',
    metadata: { name: 'node-service', title: 'Node.js service' },
    spec: {
      type: 'service',
      owner: 'team-platform',
      parameters: [{ title: 'Name', required: ['name'], properties: { name: { type: 'string' } } }],
      steps: [{ id: 'fetch', name: 'Fetch', action: 'fetch:template', input: { url: './skeleton' } }],
      output: { links: [{ title: 'Repository', url: '${{ steps.publish.output.remoteUrl }}' }] },
    },
  }),
};
const KINDS = Object.keys(GOOD);

// Values that Backstage accepts and values it refuses, per field. Mutations pick from both, so a
// mutated entity is sometimes still valid: the two verdicts must agree either way.
const NAMES = { good: ['a', 'A1', 'my_service.v2', 'x'.repeat(63), 'Service-1', '9lives'], bad: ['a b', '-lead', 'trail-', 'x'.repeat(64), '', 'a..b', 'ünï', 'a/b', 5, null, ['a']] };
const NAMESPACES = { good: ['default', 'team-a', 'x'.repeat(63), 'n1'], bad: ['Team', 'a_b', 'a.b', '-a', 'x'.repeat(64), '', 7, 'a b'] };
const LABEL_KEYS = { good: ['app', 'example.com/tier', 'a.b-c_d', 'x'.repeat(63)], bad: ['a b', '/x', 'example.com/', 'x'.repeat(64), 'a/b/c', '-a', ''] };
const LABEL_VALUES = { good: ['prod', 'v1.2', 'a_b'], bad: ['a b', 'x'.repeat(64), '-x', 3, true, null, 'ünï'] };
const ANNOTATION_KEYS = { good: ['backstage.io/techdocs-ref', 'github.com/project-slug', 'simple', 'a.b/c-d'], bad: ['has space/x', 'a/b/c', '.x', `example.com/${'x'.repeat(64)}`, ''] };
const ANNOTATION_VALUES = { good: ['dir:.', '', 'any text at all: ok', 'x'.repeat(500)], bad: [1, null, ['x'], { a: 1 }, false] };
const TAGS = { good: ['java', 'c++', 'c#', 'node-js', 'x'.repeat(63)], bad: ['Java', 'two words', 'x'.repeat(64), '', 'a_b', 5, '-x', 'a--b', null] };
const LINKS = {
  good: [{ url: 'https://example.com' }, { url: 'https://example.com/docs', title: 'Docs', icon: 'docs' }, { url: 'mailto:team@example.com', type: 'email' }],
  bad: [{ title: 'no url' }, { url: 'not a url' }, { url: 'https://example.com', title: '' }, { url: 5 }, 'https://example.com', null, { url: 'https://example.com', icon: '' }],
};
const WRONG_TYPES = [42, true, {}, [], null, '', 'text', [1, 2], { nested: true }];
const UNKNOWN_KINDS = ['Widget', 'component', 'COMPONENT', 'Componen t', 'Service', '', 5];
const API_VERSIONS = { good: ['backstage.io/v1alpha1', 'backstage.io/v1beta1'], bad: ['backstage.io/v2', 'v1', 'not valid!', 42, '', 'scaffolder.backstage.io/v1beta3'] };
const ROOT_FIELDS = ['foo', 'relations', 'status', 'owner', 'Spec', 'metaData'];

function choose(rng: Rng, pool: { good: readonly unknown[]; bad: readonly unknown[] }): unknown {
  return rng.chance(0.5) ? rng.pick(pool.good) : rng.pick(pool.bad);
}

interface Mutation {
  name: string;
  apply(e: any, rng: Rng): void;
}

const meta = (e: any) => (e.metadata && typeof e.metadata === 'object' && !Array.isArray(e.metadata) ? e.metadata : (e.metadata = {}));
const specOf = (e: any) => (e.spec && typeof e.spec === 'object' && !Array.isArray(e.spec) ? e.spec : undefined);

const MUTATIONS: Mutation[] = [
  { name: 'metadata.name', apply: (e, r) => void (meta(e).name = choose(r, NAMES)) },
  { name: 'metadata.name removed', apply: (e) => void delete meta(e).name },
  { name: 'metadata.namespace', apply: (e, r) => void (meta(e).namespace = choose(r, NAMESPACES)) },
  { name: 'metadata.labels', apply: (e, r) => void (meta(e).labels = { ...meta(e).labels, [String(choose(r, LABEL_KEYS))]: r.chance(0.5) ? 'ok' : choose(r, LABEL_VALUES) }) },
  { name: 'metadata.labels wrong type', apply: (e, r) => void (meta(e).labels = r.pick(['app=x', ['a'], 5])) },
  {
    name: 'metadata.annotations',
    apply: (e, r) => void (meta(e).annotations = { ...meta(e).annotations, [String(choose(r, ANNOTATION_KEYS))]: r.chance(0.5) ? 'ok' : choose(r, ANNOTATION_VALUES) }),
  },
  { name: 'metadata.tags', apply: (e, r) => void (meta(e).tags = [...(Array.isArray(meta(e).tags) ? meta(e).tags : []), choose(r, TAGS)]) },
  { name: 'metadata.tags wrong type', apply: (e, r) => void (meta(e).tags = r.pick(['java', { a: 'b' }, 5])) },
  { name: 'metadata.links', apply: (e, r) => void (meta(e).links = [...(Array.isArray(meta(e).links) ? meta(e).links : []), choose(r, LINKS)]) },
  { name: 'metadata.title/description', apply: (e, r) => void (meta(e)[r.pick(['title', 'description'])] = r.pick(['A fine title', 5, ['x'], '', null])) },
  { name: 'metadata wrong type', apply: (e, r) => void (e.metadata = r.pick(['checkout', [], 5, null])) },
  {
    name: 'spec field removed',
    apply: (e, r) => {
      const s = specOf(e);
      const keys = s ? Object.keys(s) : [];
      if (keys.length) delete s[r.pick(keys)];
    },
  },
  {
    name: 'spec field wrong type',
    apply: (e, r) => {
      const s = specOf(e);
      const keys = s ? Object.keys(s) : [];
      if (keys.length) s[r.pick(keys)] = r.pick(WRONG_TYPES);
    },
  },
  {
    name: 'spec unknown field',
    apply: (e, r) => {
      const s = specOf(e);
      if (s) s[r.pick(['extra', 'lifecycle', 'owner', 'presence', 'targets'])] = r.pick(['value', 'optional', ['a'], 3]);
    },
  },
  { name: 'spec wrong type or missing', apply: (e, r) => (r.chance(0.3) ? void delete e.spec : void (e.spec = r.pick(['service', [], 7, null]))) },
  { name: 'unknown root field', apply: (e, r) => void (e[r.pick(ROOT_FIELDS)] = r.pick(['x', { a: 1 }, [], 1])) },
  { name: 'root field removed', apply: (e, r) => void delete e[r.pick(['apiVersion', 'kind'])] },
  { name: 'unknown kind', apply: (e, r) => void (e.kind = r.pick(UNKNOWN_KINDS)) },
  { name: 'other built-in kind', apply: (e, r) => void (e.kind = r.pick(KINDS)) },
  { name: 'apiVersion', apply: (e, r) => void (e.apiVersion = choose(r, API_VERSIONS)) },
];

interface Case {
  id: number;
  kind: string;
  mutations: string[];
  entity: unknown;
}

function generate(seed: number, count: number): Case[] {
  const rng = prng(seed);
  const cases: Case[] = [];
  for (let id = 0; id < count; id++) {
    const kind = KINDS[id % KINDS.length];
    const entity = GOOD[kind]();
    const mutations: string[] = [];
    const n = rng.int(4); // 0 to 3 mutations
    for (let i = 0; i < n; i++) {
      const m = rng.pick(MUTATIONS);
      m.apply(entity, rng);
      mutations.push(m.name);
    }
    cases.push({ id, kind, mutations, entity });
  }
  return cases;
}

// ---------------------------------------------------------------- the differential test

const SEED = Number(process.env.PAVE_VALIDATION_SEED ?? 20240611);
const COUNT = 3_000;

describe('EntityValidator against Backstage catalog-model (differential)', () => {
  test(`${COUNT} generated entities, seed ${SEED}: every verdict agrees with Backstage`, async () => {
    const pave = new EntityValidator();
    const cases = generate(SEED, COUNT);
    const disagreements: string[] = [];
    let valid = 0;
    let invalid = 0;
    const perKind = new Map<string, { valid: number; invalid: number }>(KINDS.map((k) => [k, { valid: 0, invalid: 0 }]));
    const refusedBy = new Map<string, number>();
    const problems: EntityProblem[] = [];

    for (const c of cases) {
      const before = JSON.stringify(c.entity);
      const expected = await backstageVerdict(c.entity);
      const actual = await pave.validate(c.entity);
      assert.equal(JSON.stringify(c.entity), before, `case ${c.id}: validate() must not change its input`);
      const paveOk = 'entity' in actual;
      const label = `case ${c.id} (${c.kind}; ${c.mutations.join(', ') || 'unchanged'}): ${JSON.stringify(c.entity).slice(0, 300)}`;
      if (paveOk !== expected.ok) {
        disagreements.push(`${label}\n    Backstage: ${expected.ok ? 'accepts' : `refuses (${expected.reason})`}\n    Pave: ${paveOk ? 'accepts' : `refuses (${JSON.stringify(actual)})`}`);
        continue;
      }
      if (expected.ok && paveOk) {
        // Accepted entities come out exactly as Backstage makes them (default namespace applied).
        try {
          assert.deepEqual(actual.entity, expected.entity);
        } catch {
          disagreements.push(`${label}\n    accepted by both but normalised differently: ${JSON.stringify(actual.entity)} vs ${JSON.stringify(expected.entity)}`);
        }
      }
      const k = perKind.get(c.kind)!;
      if (expected.ok) {
        valid++;
        k.valid++;
      } else {
        invalid++;
        k.invalid++;
        for (const m of new Set(c.mutations)) refusedBy.set(m, (refusedBy.get(m) ?? 0) + 1);
        problems.push((actual as { problem: EntityProblem }).problem);
      }
    }

    assert.deepEqual(disagreements.slice(0, 10), [], `${disagreements.length} of ${COUNT} verdicts differ from Backstage's`);
    // Both sets must be large, for every kind, or the comparison proves little.
    assert.ok(valid >= 800, `only ${valid} valid entities generated`);
    assert.ok(invalid >= 800, `only ${invalid} invalid entities generated`);
    for (const [kind, n] of perKind) {
      assert.ok(n.valid >= 50 && n.invalid >= 50, `${kind}: ${n.valid} valid, ${n.invalid} invalid`);
    }
    // Every kind of mutation took part in refusals.
    for (const m of MUTATIONS) assert.ok((refusedBy.get(m.name) ?? 0) > 0, `mutation "${m.name}" never produced a refused entity`);
    // Every refusal explains itself: a code, a message, and nearly always the field at fault.
    for (const p of problems) {
      assert.ok(p.code === 'ENTITY_INVALID' || p.code === 'ENTITY_KIND_UNKNOWN', `code ${p.code}`);
      assert.ok(typeof p.message === 'string' && p.message.length > 10, `message ${JSON.stringify(p.message)}`);
      assert.doesNotMatch(p.message, /To learn more about catalog file format/, 'the long Backstage link is trimmed');
    }
    const withoutField = problems.filter((p) => !p.field);
    assert.deepEqual(
      withoutField.slice(0, 5).map((p) => p.message),
      [],
      `${withoutField.length} of ${problems.length} problems do not name the field at fault`,
    );
  });

  test('the generator is reproducible: the same seed makes the same entities', () => {
    assert.deepEqual(generate(7, 200), generate(7, 200));
    assert.notDeepEqual(generate(7, 200), generate(8, 200));
  });
});

// ---------------------------------------------------------------- unit cases: what a problem says

async function problemOf(validator: EntityValidator, entity: unknown): Promise<EntityProblem> {
  const verdict = await validator.validate(entity);
  assert.ok('problem' in verdict, `expected a refusal, got ${JSON.stringify(verdict)}`);
  return verdict.problem;
}

function component(patch: (e: any) => void = () => undefined): any {
  const e = GOOD.Component();
  patch(e);
  return e;
}

describe('EntityValidator problems name the field, the value and the rule', () => {
  const v = new EntityValidator();

  test('a good entity of every built-in kind is accepted, with the default namespace filled in', async () => {
    for (const kind of KINDS) {
      const verdict = await v.validate(GOOD[kind]());
      assert.ok('entity' in verdict, `${kind}: ${JSON.stringify(verdict)}`);
      assert.equal(verdict.entity.metadata.namespace, 'default');
    }
  });

  test('metadata.name with a space', async () => {
    const p = await problemOf(v, component((e) => (e.metadata.name = 'a b')));
    assert.equal(p.code, 'ENTITY_INVALID');
    assert.equal(p.field, 'metadata.name');
    assert.equal(p.value, 'a b');
    assert.match(p.rule!, /sequences of \[a-zA-Z0-9\] separated by any of \[-_.\], at most 63 characters/);
    assert.match(p.message, /metadata\.name/);
    assert.match(p.message, /"a b"/);
  });

  test('metadata.name too long and with a leading dash', async () => {
    for (const name of ['x'.repeat(64), '-checkout']) {
      const p = await problemOf(v, component((e) => (e.metadata.name = name)));
      assert.equal(p.field, 'metadata.name');
      assert.equal(p.value, name);
      assert.match(p.rule!, /at most 63 characters/);
    }
  });

  test('spec.owner missing on a Component', async () => {
    const p = await problemOf(v, component((e) => delete e.spec.owner));
    assert.equal(p.code, 'ENTITY_INVALID');
    assert.equal(p.field, 'spec.owner');
    assert.equal(p.value, undefined);
    assert.match(p.rule!, /required/);
    assert.match(p.message, /spec\.owner/);
  });

  test('a spec field of the wrong type', async () => {
    const p = await problemOf(v, component((e) => (e.spec.lifecycle = 5)));
    assert.equal(p.field, 'spec.lifecycle');
    assert.equal(p.value, 5);
    assert.match(p.rule!, /string/);
  });

  test('a bad namespace', async () => {
    const p = await problemOf(v, component((e) => (e.metadata.namespace = 'Team_A')));
    assert.equal(p.field, 'metadata.namespace');
    assert.equal(p.value, 'Team_A');
    assert.match(p.rule!, /\[a-z0-9\] separated by \[-\]/);
  });

  test('a bad tag names its index under metadata.tags', async () => {
    const p = await problemOf(v, component((e) => (e.metadata.tags = ['java', 'Two Words'])));
    assert.equal(p.field, 'metadata.tags.1');
    assert.equal(p.value, 'Two Words');
    assert.match(p.rule!, /\[a-z0-9\+#\]/);
  });

  test('a bad label key and a bad label value are under metadata.labels', async () => {
    const key = await problemOf(v, component((e) => (e.metadata.labels = { 'bad key': 'x' })));
    assert.equal(key.field, 'metadata.labels.bad key');
    assert.equal(key.value, 'bad key');
    assert.match(key.rule!, /valid prefix and\/or suffix/);
    const value = await problemOf(v, component((e) => (e.metadata.labels = { tier: 'not ok' })));
    assert.equal(value.field, 'metadata.labels.tier');
    assert.equal(value.value, 'not ok');
    assert.match(value.rule!, /at most 63 characters/);
  });

  test('a bad annotation key and a non-string annotation value are under metadata.annotations', async () => {
    const key = await problemOf(v, component((e) => (e.metadata.annotations = { 'a/b/c': 'x' })));
    assert.equal(key.field, 'metadata.annotations.a/b/c');
    assert.equal(key.value, 'a/b/c');
    const value = await problemOf(v, component((e) => (e.metadata.annotations = { 'example.com/count': 3 })));
    assert.equal(value.field, 'metadata.annotations.example.com/count');
    assert.equal(value.value, '3');
    assert.match(value.rule!, /a string/);
  });

  test('a link without url', async () => {
    const p = await problemOf(v, component((e) => (e.metadata.links = [{ title: 'Runbook' }])));
    assert.equal(p.code, 'ENTITY_INVALID');
    assert.equal(p.field, 'metadata.links.0.url');
    assert.equal(p.value, undefined);
    assert.match(p.rule!, /must have a value/);
    assert.match(p.message, /links\.0\.url/);
  });

  test('a metadata field of the wrong type (envelope schema)', async () => {
    const p = await problemOf(v, component((e) => (e.metadata.title = 5)));
    assert.equal(p.field, 'metadata.title');
    assert.equal(p.value, 5);
    assert.match(p.rule!, /must be string/);
    assert.doesNotMatch(p.message, /Malformed envelope/);
  });

  test('an unknown root field, with a message that lists the allowed ones truthfully', async () => {
    const p = await problemOf(v, component((e) => (e.owner = 'team-a')));
    assert.equal(p.field, 'owner');
    assert.equal(p.value, 'team-a');
    assert.equal(p.rule, 'no unknown root fields');
    // relations and status are refused too (Backstage's NoForeignRootFieldsEntityPolicy), so the message must not offer them.
    for (const field of ['relations', 'status']) {
      const q = await problemOf(v, component((e) => (e[field] = [])));
      assert.equal(q.field, field);
    }
    assert.doesNotMatch(p.message, /relations|status/);
    assert.match(p.message, /apiVersion, kind, metadata and spec/);
  });

  test('an unknown kind says how to register it in pave.yaml', async () => {
    const p = await problemOf(v, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: {} });
    assert.equal(p.code, 'ENTITY_KIND_UNKNOWN');
    assert.equal(p.field, 'kind');
    assert.equal(p.value, 'Widget');
    assert.match(p.message, /pave\.yaml/);
    assert.match(p.message, /catalog\.kinds/);
    assert.match(p.rule!, /Component/);
  });

  test('a built-in kind with a wrong apiVersion is refused, naming apiVersion', async () => {
    const p = await problemOf(v, component((e) => (e.apiVersion = 'backstage.io/v2')));
    assert.equal(p.field, 'apiVersion');
    assert.equal(p.value, 'backstage.io/v2');
    assert.match(p.rule!, /backstage\.io\/v1alpha1/);
    assert.match(p.message, /apiVersion/);
    assert.match(p.message, /backstage\.io\/v2/);
    const t = GOOD.Template();
    t.apiVersion = 'backstage.io/v1alpha1'; // Templates are scaffolder.backstage.io/v1beta3 only
    const q = await problemOf(v, t);
    assert.equal(q.field, 'apiVersion');
    assert.match(q.rule!, /scaffolder\.backstage\.io\/v1beta3/);
  });

  test('a Template is checked against the scaffolder schema', async () => {
    const t = GOOD.Template();
    t.spec.steps = 'fetch';
    const p = await problemOf(v, t);
    assert.equal(p.field, 'spec.steps');
    assert.equal(p.value, 'fetch');
  });

  test('validate() never throws, whatever it is given', async () => {
    for (const junk of [null, undefined, 5, 'text', [], {}, { metadata: null }, { kind: 'Component' }, { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: [] }]) {
      const verdict = await v.validate(junk);
      assert.ok('problem' in verdict, `${JSON.stringify(junk)} was accepted`);
      assert.equal(verdict.problem.code, 'ENTITY_INVALID');
    }
  });
});

describe('custom kinds registered in pave.yaml catalog.kinds', () => {
  const v = new EntityValidator([
    {
      kind: 'Pipeline',
      apiVersions: ['pave.dev/v1'],
      schema: {
        type: 'object',
        required: ['spec'],
        properties: {
          spec: {
            type: 'object',
            required: ['owner', 'stages'],
            properties: { owner: { type: 'string', minLength: 1 }, stages: { type: 'array', items: { type: 'string' }, minItems: 1 } },
          },
        },
      },
    },
  ]);
  const pipeline = (spec: unknown, apiVersion = 'pave.dev/v1') => ({ apiVersion, kind: 'Pipeline', metadata: { name: 'release' }, spec });

  test('an entity that fits the schema is accepted', async () => {
    const verdict = await v.validate(pipeline({ owner: 'team-platform', stages: ['build', 'deploy'] }));
    assert.ok('entity' in verdict, JSON.stringify(verdict));
    assert.equal(verdict.entity.metadata.namespace, 'default');
  });

  test('an entity that breaks the schema is refused with the field', async () => {
    const p = await problemOf(v, pipeline({ owner: 'team-platform', stages: 'build' }));
    assert.equal(p.code, 'ENTITY_INVALID');
    assert.equal(p.field, 'spec.stages');
    assert.equal(p.value, 'build');
    assert.match(p.rule!, /type/);
    assert.match(p.message, /Pipeline/);
    const missing = await problemOf(v, pipeline({ stages: ['build'] }));
    assert.equal(missing.field, 'spec.owner');
    assert.equal(missing.value, undefined);
    assert.match(missing.rule!, /required/);
    assert.match(missing.message, /owner/);
  });

  test('an apiVersion not registered for the kind is refused', async () => {
    const p = await problemOf(v, pipeline({ owner: 'team-platform', stages: ['build'] }, 'pave.dev/v2'));
    assert.equal(p.field, 'apiVersion');
    assert.equal(p.value, 'pave.dev/v2');
    assert.match(p.rule!, /pave\.dev\/v1/);
  });

  test('custom kinds still go through the envelope policies', async () => {
    const e = pipeline({ owner: 'team-platform', stages: ['build'] }) as any;
    e.metadata.name = 'a b';
    const p = await problemOf(v, e);
    assert.equal(p.field, 'metadata.name');
  });

  test('without the registration the same kind is unknown', async () => {
    const p = await problemOf(new EntityValidator(), pipeline({ owner: 'team-platform', stages: ['build'] }));
    assert.equal(p.code, 'ENTITY_KIND_UNKNOWN');
  });
});
