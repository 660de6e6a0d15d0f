import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { freshStore } from '../testing/db.ts';
import { EventLog, eventMigrations } from './events.ts';
import { JobQueue, jobMigrations, PermanentJobError } from './jobs.ts';
import type { Store } from './store.ts';

const log = pino({ level: 'silent' });

describe('job queue', () => {
  let close: () => Promise<void>;
  let store: Store;
  let events: EventLog;

  before(async () => {
    ({ store, close } = await freshStore([...eventMigrations, ...jobMigrations]));
    events = new EventLog(store);
  });
  after(() => close());

  const queue = (opts = {}) => new JobQueue(store, events, log, { pollMs: 20, backoffBaseMs: 30, backoffMaxMs: 100, ...opts });

  test('runs a job and records its result', async () => {
    const q = queue();
    q.register('test.echo', async (p) => ({ echoed: p.value }));
    await q.start();
    const id = await q.enqueue('test.echo', { value: 42 });
    const job = await q.waitFor(id, 5_000);
    await q.stop();
    assert.equal(job.status, 'succeeded');
    assert.deepEqual(job.result, { echoed: 42 });
    assert.equal(job.attempts, 1);
  });

  test('retries a failing job with backoff, then succeeds', async () => {
    const q = queue();
    const seen: number[] = [];
    q.register('test.flaky', async (_p, ctx) => {
      seen.push(Date.now());
      if (ctx.job.attempts < 3) throw new Error(`attempt ${ctx.job.attempts} failed`);
      return 'ok';
    });
    await q.start();
    const id = await q.enqueue('test.flaky', {});
    const job = await q.waitFor(id, 10_000);
    await q.stop();
    assert.equal(job.status, 'succeeded');
    assert.equal(job.attempts, 3);
    assert.ok(seen[2] - seen[1] >= 20, 'the second retry waited for its backoff');
  });

  test('a job that keeps failing ends failed, visible with its error, and can be retried', async () => {
    const q = queue();
    let fail = true;
    q.register('test.broken', async () => {
      if (fail) throw new Error('the disk is full');
      return 'recovered';
    });
    await q.start();
    const id = await q.enqueue('test.broken', {}, { maxAttempts: 2 });
    const job = await q.waitFor(id, 10_000);
    assert.equal(job.status, 'failed');
    assert.equal(job.attempts, 2);
    assert.equal(job.lastError, 'the disk is full');
    const failedList = await q.list({ status: 'failed', kind: 'test.broken' });
    assert.ok(failedList.some((j) => j.id === id), 'failedList.some((j) => j.id === id)');
    const page = await events.read({ types: ['job.failed'] });
    assert.ok(page.items.some((e) => e.subject === `job:${id}`), 'a job.failed event was appended');
    fail = false;
    await q.retry(id);
    const again = await q.waitFor(id, 5_000);
    await q.stop();
    assert.equal(again.status, 'succeeded');
    await assert.rejects(q.retry(id), /only a failed job can be retried/);
  });

  test('a permanent error fails at once', async () => {
    const q = queue();
    q.register('test.permanent', async () => {
      throw new PermanentJobError('bad input, retrying cannot help');
    });
    await q.start();
    const id = await q.enqueue('test.permanent', {});
    const job = await q.waitFor(id, 5_000);
    await q.stop();
    assert.equal(job.status, 'failed');
    assert.equal(job.attempts, 1);
  });

  test('enqueueing with the same dedupe key keeps one queued job', async () => {
    const q = queue();
    const a = await q.enqueue('test.dedupe', { n: 1 }, { dedupeKey: 'same' });
    const b = await q.enqueue('test.dedupe', { n: 2 }, { dedupeKey: 'same' });
    assert.equal(a, b);
    const queued = await q.list({ status: 'queued', kind: 'test.dedupe' });
    assert.equal(queued.length, 1);
    assert.deepEqual(queued[0].payload, { n: 2 });
  });

  test('a job left running by a dead worker is claimed again', async () => {
    // A worker claims the job and dies without finishing: its lease runs out.
    const dead = queue({ leaseMs: 200 });
    let release!: () => void;
    const hang = new Promise<void>((r) => (release = r));
    dead.register('test.orphan', async () => hang);
    await dead.start();
    const id = await dead.enqueue('test.orphan', {});
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await dead.get(id)).status, 'running');
    // The worker vanishes the way a killed process does: it claims nothing more, its heartbeat
    // stops, and the row still names it as the holder with a lease that has run out. (Left
    // polling, the "dead" queue could claim the expired job back before the second one does.)
    await dead.stop(20);
    await store.query(`update pave_jobs set locked_until = now() - interval '1 second' where id = $1`, [id]);
    assert.equal((await dead.get(id)).status, 'running', 'the orphaned job is still marked running');
    const alive = queue({ leaseMs: 5_000 });
    alive.register('test.orphan', async () => 'done by the second worker');
    await alive.start();
    const job = await alive.waitFor(id, 5_000);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.result, 'done by the second worker');
    assert.equal(job.attempts, 2);
    release();
    await alive.stop();
    // The dead worker's late completion must not overwrite the result.
    assert.equal((await alive.get(id)).result, 'done by the second worker');
  });

  test('stop waits for a running job to finish', async () => {
    const q = queue();
    q.register('test.slow', async () => {
      await new Promise((r) => setTimeout(r, 300));
      return 'finished';
    });
    await q.start();
    const id = await q.enqueue('test.slow', {});
    await new Promise((r) => setTimeout(r, 100));
    await q.stop(5_000);
    const job = await q.get(id);
    assert.equal(job.status, 'succeeded');
  });
});
