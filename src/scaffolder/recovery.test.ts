import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { eventually, startTestPave, type TestPave } from '../testing/pave.ts';
import { freshStore } from '../testing/db.ts';
import { scaffolderMigrations } from './migrations.ts';
import { TaskStore } from './tasks.ts';

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

test('a run cancelled and retried at once: the cancelled run stops and writes nothing more; the retried run alone ends the task', async () => {
  const p = await startTestPave();
  try {
    fs.writeFileSync(
      path.join(work, 'twice.yaml'),
      template('twice', '').replace('input: { seconds: 60 }', 'input: { milliseconds: 1500 }\n    - id: after\n      name: After\n      action: debug:log\n      input: { message: done }'),
    );
    assert.equal((await p.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(work, 'twice.yaml') })).status, 201, 'template registered');
    await eventually(async () => ((await p.api('GET', '/api/catalog/entities/by-name/template/default/twice')).status === 200 ? true : undefined), 10_000, 'the template');
    const id: string = (await p.api('POST', '/api/scaffolder/v2/tasks', { templateRef: 'template:default/twice', values: {} })).body.id;
    const events = async () => (await p.api('GET', `/api/scaffolder/v2/tasks/${id}/events`)).body as { id: number; type: string; body: { stepId?: string; status?: string } }[];
    await eventually(async () => ((await events()).some((e) => e.body.stepId === 'wait' && e.body.status === 'processing') ? true : undefined), 10_000, 'the wait to start');
    assert.equal((await p.api('POST', `/api/scaffolder/v2/tasks/${id}/cancel`)).status, 200, 'cancelled');
    assert.equal((await p.api('POST', `/api/scaffolder/v2/tasks/${id}/retry`)).status, 201, 'retried at once');
    await eventually(async () => ((await p.api('GET', `/api/scaffolder/v2/tasks/${id}`)).body.status === 'completed' ? true : undefined), 15_000, 'the retried run to complete');
    // Long enough for a cancelled run that was not stopped to finish its own wait and write.
    await new Promise((r) => setTimeout(r, 2000));
    const all = await events();
    const retried = all.slice(all.findIndex((e) => e.type === 'recovered'));
    assert.equal(retried.filter((e) => e.type === 'completion').length, 1, 'one completion');
    assert.equal(retried.filter((e) => e.body.stepId === 'wait' && e.body.status === 'processing').length, 1, 'the wait ran once after the retry');
    assert.equal(retried.filter((e) => e.body.stepId === 'after' && e.body.status === 'completed').length, 1, 'the next step ran once');
    assert.equal(retried.filter((e) => e.body.status === 'cancelled').length, 0, `nothing of the cancelled run after the retry: ${JSON.stringify(retried.map((e) => e.body))}`);
  } finally {
    await p.close();
  }
});

test('only the live run of a task may beat, write its log or end it', async () => {
  // A bare store: no worker of a running Pave claims the task before the test does.
  const { store, close } = await freshStore(scaffolderMigrations);
  try {
    const tasks = new TaskStore(store);
    const id = await tasks.create({ apiVersion: 'scaffolder.backstage.io/v1beta3', steps: [], output: {}, parameters: {}, user: {}, templateInfo: { entityRef: 'template:default/x', baseUrl: 'file:///x/' } }, undefined, {});
    const [first] = await tasks.claim(1, 30);
    assert.equal(first.task.id, id);
    await tasks.cancel(id);
    await tasks.retry(id);
    const [second] = await tasks.claim(1, 30);
    assert.notEqual(second.runId, first.runId, 'a new run id for the new run');
    assert.equal(await tasks.heartbeat(id, first.runId), false, 'the old run is told to stop');
    assert.equal(await tasks.heartbeat(id, second.runId), true, 'the live run beats');
    const stale = tasks.eventWriter(id, first.runId);
    stale.emit('log', { message: 'from the old run' });
    await stale.flush();
    assert.equal((await tasks.events(id)).filter((e) => e.body.message === 'from the old run').length, 0, 'the old run cannot write to the log');
    assert.equal(await tasks.finish(id, first.runId, 'completed', { message: 'old' }), false, 'nor end the task');
    assert.equal(await tasks.finish(id, second.runId, 'completed', { message: 'new' }), true, 'the live run ends it');
    assert.equal((await tasks.get(id)).status, 'completed');
  } finally {
    await close();
  }
});
