import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { eventually, startTestPave, type TestPave } from '../testing/pave.ts';

const template = (name: string, recovery: string) => `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: ${name} }
spec:
  owner: team-a
  type: service
${recovery}  steps:
    - id: wait
      name: Wait
      action: debug:wait
      input: { seconds: 60 }
`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-recovery-'));
const settings = { 'server.shutdownGraceSeconds': 0.2, 'scaffolder.takeOverAfterSeconds': 1 };
let pave: TestPave | undefined;

after(async () => {
  await pave?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test('a run cut off by a stop of Pave never stays processing: it fails saying so, or starts over when its template asks', async () => {
  fs.writeFileSync(path.join(work, 'templates.yaml'), [template('plain', ''), template('restartable', '  EXPERIMENTAL_recovery: { EXPERIMENTAL_strategy: startOver }\n')].join('---\n'));
  pave = await startTestPave({ settings });
  assert.equal((await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(work, 'templates.yaml') })).status, 201, 'templates registered');
  await eventually(async () => ((await pave!.api('GET', '/api/catalog/entities/by-name/template/default/restartable')).status === 200 ? true : undefined), 10_000, 'the templates');
  const ids: Record<string, string> = {};
  for (const name of ['plain', 'restartable']) {
    const res: { status: number; body: any } = await pave.api('POST', '/api/scaffolder/v2/tasks', { templateRef: `template:default/${name}`, values: {} });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    ids[name] = res.body.id;
  }
  for (const id of Object.values(ids)) {
    await eventually(async () => ((await pave!.api('GET', `/api/scaffolder/v2/tasks/${id}`)).body.status === 'processing' ? true : undefined), 10_000, 'both runs to start');
  }
  const db = pave.db;
  await pave.stopKeepingData();
  pave = undefined;

  pave = await startTestPave({ database: db, settings });
  const plain = await eventually(async () => {
    const t = (await pave!.api('GET', `/api/scaffolder/v2/tasks/${ids.plain}`)).body;
    return t.status === 'failed' ? t : undefined;
  }, 15_000, 'the plain run to fail cleanly');
  assert.equal(plain.status, 'failed', 'failed, not left processing');
  const events = (await pave.api('GET', `/api/scaffolder/v2/tasks/${ids.plain}/events`)).body;
  assert.ok(events.some((e: any) => e.type === 'recovered' && /not resumed/.test(e.body.message)), `a recovered event says why: ${JSON.stringify(events.map((e: any) => e.body.message))}`);
  assert.equal(events.at(-1).type, 'completion', 'and the stream ends with a completion');

  await eventually(async () => {
    const evs = (await pave!.api('GET', `/api/scaffolder/v2/tasks/${ids.restartable}/events`)).body;
    return evs.some((e: any) => e.type === 'recovered' && /starting over/.test(e.body.message)) && evs.filter((e: any) => e.body.stepId === 'wait' && e.body.status === 'processing').length === 2 ? true : undefined;
  }, 15_000, 'the restartable run to start over');
  assert.equal((await pave.api('GET', `/api/scaffolder/v2/tasks/${ids.restartable}`)).body.status, 'processing', 'running again');
  assert.equal((await pave.api('POST', `/api/scaffolder/v2/tasks/${ids.restartable}/cancel`)).body.status, 'cancelled', 'and can be cancelled');
});

test('more runs than workers: every run is claimed as the ones before it finish', async () => {
  const quick = await startTestPave({ settings: { 'scaffolder.concurrency': 2 } });
  try {
    fs.writeFileSync(path.join(work, 'quick.yaml'), template('quick', '').replace('input: { seconds: 60 }', 'input: { milliseconds: 50 }'));
    assert.equal((await quick.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(work, 'quick.yaml') })).status, 201, 'template registered');
    await eventually(async () => ((await quick.api('GET', '/api/catalog/entities/by-name/template/default/quick')).status === 200 ? true : undefined), 10_000, 'the template');
    const ids = await Promise.all(Array.from({ length: 7 }, async () => (await quick.api('POST', '/api/scaffolder/v2/tasks', { templateRef: 'template:default/quick', values: {} })).body.id as string));
    await eventually(async () => {
      const statuses = await Promise.all(ids.map(async (id) => (await quick.api('GET', `/api/scaffolder/v2/tasks/${id}`)).body.status));
      return statuses.every((s) => s === 'completed') ? true : undefined;
    }, 15_000, 'all seven runs to complete with two workers');
  } finally {
    await quick.close();
  }
});
