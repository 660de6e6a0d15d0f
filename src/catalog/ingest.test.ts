// Integration test of catalog ingestion: a real Pave (startTestPave) on the backend under test,
// real files in a temp folder, and a real HTTP server on 127.0.0.1 for url locations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eventually, startTestPave, type TestPave } from '../testing/pave.ts';

// ---------------------------------------------------------------- helpers

interface Problem {
  code: string;
  message: string;
  location: string;
  line?: number;
  column?: number;
  entityRef?: string;
  details?: Record<string, any>;
}
interface LocationData {
  id: string;
  type: string;
  target: string;
  entityRef: string;
  status: { state: string; lastReadAt: string | null; errors: Problem[] };
}

/** A temp folder of real files; `write` makes the folders it needs. */
function tempTree(prefix: string) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    root,
    path: (rel: string) => path.join(root, rel),
    write(rel: string, text: string) {
      const file = path.join(root, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      return file;
    },
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** A catalog-info document, small enough to read at a glance. */
function component(name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): string {
  const all = { type: 'service', lifecycle: 'production', owner: 'team-a', ...spec };
  const meta = Object.entries(metadata).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`).join('');
  const body = Object.entries(all).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`).join('');
  return `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\n${meta}spec:\n${body}`;
}

function group(name: string): string {
  return `apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: ${name}\nspec:\n  type: team\n  children: []\n`;
}

function locationDoc(name: string, targets: string[]): string {
  return `apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: ${name}\nspec:\n  targets:\n${targets.map((t) => `    - ${t}\n`).join('')}`;
}

/** A real HTTP server on 127.0.0.1 serving the given paths; others answer 404. */
async function startFileServer(files: Map<string, string>) {
  const server = http.createServer((req, res) => {
    const body = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/yaml' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  return {
    base: `http://127.0.0.1:${port}`,
    files,
    async close() {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function client(pave: TestPave) {
  const c = {
    async addLocation(type: 'file' | 'url', target: string): Promise<LocationData> {
      const res = await pave.api('POST', '/api/catalog/locations', { type, target });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.location;
    },
    async location(id: string): Promise<LocationData> {
      const res = await pave.api('GET', '/api/catalog/locations');
      assert.equal(res.status, 200);
      const found = (res.body as { data: LocationData }[]).find((l) => l.data.id === id);
      assert.ok(found, `location ${id} is listed`);
      return found.data;
    },
    /** The entity, or undefined when the catalog has none by that name. */
    async entity(kind: string, name: string, namespace = 'default'): Promise<any | undefined> {
      const res = await pave.api('GET', `/api/catalog/entities/by-name/${kind}/${namespace}/${name}`);
      if (res.status === 404) return undefined;
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    },
    async waitForEntity(kind: string, name: string, check: (e: any) => boolean = () => true, what = `${kind} ${name}`): Promise<any> {
      return eventually(async () => {
        const e = await c.entity(kind, name);
        return e && check(e) ? e : undefined;
      }, 10_000, what);
    },
    async waitForGone(kind: string, name: string): Promise<void> {
      await eventually(async () => ((await c.entity(kind, name)) === undefined ? true : undefined), 10_000, `${kind} ${name} to be removed`);
    },
    /** Waits until the location's errors satisfy `check`. */
    async waitForErrors(id: string, check: (errors: Problem[]) => boolean, what: string): Promise<LocationData> {
      return eventually(async () => {
        const l = await c.location(id);
        return l.status.lastReadAt && check(l.status.errors) ? l : undefined;
      }, 10_000, what);
    },
    async refreshLocation(id: string): Promise<void> {
      const res = await pave.api('POST', `/api/catalog/locations/${id}/refresh`);
      assert.equal(res.status, 202, JSON.stringify(res.body));
    },
    async events(type: string, subject: string): Promise<any[]> {
      const res = await pave.api('GET', `/api/events?type=${encodeURIComponent(type)}&subject=${encodeURIComponent(subject)}&limit=1000`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.items;
    },
    /**
     * Waits for at least `count` events (they are committed with the change, then readable).
     */
    async waitForEvents(type: string, subject: string, count = 1): Promise<any[]> {
      return eventually(async () => {
        const ev = await c.events(type, subject);
        return ev.length >= count ? ev : undefined;
      }, 20_000, `${count} ${type} event(s) for ${subject}`);
    },
  };
  return c;
}

const MANAGED_BY = 'backstage.io/managed-by-location';
const ORIGIN = 'backstage.io/managed-by-origin-location';
const hasRelation = (e: any, type: string, targetRef: string) => (e.relations ?? []).some((r: any) => r.type === type && r.targetRef === targetRef);

// ---------------------------------------------------------------- the default Pave

describe('catalog ingestion (orphanStrategy delete, the default)', () => {
  let pave: TestPave;
  let api: ReturnType<typeof client>;
  let files: ReturnType<typeof tempTree>;

  before(async () => {
    pave = await startTestPave({ settings: { 'catalog.maxFileBytes': 4000 } });
    api = client(pave);
    files = tempTree('pave-ingest-');
  });
  after(async () => {
    await pave?.close();
    files?.remove();
  });

  test('a multi-document YAML file gives one entity per document, each annotated with its location', async () => {
    const file = files.write(
      'multi/catalog-info.yaml',
      [component('multi-web', { system: 'multi-shop', providesApis: ['multi-api'] }), 'apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: multi-api\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition: "openapi: 3.0.0"\n', 'apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: multi-shop\nspec:\n  owner: team-a\n'].join('---\n'),
    );
    const loc = await api.addLocation('file', file);
    const status = await api.location(loc.id);
    assert.equal(status.status.state, 'ok');
    assert.deepEqual(status.status.errors, []);
    for (const [kind, name] of [['Component', 'multi-web'], ['API', 'multi-api'], ['System', 'multi-shop']]) {
      const e = await api.waitForEntity(kind, name);
      assert.equal(e.metadata.namespace, 'default');
      assert.equal(e.metadata.annotations[MANAGED_BY], `file:${file}`);
      assert.equal(e.metadata.annotations[ORIGIN], `file:${file}`);
      assert.match(e.metadata.uid, /^[0-9a-f-]{36}$/);
    }
    // The annotation can be filtered on, as Backstage clients do to list what a file produced.
    const listed = await pave.api('GET', `/api/catalog/entities?filter=${encodeURIComponent(`metadata.annotations.${MANAGED_BY}=file:${file}`)}`);
    assert.equal(listed.status, 200);
    const names = (listed.body as any[]).map((e) => `${e.kind}:${e.metadata.name}`).sort();
    // The Location entity generated for the registered location is annotated with it too, as in Backstage.
    assert.deepEqual(names, ['API:multi-api', 'Component:multi-web', `Location:${loc.entityRef.split('/')[1]}`, 'System:multi-shop']);
    const web = await api.entity('Component', 'multi-web');
    assert.ok(hasRelation(web, 'providesApi', 'api:default/multi-api'), JSON.stringify(web.relations));
    assert.ok(hasRelation(web, 'partOf', 'system:default/multi-shop'), 'hasRelation(web, \'partOf\', \'system:default/multi-shop\')');
    const apiEntity = await api.entity('API', 'multi-api');
    assert.ok(hasRelation(apiEntity, 'apiProvidedBy', 'component:default/multi-web'), JSON.stringify(apiEntity.relations));
    // The Location entity generated for the registered location is in the catalog too.
    const [, ref] = /^location:default\/(.+)$/.exec(loc.entityRef)!;
    const generated = await api.entity('Location', ref);
    assert.equal(generated?.spec.target, file);
  });

  test('a JSON file is read like YAML', async () => {
    const file = files.write(
      'json/catalog-info.json',
      JSON.stringify({ apiVersion: 'backstage.io/v1alpha1', kind: 'Resource', metadata: { name: 'json-db', tags: ['postgres'] }, spec: { type: 'database', owner: 'team-a' } }, null, 2),
    );
    await api.addLocation('file', file);
    const e = await api.waitForEntity('Resource', 'json-db');
    assert.deepEqual(e.metadata.tags, ['postgres']);
    assert.equal(e.metadata.annotations[MANAGED_BY], `file:${file}`);
  });

  test('a Location file with relative target and targets, nested two levels', async () => {
    const root = files.write('org/catalog.yaml', locationDoc('org-root', ['./teams/all.yaml', './services/catalog-info.yaml']));
    files.write('org/teams/all.yaml', 'apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: org-teams\nspec:\n  target: ./payments/group.yaml\n');
    const deep = files.write('org/teams/payments/group.yaml', group('org-payments'));
    const svc = files.write('org/services/catalog-info.yaml', component('org-checkout', { owner: 'org-payments' }));
    const loc = await api.addLocation('file', root);

    const g = await api.waitForEntity('Group', 'org-payments');
    assert.equal(g.metadata.annotations[MANAGED_BY], `file:${deep}`, 'managed-by-location is the file the entity is in');
    assert.equal(g.metadata.annotations[ORIGIN], `file:${root}`, 'managed-by-origin-location is the registered location');
    const c = await api.waitForEntity('Component', 'org-checkout');
    assert.equal(c.metadata.annotations[MANAGED_BY], `file:${svc}`);
    assert.equal(c.metadata.annotations[ORIGIN], `file:${root}`);
    const teams = await api.waitForEntity('Location', 'org-teams');
    assert.equal(teams.metadata.annotations[MANAGED_BY], `file:${files.path('org/teams/all.yaml')}`);
    assert.equal(teams.metadata.annotations[ORIGIN], `file:${root}`);
    assert.ok(await api.entity('Location', 'org-root'), 'await api.entity(\'Location\', \'org-root\')');
    assert.ok(hasRelation(g, 'ownerOf', 'component:default/org-checkout'), JSON.stringify(g.relations));
    assert.deepEqual((await api.location(loc.id)).status.errors, []);
  });

  test('a relative target that does not exist is reported, and the rest is ingested', async () => {
    const root = files.write('missing/catalog.yaml', `${locationDoc('missing-root', ['./there.yaml', './not-there.yaml'])}---\n${component('missing-sibling')}`);
    files.write('missing/there.yaml', component('missing-there'));
    const loc = await api.addLocation('file', root);
    await api.waitForEntity('Component', 'missing-there');
    await api.waitForEntity('Component', 'missing-sibling');
    const l = await api.waitForErrors(loc.id, (errs) => errs.some((e) => e.code === 'LOCATION_NOT_FOUND'), 'LOCATION_NOT_FOUND');
    const p = l.status.errors.find((e) => e.code === 'LOCATION_NOT_FOUND')!;
    assert.equal(p.location, `file:${files.path('missing/not-there.yaml')}`);
  });

  test('a relative url target inside a file location is refused once, not retried forever', async () => {
    const root = files.write('relurl/catalog.yaml', `apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: relurl\nspec:\n  type: url\n  target: ./remote.yaml\n`);
    const loc = await api.addLocation('file', root);
    const l = await api.waitForErrors(loc.id, (errs) => errs.some((e) => e.code === 'LOCATION_TARGET_INVALID'), 'LOCATION_TARGET_INVALID');
    assert.match(l.status.errors.find((e) => e.code === 'LOCATION_TARGET_INVALID')!.message, /not an absolute http\(s\) URL/);
    const jobs = await pave.api('GET', '/api/jobs?kind=catalog.process-location&limit=500');
    const mine = jobs.body.items.filter((j: any) => j.payload.locationId === loc.id);
    assert.ok(mine.length >= 1 && mine.every((j: any) => j.status === 'succeeded' && j.attempts === 1), JSON.stringify(mine));
  });

  test('a glob target reads every matching file', async () => {
    files.write('glob/services/a/catalog-info.yaml', component('glob-a'));
    files.write('glob/services/b/catalog-info.yaml', component('glob-b'));
    files.write('glob/services/b/other.yaml', component('glob-not-matched'));
    const loc = await api.addLocation('file', files.path('glob/services/*/catalog-info.yaml'));
    const a = await api.waitForEntity('Component', 'glob-a');
    await api.waitForEntity('Component', 'glob-b');
    assert.equal(a.metadata.annotations[MANAGED_BY], `file:${files.path('glob/services/a/catalog-info.yaml')}`);
    assert.equal(a.metadata.annotations[ORIGIN], `file:${files.path('glob/services/*/catalog-info.yaml')}`);
    assert.equal(await api.entity('Component', 'glob-not-matched'), undefined);
    // A file that starts matching later is picked up on the next read.
    files.write('glob/services/c/catalog-info.yaml', component('glob-c'));
    await api.refreshLocation(loc.id);
    await api.waitForEntity('Component', 'glob-c');
  });

  test('a folder target finds the catalog-info files below it', async () => {
    files.write('folder/catalog-info.yaml', component('folder-top'));
    files.write('folder/deep/er/catalog-info.yml', component('folder-deep'));
    files.write('folder/notes.yaml', component('folder-not-catalog-info'));
    files.write('folder/node_modules/dep/catalog-info.yaml', component('folder-in-node-modules'));
    await api.addLocation('file', files.path('folder'));
    await api.waitForEntity('Component', 'folder-top');
    const deep = await api.waitForEntity('Component', 'folder-deep');
    assert.equal(deep.metadata.annotations[MANAGED_BY], `file:${files.path('folder/deep/er/catalog-info.yml')}`);
    assert.equal(await api.entity('Component', 'folder-not-catalog-info'), undefined);
    assert.equal(await api.entity('Component', 'folder-in-node-modules'), undefined);
  });

  test('a url location, with a relative target inside it, served by a real HTTP server', async () => {
    const server = await startFileServer(
      new Map([
        ['/repo/catalog-info.yaml', `${locationDoc('url-root', ['./services/api.yaml'])}---\n${component('url-web')}`],
        ['/repo/services/api.yaml', component('url-api-svc')],
      ]),
    );
    try {
      const loc = await api.addLocation('url', `${server.base}/repo/catalog-info.yaml`);
      const web = await api.waitForEntity('Component', 'url-web');
      assert.equal(web.metadata.annotations[MANAGED_BY], `url:${server.base}/repo/catalog-info.yaml`);
      const nested = await api.waitForEntity('Component', 'url-api-svc');
      assert.equal(nested.metadata.annotations[MANAGED_BY], `url:${server.base}/repo/services/api.yaml`);
      assert.equal(nested.metadata.annotations[ORIGIN], `url:${server.base}/repo/catalog-info.yaml`);
      assert.deepEqual((await api.location(loc.id)).status.errors, []);
    } finally {
      await server.close();
    }
  });

  test('broken YAML: the error has file, line and column; the last good entities stay with the error; a fix recovers', async () => {
    const file = files.write('broken/catalog-info.yaml', `${component('broken-web')}---\n${component('broken-worker', { type: 'worker' })}`);
    const loc = await api.addLocation('file', file);
    await api.waitForEntity('Component', 'broken-web');
    await api.waitForEntity('Component', 'broken-worker');

    // Line 5, column 3: the second `name` key.
    files.write('broken/catalog-info.yaml', `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: broken-web\n  name: twice\nspec:\n  type: service\n`);
    await api.refreshLocation(loc.id);
    const l = await api.waitForErrors(loc.id, (errs) => errs.some((e) => e.code === 'YAML_INVALID'), 'YAML_INVALID on the location');
    const p = l.status.errors.find((e) => e.code === 'YAML_INVALID')!;
    assert.equal(l.status.state, 'failed');
    assert.equal(p.location, `file:${file}`);
    assert.equal(p.line, 5);
    assert.equal(p.column, 3);
    assert.match(p.message, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5:3`));

    for (const name of ['broken-web', 'broken-worker']) {
      const e = await api.waitForEntity('Component', name, (x) => x.status?.items?.length > 0, `${name} with status.items`);
      assert.equal(e.metadata.name, name, 'the last good version is still served');
      const item = e.status.items[0];
      assert.equal(item.level, 'error');
      assert.equal(item.type, 'backstage.io/catalog-processing');
      assert.equal(item.error.code, 'YAML_INVALID');
      assert.equal(item.error.line, 5);
      assert.equal(item.error.column, 3);
      assert.match(item.message, /Map keys must be unique/);
    }
    assert.equal((await api.entity('Component', 'broken-worker')).spec.type, 'worker');

    files.write('broken/catalog-info.yaml', `${component('broken-web', {}, { description: 'fixed' })}---\n${component('broken-worker', { type: 'worker' })}`);
    await api.refreshLocation(loc.id);
    const fixed = await api.waitForErrors(loc.id, (errs) => errs.length === 0, 'the error to go away');
    assert.equal(fixed.status.state, 'ok');
    const web = await api.waitForEntity('Component', 'broken-web', (e) => e.metadata.description === 'fixed');
    assert.equal(web.status, undefined, 'no status.items once the file is good again');
    const worker = await api.waitForEntity('Component', 'broken-worker', (e) => e.status === undefined, 'broken-worker without status');
    assert.equal(worker.spec.type, 'worker');
  });

  test('an invalid entity is reported with entity, field, value and rule; the rest of the file is ingested', async () => {
    const file = files.write(
      'invalid/catalog-info.yaml',
      [component('invalid-ok-1'), 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: invalid-no-owner\nspec:\n  type: service\n  lifecycle: production\n', component('invalid-ok-2'), component('invalid name')].join('---\n'),
    );
    const loc = await api.addLocation('file', file);
    await api.waitForEntity('Component', 'invalid-ok-1');
    await api.waitForEntity('Component', 'invalid-ok-2');
    const l = await api.waitForErrors(loc.id, (errs) => errs.length >= 2, 'two entity errors');
    assert.equal(l.status.state, 'failed');

    const owner = l.status.errors.find((e) => e.entityRef === 'component:default/invalid-no-owner');
    assert.ok(owner, JSON.stringify(l.status.errors));
    assert.equal(owner.code, 'ENTITY_INVALID');
    assert.equal(owner.location, `file:${file}`);
    // Lines 10 to 16 hold that document; the error points into it (at the document or the field).
    assert.ok(owner.line! >= 10 && owner.line! <= 16, `line ${owner.line}`);
    assert.ok(owner.column! >= 1, 'owner.column! >= 1');
    assert.equal(owner.details?.field, 'spec.owner');
    assert.match(String(owner.details?.rule), /required/);
    assert.match(owner.message, /component:default\/invalid-no-owner/);
    assert.match(owner.message, /spec\.owner/);

    const name = l.status.errors.find((e) => e.details?.field === 'metadata.name');
    assert.ok(name, JSON.stringify(l.status.errors));
    assert.equal(name.details?.value, 'invalid name');
    assert.match(String(name.details?.rule), /at most 63 characters/);
    assert.match(name.message, /invalid name/);
    assert.equal(await api.entity('Component', 'invalid-no-owner'), undefined);
  });

  test('a file over catalog.maxFileBytes is refused with LOCATION_TOO_LARGE', async () => {
    const padding = `  description: "${'x'.repeat(4200)}"\n`;
    const file = files.write('large/catalog-info.yaml', component('too-large').replace('metadata:\n', `metadata:\n${padding}`));
    const loc = await api.addLocation('file', file);
    const l = await api.waitForErrors(loc.id, (errs) => errs.some((e) => e.code === 'LOCATION_TOO_LARGE'), 'LOCATION_TOO_LARGE');
    const p = l.status.errors.find((e) => e.code === 'LOCATION_TOO_LARGE')!;
    assert.equal(p.location, `file:${file}`);
    assert.equal(p.details?.limit, 4000);
    assert.ok(p.details?.size > 4000, 'p.details?.size > 4000');
    assert.match(p.message, /catalog\.maxFileBytes/);
    assert.equal(await api.entity('Component', 'too-large'), undefined);
  });

  test('an unreachable URL: the error shows on the location, the job is retried, the entities stay', async () => {
    const server = await startFileServer(new Map([['/catalog-info.yaml', component('flaky-svc')]]));
    const target = `${server.base}/catalog-info.yaml`;
    const loc = await api.addLocation('url', target);
    const before = await api.waitForEntity('Component', 'flaky-svc');

    await server.close(); // connection refused from now on
    await api.refreshLocation(loc.id);
    const l = await api.waitForErrors(loc.id, (errs) => errs.some((e) => e.code === 'LOCATION_UNREACHABLE'), 'LOCATION_UNREACHABLE');
    const p = l.status.errors.find((e) => e.code === 'LOCATION_UNREACHABLE')!;
    assert.equal(p.location, `url:${target}`);
    assert.match(p.message, /ECONNREFUSED|could not be reached/);

    // The job failed and is queued again with backoff (or already ran again).
    const job = await eventually(async () => {
      const res = await pave.api('GET', '/api/jobs?kind=catalog.process-location&limit=500');
      assert.equal(res.status, 200);
      const mine = (res.body.items as any[]).filter((j) => j.payload?.locationId === loc.id);
      return mine.find((j) => j.attempts > 1 || (j.status === 'queued' && j.lastError && Date.parse(j.runAt) > Date.now()));
    }, 8_000, 'the process-location job to be retried');
    assert.match(String(job.lastError ?? ''), /ECONNREFUSED|could not be reached/);

    const kept = await api.waitForEntity('Component', 'flaky-svc', (e) => e.status?.items?.length > 0, 'flaky-svc with the error in status.items');
    assert.equal(kept.metadata.uid, before.metadata.uid, 'the entity is kept, not recreated');
    assert.equal(kept.status.items[0].error.code, 'LOCATION_UNREACHABLE');
  });

  test('the same entity ref in two locations: the first keeps it, the second gets ENTITY_CONFLICT', async () => {
    const first = files.write('conflict/first.yaml', component('conflict-shared', { type: 'first' }));
    const second = files.write('conflict/second.yaml', `${component('conflict-shared', { type: 'second' })}---\n${component('conflict-other')}`);
    const l1 = await api.addLocation('file', first);
    await api.waitForEntity('Component', 'conflict-shared');
    const l2 = await api.addLocation('file', second);
    await api.waitForEntity('Component', 'conflict-other');
    const l = await api.waitForErrors(l2.id, (errs) => errs.some((e) => e.code === 'ENTITY_CONFLICT'), 'ENTITY_CONFLICT');
    const p = l.status.errors.find((e) => e.code === 'ENTITY_CONFLICT')!;
    assert.equal(p.entityRef, 'component:default/conflict-shared');
    assert.equal(p.location, `file:${second}`);
    assert.match(p.message, new RegExp(first.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    const shared = await api.entity('Component', 'conflict-shared');
    assert.equal(shared.spec.type, 'first');
    assert.equal(shared.metadata.annotations[MANAGED_BY], `file:${first}`);
    assert.deepEqual((await api.location(l1.id)).status.errors, []);
    // Refreshing the first keeps it still; refreshing the second does not take it over.
    await api.refreshLocation(l2.id);
    await api.refreshLocation(l1.id);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await api.entity('Component', 'conflict-shared')).spec.type, 'first');
    // Once the first location is unregistered, the second one takes the entity.
    const del = await pave.api('DELETE', `/api/catalog/locations/${l1.id}`);
    assert.equal(del.status, 204);
    const taken = await api.waitForEntity('Component', 'conflict-shared', (e) => e.spec.type === 'second', 'the second location to take it over');
    assert.equal(taken.metadata.annotations[MANAGED_BY], `file:${second}`);
    await api.waitForErrors(l2.id, (errs) => errs.length === 0, 'the conflict to clear');
  });

  test('removing an entity from its file removes it from the catalog, with an event', async () => {
    const file = files.write('orphan/catalog-info.yaml', `${component('orphan-stays')}---\n${component('orphan-goes')}`);
    const loc = await api.addLocation('file', file);
    const goes = await api.waitForEntity('Component', 'orphan-goes');
    files.write('orphan/catalog-info.yaml', component('orphan-stays'));
    await api.refreshLocation(loc.id);
    await api.waitForGone('Component', 'orphan-goes');
    assert.ok(await api.entity('Component', 'orphan-stays'), 'await api.entity(\'Component\', \'orphan-stays\')');
    const removed = await api.waitForEvents('catalog.entity.removed', 'component:default/orphan-goes');
    assert.equal(removed[0].payload.uid, goes.metadata.uid);
  });

  test('a relation to an entity that does not exist yet; the target gets the reverse relation when it arrives', async () => {
    const svc = files.write('late/service.yaml', component('late-svc', { owner: 'late-team', dependsOn: ['resource:late-db'] }));
    await api.addLocation('file', svc);
    const e = await api.waitForEntity('Component', 'late-svc');
    assert.ok(hasRelation(e, 'ownedBy', 'group:default/late-team'), JSON.stringify(e.relations));
    assert.ok(hasRelation(e, 'dependsOn', 'resource:default/late-db'), JSON.stringify(e.relations));
    assert.equal(await api.entity('Group', 'late-team'), undefined);

    const team = files.write('late/team.yaml', group('late-team'));
    await api.addLocation('file', team);
    const g = await api.waitForEntity('Group', 'late-team');
    assert.ok(hasRelation(g, 'ownerOf', 'component:default/late-svc'), JSON.stringify(g.relations));
    // The source keeps its relation, unchanged.
    assert.ok(hasRelation(await api.entity('Component', 'late-svc'), 'ownedBy', 'group:default/late-team'), 'hasRelation(await api.entity(\'Component\', \'late-svc\'), \'ownedBy\', \'group:default/late-team\')');
    // When the source goes, so does the reverse relation on the target.
    fs.rmSync(svc);
    files.write('late/service.yaml', component('late-other', { owner: 'someone-else' }));
    await api.waitForGone('Component', 'late-svc');
    await api.waitForEntity('Group', 'late-team', (x) => !hasRelation(x, 'ownerOf', 'component:default/late-svc'), 'the reverse relation to go');
  });

  test('an edit to a registered file is picked up without calling refresh (file watching)', async () => {
    const file = files.write('watched/catalog-info.yaml', component('watched-svc', {}, { description: 'before' }));
    await api.addLocation('file', file);
    await api.waitForEntity('Component', 'watched-svc', (e) => e.metadata.description === 'before');
    await new Promise((r) => setTimeout(r, 300)); // let the watcher settle on the file
    files.write('watched/catalog-info.yaml', component('watched-svc', {}, { description: 'after' }));
    const e = await eventually(async () => {
      const x = await api.entity('Component', 'watched-svc');
      return x?.metadata.description === 'after' ? x : undefined;
    }, 5_000, 'the edit to be picked up by the file watcher');
    assert.equal(e.metadata.description, 'after');
  });

  test('file watching covers files reached through a Location entity, a folder and a glob, and new files there', async () => {
    const root = files.write('watch-tree/catalog.yaml', locationDoc('watch-tree-root', ['./team/group.yaml']));
    files.write('watch-tree/team/group.yaml', group('watch-tree-team'));
    await api.addLocation('file', root);
    await api.waitForEntity('Group', 'watch-tree-team');
    files.write('watch-folder/one/catalog-info.yaml', component('watch-folder-one'));
    await api.addLocation('file', files.path('watch-folder'));
    await api.waitForEntity('Component', 'watch-folder-one');
    files.write('watch-glob/one/catalog-info.yaml', component('watch-glob-one'));
    await api.addLocation('file', files.path('watch-glob/*/catalog-info.yaml'));
    await api.waitForEntity('Component', 'watch-glob-one');
    await new Promise((r) => setTimeout(r, 300));

    // An edit in a nested file, no refresh.
    files.write('watch-tree/team/group.yaml', group('watch-tree-team').replace('  name: watch-tree-team\n', '  name: watch-tree-team\n  description: edited\n'));
    await api.waitForEntity('Group', 'watch-tree-team', (e) => e.metadata.description === 'edited', 'the nested edit');
    // A new catalog-info.yaml in the registered folder, and a new match of the glob, no refresh.
    files.write('watch-folder/two/catalog-info.yaml', component('watch-folder-two'));
    await api.waitForEntity('Component', 'watch-folder-two', () => true, 'a new file in a watched folder');
    files.write('watch-glob/two/catalog-info.yaml', component('watch-glob-two'));
    await api.waitForEntity('Component', 'watch-glob-two', () => true, 'a new file matching a watched glob');
  });

  test('a file saved by rename (as editors do) is still watched', async () => {
    const file = files.write('atomic/catalog-info.yaml', component('atomic-svc', {}, { description: 'v1' }));
    await api.addLocation('file', file);
    await api.waitForEntity('Component', 'atomic-svc', (e) => e.metadata.description === 'v1');
    await new Promise((r) => setTimeout(r, 300));
    for (const version of ['v2', 'v3']) {
      const temp = files.write(`atomic/.catalog-info.yaml.${version}.tmp`, component('atomic-svc', {}, { description: version }));
      fs.renameSync(temp, file);
      await api.waitForEntity('Component', 'atomic-svc', (e) => e.metadata.description === version, `${version} saved by rename`);
    }
  });

  test('an entity moved from one location to another ends up in the new one, whichever is read first', async () => {
    const a = files.write('move/a.yaml', `${component('move-svc', { type: 'from-a' })}---\n${component('move-a-stays')}`);
    const b = files.write('move/b.yaml', component('move-b-stays'));
    await api.addLocation('file', a);
    const lb = await api.addLocation('file', b);
    const before = await api.waitForEntity('Component', 'move-svc');
    await api.waitForEntity('Component', 'move-b-stays');
    // The new home is written first (a conflict for now), then the old one lets go.
    files.write('move/b.yaml', `${component('move-b-stays')}---\n${component('move-svc', { type: 'from-b' })}`);
    await api.refreshLocation(lb.id);
    await api.waitForErrors(lb.id, (errs) => errs.some((e) => e.code === 'ENTITY_CONFLICT'), 'the conflict while both claim it');
    files.write('move/a.yaml', component('move-a-stays'));
    const moved = await api.waitForEntity('Component', 'move-svc', (e) => e.spec.type === 'from-b', 'move-svc to be taken over by b.yaml');
    assert.equal(moved.metadata.annotations[MANAGED_BY], `file:${b}`);
    assert.notEqual(moved.metadata.uid, undefined);
    void before;
    await api.waitForErrors(lb.id, (errs) => errs.length === 0, 'the conflict to clear');
  });

  test('an entity that turns invalid keeps its last good version with the error in status.items', async () => {
    const file = files.write('turns-invalid/catalog-info.yaml', `${component('turns-invalid-svc')}---\n${component('turns-invalid-sibling')}`);
    const loc = await api.addLocation('file', file);
    const good = await api.waitForEntity('Component', 'turns-invalid-svc');
    files.write('turns-invalid/catalog-info.yaml', `${component('turns-invalid-svc', { lifecycle: 5 })}---\n${component('turns-invalid-sibling', {}, { description: 'still fine' })}`);
    await api.refreshLocation(loc.id);
    const l = await api.waitForErrors(loc.id, (errs) => errs.some((e) => e.entityRef === 'component:default/turns-invalid-svc'), 'the entity error');
    const p = l.status.errors.find((e) => e.entityRef === 'component:default/turns-invalid-svc')!;
    assert.equal(p.details?.field, 'spec.lifecycle');
    assert.equal(p.details?.value, 5);
    const kept = await api.waitForEntity('Component', 'turns-invalid-svc', (e) => e.status?.items?.length > 0, 'status.items on the kept entity');
    assert.equal(kept.spec.lifecycle, 'production', 'the last good version is served');
    assert.equal(kept.metadata.uid, good.metadata.uid);
    assert.equal(kept.status.items[0].error.code, 'ENTITY_INVALID');
    assert.match(kept.status.items[0].message, /spec\.lifecycle/);
    await api.waitForEntity('Component', 'turns-invalid-sibling', (e) => e.metadata.description === 'still fine');
  });

  test('POST /refresh {entityRef} re-reads the location the entity came from', async () => {
    // A url location: it is not watched, so only the refresh can pick the change up.
    const server = await startFileServer(new Map([['/svc.yaml', component('refresh-svc', {}, { description: 'v1' })]]));
    try {
      await api.addLocation('url', `${server.base}/svc.yaml`);
      await api.waitForEntity('Component', 'refresh-svc', (e) => e.metadata.description === 'v1');
      server.files.set('/svc.yaml', component('refresh-svc', {}, { description: 'v2' }));
      const res = await pave.api('POST', '/api/catalog/refresh', { entityRef: 'component:default/refresh-svc' });
      assert.ok(res.status >= 200 && res.status < 300, `${res.status} ${JSON.stringify(res.body)}`);
      await api.waitForEntity('Component', 'refresh-svc', (e) => e.metadata.description === 'v2', 'the refreshed description');
      const missing = await pave.api('POST', '/api/catalog/refresh', { entityRef: 'component:default/no-such-entity' });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'ENTITY_NOT_FOUND');
    } finally {
      await server.close();
    }
  });

  test('uid is stable, etag changes on change, generation increments on spec changes; events are recorded', async () => {
    const file = files.write('versions/catalog-info.yaml', component('versioned-svc', {}, { description: 'one' }));
    const loc = await api.addLocation('file', file);
    const v1 = await api.waitForEntity('Component', 'versioned-svc');
    assert.equal(v1.metadata.generation, 1);
    assert.ok(v1.metadata.etag, 'v1.metadata.etag');

    // Metadata only: same uid and generation, new etag.
    files.write('versions/catalog-info.yaml', component('versioned-svc', {}, { description: 'two' }));
    await api.refreshLocation(loc.id);
    const v2 = await api.waitForEntity('Component', 'versioned-svc', (e) => e.metadata.description === 'two');
    assert.equal(v2.metadata.uid, v1.metadata.uid);
    assert.notEqual(v2.metadata.etag, v1.metadata.etag);
    assert.equal(v2.metadata.generation, 1);

    // Spec: the generation moves on.
    files.write('versions/catalog-info.yaml', component('versioned-svc', { lifecycle: 'deprecated' }, { description: 'two' }));
    await api.refreshLocation(loc.id);
    const v3 = await api.waitForEntity('Component', 'versioned-svc', (e) => e.spec.lifecycle === 'deprecated');
    assert.equal(v3.metadata.uid, v1.metadata.uid);
    assert.notEqual(v3.metadata.etag, v2.metadata.etag);
    assert.equal(v3.metadata.generation, 2);

    // No change: nothing moves.
    const readAt = (await api.location(loc.id)).status.lastReadAt;
    await api.refreshLocation(loc.id);
    await eventually(async () => ((await api.location(loc.id)).status.lastReadAt !== readAt ? true : undefined), 5_000, 'the refresh to run');
    const v4 = await api.entity('Component', 'versioned-svc');
    assert.equal(v4.metadata.etag, v3.metadata.etag);
    assert.equal(v4.metadata.generation, 2);

    const subject = 'component:default/versioned-svc';
    const added = await api.waitForEvents('catalog.entity.added', subject);
    assert.equal(added.length, 1);
    assert.equal(added[0].payload.uid, v1.metadata.uid);
    const changed = await api.waitForEvents('catalog.entity.changed', subject, 2);
    assert.equal(changed.length, 2, JSON.stringify(changed));
    assert.deepEqual(changed.map((e) => e.payload.generation), [1, 2]);

    files.write('versions/catalog-info.yaml', component('versioned-other'));
    await api.refreshLocation(loc.id);
    await api.waitForGone('Component', 'versioned-svc');
    const removed = await api.waitForEvents('catalog.entity.removed', subject);
    assert.equal(removed.length, 1);
    assert.equal(removed[0].payload.uid, v1.metadata.uid);
  });

  test('a kind that is not built in is refused unless registered in catalog.kinds', async () => {
    const file = files.write('custom/catalog-info.yaml', `apiVersion: pave.dev/v1\nkind: Pipeline\nmetadata:\n  name: unregistered-pipeline\nspec:\n  owner: team-a\n  stages: [build]\n---\n${component('custom-neighbour')}`);
    const loc = await api.addLocation('file', file);
    await api.waitForEntity('Component', 'custom-neighbour');
    const l = await api.waitForErrors(loc.id, (errs) => errs.some((e) => e.code === 'ENTITY_KIND_UNKNOWN'), 'ENTITY_KIND_UNKNOWN');
    const p = l.status.errors.find((e) => e.code === 'ENTITY_KIND_UNKNOWN')!;
    assert.equal(p.entityRef, 'pipeline:default/unregistered-pipeline');
    assert.equal(p.details?.field, 'kind');
    assert.match(p.message, /catalog\.kinds/);
    assert.equal(await api.entity('Pipeline', 'unregistered-pipeline'), undefined);
  });
});

// ---------------------------------------------------------------- a Pave that keeps orphans and knows a custom kind

describe('catalog ingestion (orphanStrategy keep, custom kinds)', () => {
  let pave: TestPave;
  let api: ReturnType<typeof client>;
  let files: ReturnType<typeof tempTree>;

  before(async () => {
    pave = await startTestPave({
      settings: {
        'catalog.orphanStrategy': 'keep',
        'catalog.maxFileBytes': 1000,
        'catalog.kinds': [
          {
            kind: 'Pipeline',
            apiVersions: ['pave.dev/v1'],
            schema: {
              type: 'object',
              required: ['spec'],
              properties: { spec: { type: 'object', required: ['owner', 'stages'], properties: { owner: { type: 'string' }, stages: { type: 'array', items: { type: 'string' } } } } },
            },
          },
        ],
      },
    });
    api = client(pave);
    files = tempTree('pave-ingest-keep-');
  });
  after(async () => {
    await pave?.close();
    files?.remove();
  });

  test('with orphanStrategy keep, an entity removed from its file stays, marked backstage.io/orphan', async () => {
    const file = files.write('catalog-info.yaml', `${component('keep-stays')}---\n${component('keep-orphan')}`);
    const loc = await api.addLocation('file', file);
    const before = await api.waitForEntity('Component', 'keep-orphan');
    assert.equal(before.metadata.annotations['backstage.io/orphan'], undefined);
    files.write('catalog-info.yaml', component('keep-stays'));
    await api.refreshLocation(loc.id);
    const orphan = await api.waitForEntity('Component', 'keep-orphan', (e) => e.metadata.annotations['backstage.io/orphan'] === 'true', 'the orphan annotation');
    assert.equal(orphan.metadata.uid, before.metadata.uid);
    assert.notEqual(orphan.metadata.etag, before.metadata.etag);
    assert.equal((await api.entity('Component', 'keep-stays')).metadata.annotations['backstage.io/orphan'], undefined);
    // Put back in the file, it is no orphan any more.
    files.write('catalog-info.yaml', `${component('keep-stays')}---\n${component('keep-orphan')}`);
    await api.refreshLocation(loc.id);
    await api.waitForEntity('Component', 'keep-orphan', (e) => e.metadata.annotations['backstage.io/orphan'] === undefined, 'the orphan annotation to go');
  });

  test('a registered custom kind is ingested; one that breaks its schema is refused with the field', async () => {
    const file = files.write(
      'pipelines.yaml',
      'apiVersion: pave.dev/v1\nkind: Pipeline\nmetadata:\n  name: release\nspec:\n  owner: team-a\n  stages: [build, deploy]\n---\napiVersion: pave.dev/v1\nkind: Pipeline\nmetadata:\n  name: broken-pipeline\nspec:\n  owner: team-a\n  stages: build\n',
    );
    const loc = await api.addLocation('file', file);
    const ok = await api.waitForEntity('Pipeline', 'release');
    assert.deepEqual(ok.spec.stages, ['build', 'deploy']);
    const l = await api.waitForErrors(loc.id, (errs) => errs.length > 0, 'the schema error');
    const p = l.status.errors.find((e) => e.entityRef === 'pipeline:default/broken-pipeline');
    assert.ok(p, JSON.stringify(l.status.errors));
    assert.equal(p.code, 'ENTITY_INVALID');
    assert.equal(p.details?.field, 'spec.stages');
    assert.equal(p.details?.value, 'build');
    assert.equal(await api.entity('Pipeline', 'broken-pipeline'), undefined);
  });

  test('catalog.maxFileBytes applies to url locations too', async () => {
    const server = await startFileServer(new Map([['/big.yaml', component('big-url').replace('metadata:\n', `metadata:\n  description: "${'y'.repeat(1200)}"\n`)]]));
    try {
      const loc = await api.addLocation('url', `${server.base}/big.yaml`);
      const l = await api.waitForErrors(loc.id, (errs) => errs.some((e) => e.code === 'LOCATION_TOO_LARGE'), 'LOCATION_TOO_LARGE');
      assert.equal(l.status.errors.find((e) => e.code === 'LOCATION_TOO_LARGE')!.details?.limit, 1000);
      assert.equal(await api.entity('Component', 'big-url'), undefined);
    } finally {
      await server.close();
    }
  });
});
