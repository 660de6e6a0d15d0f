import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freshDatabase } from '../../src/testing/db.ts';
import { adminTokenFor, eventually, startTestPave, TEST_ADMIN_PASSWORD, type TestPave } from '../../src/testing/pave.ts';

const root = path.resolve(import.meta.dirname, '../..');

describe('HTTP server', () => {
  let pave: TestPave;
  before(async () => {
    pave = await startTestPave();
  });
  after(async () => pave.close());

  test('health and readiness', async () => {
    assert.deepEqual((await pave.api('GET', '/healthz')).body, { status: 'ok' });
    const ready = await pave.api('GET', '/readyz');
    assert.equal(ready.status, 200);
  });

  test('the OpenAPI document is generated from the route schemas', async () => {
    const { status, body } = await pave.api('GET', '/api/openapi.json');
    assert.equal(status, 200);
    assert.equal(body.openapi, '3.0.3');
    for (const route of ['/api/catalog/entities', '/api/catalog/entities/by-query', '/api/catalog/locations', '/api/jobs', '/api/events']) {
      assert.ok(body.paths[route], `${route} is documented`);
    }
    const params = body.paths['/api/catalog/entities'].get.parameters.map((p: any) => p.name);
    assert.ok(params.includes('filter') && params.includes('fields') && params.includes('order'), 'params.includes(\'filter\') && params.includes(\'fields\') && params.includes(\'order\')');
  });

  test('every error has one shape with a stable code', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['GET', '/api/nope', undefined, 404, 'ROUTE_NOT_FOUND'],
      ['GET', '/api/catalog/entities/by-name/component/default/missing', undefined, 404, 'ENTITY_NOT_FOUND'],
      ['GET', '/api/catalog/entities?limit=abc', undefined, 400, 'INVALID_REQUEST'],
      ['POST', '/api/catalog/locations', { type: 'ftp', target: 'x' }, 400, 'LOCATION_TYPE_UNSUPPORTED'],
      ['POST', '/api/catalog/locations', { target: 'x' }, 400, 'INVALID_REQUEST'],
      ['GET', '/api/jobs/999999', undefined, 404, 'JOB_NOT_FOUND'],
      ['GET', '/api/events?after=garbage', undefined, 400, 'INVALID_CURSOR'],
    ];
    for (const [method, url, body, status, code] of cases) {
      const res = await pave.api(method, url, body);
      assert.equal(res.status, status, `${method} ${url}`);
      assert.equal(res.body.error.code, code, `${method} ${url}`);
      assert.equal(typeof res.body.error.message, 'string');
      assert.equal(typeof res.body.error.details, 'object');
      assert.equal(res.body.response.statusCode, status);
    }
  });

  test('malformed JSON and oversized bodies are refused clearly', async () => {
    // Authenticated, so the refusal comes from the body and not from the missing credentials.
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${pave.token}` };
    const bad = await fetch(`${pave.url}/api/catalog/locations`, { method: 'POST', headers, body: '{"type":' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).error.code, 'INVALID_JSON');
    const huge = await fetch(`${pave.url}/api/catalog/validate-entity`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ entity: { pad: 'x'.repeat(6 * 1024 * 1024) }, location: 'url:x' }),
    });
    assert.equal(huge.status, 413);
    assert.equal(((await huge.json()) as any).error.code, 'BODY_TOO_LARGE');
  });

  test('jobs and events are visible through the API', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-srv-'));
    fs.writeFileSync(path.join(dir, 'c.yaml'), 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: jobs-demo\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n');
    const add = await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(dir, 'c.yaml') });
    assert.equal(add.status, 201);
    const jobs = await pave.api('GET', '/api/jobs?kind=catalog.process-location');
    assert.ok(jobs.body.items.length >= 1, 'jobs.body.items.length >= 1');
    assert.equal(jobs.body.items[0].kind, 'catalog.process-location');
    const events = await pave.api('GET', '/api/events?type=catalog.entity.added');
    assert.ok(events.body.items.some((e: any) => e.subject === 'component:default/jobs-demo'), 'events.body.items.some((e: any) => e.subject === \'component:default/jobs-demo\')');
    const next = await pave.api('GET', `/api/events?type=catalog.entity.added&after=${events.body.nextCursor}`);
    assert.deepEqual(next.body.items, []);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('pave start as a process', () => {
  test('an invalid setting stops start-up with the key, the value and the fix', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
      cwd: root,
      env: { ...process.env, PAVE_PORT: 'seven', PAVE_CATALOG_ORPHAN_STRATEGY: 'remove', PAVE_CONFIG: '/dev/null' },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 2);
    assert.match(stderr, /server\.port = "seven" \(from environment variable PAVE_PORT\) is invalid: set it to a value of type integer/);
    assert.match(stderr, /catalog\.orphanStrategy = "remove" .* set it to one of delete, keep/);
  });

  test('SIGTERM lets an in-flight request finish and loses no job', async () => {
    const db = await freshDatabase();
    // A slow catalog server keeps the request (which waits for processing) in flight.
    const slow = http.createServer((_req, res) => {
      setTimeout(() => {
        res.setHeader('content-type', 'text/yaml');
        res.end('apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: slow-one\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n');
      }, 1500);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const slowUrl = `http://127.0.0.1:${(slow.address() as any).port}/catalog-info.yaml`;
    const env = {
      ...process.env,
      PAVE_CONFIG: '/dev/null',
      PAVE_DEMO: 'false',
      PAVE_DATA_DIR: db.dataDir,
      ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {}),
      PAVE_LOG_LEVEL: 'warn',
      PAVE_JOBS_LEASE_SECONDS: '2',
      PAVE_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    };
    const children: ChildProcess[] = [];
    const start = async (port: number) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--port', String(port)], { cwd: root, env });
      children.push(child);
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      await eventually(async () => (out.includes('Pave is running') ? true : undefined), 30_000, 'Pave to start');
      return { child, output: () => out };
    };
    try {
      const first = await start(7191);
      const token = await adminTokenFor('http://127.0.0.1:7191');
      const inFlight = fetch('http://127.0.0.1:7191/api/catalog/locations', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ type: 'url', target: slowUrl }),
      });
      await new Promise((r) => setTimeout(r, 300));
      const exited = new Promise<number | null>((r) => first.child.on('exit', r));
      first.child.kill('SIGTERM');
      const res = await inFlight;
      assert.equal(res.status, 201, 'the in-flight request was answered');
      assert.equal(await exited, 0, first.output());
      // Whatever state the processing job was in, the next start finishes it (the token lives in the store).
      const second = await start(7192);
      const entity = await eventually(async () => {
        const r = await fetch('http://127.0.0.1:7192/api/catalog/entities/by-name/component/default/slow-one', { headers: { authorization: `Bearer ${token}` } });
        return r.status === 200 ? r.json() : undefined;
      }, 20_000, 'the entity to be processed');
      assert.equal((entity as any).metadata.name, 'slow-one');
      const exit2 = new Promise((r) => second.child.on('exit', r));
      second.child.kill('SIGTERM');
      await exit2;
    } finally {
      // A failed check must not leave a server running (it would keep the test process alive).
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      slow.close();
      await db.drop();
    }
  });
});
