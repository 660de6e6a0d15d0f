import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { EventLog, JobQueue, eventMigrations, jobMigrations, migrate, openStore, type Store } from '../../src/core/index.ts';
import { freshPostgres } from '../../src/testing/db.ts';
import { adminTokenFor, eventually, TEST_ADMIN_PASSWORD } from '../../src/testing/pave.ts';

const root = path.resolve(import.meta.dirname, '../..');

function spawnNode(args: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready') || out.includes('Pave is running')) resolve(child);
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`process exited with ${code} before it was ready:\n${out}`)));
  });
}

describe('several processes on one PostgreSQL', () => {
  let pg: { databaseUrl: string; drop(): Promise<void> };
  let store: Store;
  let queue: JobQueue;
  const children: ChildProcess[] = [];

  before(async () => {
    pg = await freshPostgres();
    store = await openStore({ databaseUrl: pg.databaseUrl, dataDir: 'unused' });
    await migrate(store, [...eventMigrations, ...jobMigrations]);
    await store.exec('create table test_runs (job_id bigint not null, worker text not null)');
    queue = new JobQueue(store, new EventLog(store), pino({ level: 'silent' }));
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await store.close();
    await pg.drop();
  });

  test('two worker processes share the work and run no job twice', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 200; i++) ids.push(await queue.enqueue('test.count', { sleepMs: 5 }));
    const [a, b] = await Promise.all([
      spawnNode(['test/e2e/fixtures/job-worker.ts'], { DATABASE_URL: pg.databaseUrl, WORKER_NAME: 'a' }),
      spawnNode(['test/e2e/fixtures/job-worker.ts'], { DATABASE_URL: pg.databaseUrl, WORKER_NAME: 'b' }),
    ]);
    children.push(a, b);
    await eventually(async () => ((await queue.counts()).succeeded === 200 ? true : undefined), 30_000, 'all 200 jobs to succeed');
    const runs = await store.query<{ job_id: number; n: number }>('select job_id, count(*)::int as n from test_runs group by job_id');
    assert.equal(runs.length, 200);
    assert.ok(runs.every((r) => r.n === 1), 'every job ran exactly once');
    const byWorker = await store.query<{ worker: string; n: number }>('select worker, count(*)::int as n from test_runs group by worker order by worker');
    assert.deepEqual(byWorker.map((w) => w.worker), ['a', 'b'], 'both processes took work');
    a.kill('SIGTERM');
    b.kill('SIGTERM');
  });

  test('a job whose process is killed mid-run is finished by the other process', async () => {
    await store.exec('truncate test_runs');
    const victim = await spawnNode(['test/e2e/fixtures/job-worker.ts'], { DATABASE_URL: pg.databaseUrl, WORKER_NAME: 'victim', LEASE_MS: '1000' });
    children.push(victim);
    const id = await queue.enqueue('test.count', { sleepMs: 60_000 });
    await eventually(async () => ((await queue.get(id)).lockedBy ? true : undefined), 10_000, 'the victim to claim the job');
    victim.kill('SIGKILL');
    // The survivor takes the job over as soon as the lease has run out, maybe as it starts: the
    // job is shortened before, so the survivor never runs the victim's 60 s.
    await store.query(`update pave_jobs set payload = '{"sleepMs": 5}' where id = $1`, [id]);
    const survivor = await spawnNode(['test/e2e/fixtures/job-worker.ts'], { DATABASE_URL: pg.databaseUrl, WORKER_NAME: 'survivor', LEASE_MS: '1000' });
    children.push(survivor);
    const job = await queue.waitFor(id, 20_000);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.result, 'survivor');
    assert.equal(job.attempts, 2);
    survivor.kill('SIGTERM');
  });

  test('two Pave servers starting together on one database migrate once and both serve', async () => {
    const fresh = await freshPostgres();
    try {
      const env = { DATABASE_URL: fresh.databaseUrl, PAVE_DEMO: 'false', PAVE_LOG_LEVEL: 'warn', PAVE_CONFIG: '/dev/null', PAVE_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD };
      const [p1, p2] = await Promise.all([
        spawnNode(['src/cli/main.ts', 'start', '--port', '7181'], env),
        spawnNode(['src/cli/main.ts', 'start', '--port', '7182'], env),
      ]);
      children.push(p1, p2);
      // Both made the first admin at once: one account, and a token made on one works on the other.
      const token = await adminTokenFor('http://127.0.0.1:7181');
      for (const port of [7181, 7182]) {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        assert.equal(res.status, 200);
        const whoami = await fetch(`http://127.0.0.1:${port}/api/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(whoami.status, 200, `whoami on ${port}`);
        assert.equal(((await whoami.json()) as { ref: string }).ref, 'user:default/admin');
      }
      const check = await openStore({ databaseUrl: fresh.databaseUrl, dataDir: 'unused' });
      const rows = await check.query<{ n: number }>('select count(*)::int as n from pave_migrations');
      const distinct = await check.query<{ n: number }>('select count(distinct id)::int as n from pave_migrations');
      assert.equal(rows[0].n, distinct[0].n);
      assert.ok(rows[0].n >= 3, 'rows[0].n >= 3');
      const accounts = await check.query<{ username: string }>('select username from auth_accounts');
      assert.deepEqual(accounts.map((a) => a.username), ['admin']);
      await check.close();
      const exited = [p1, p2].map((p) => new Promise((r) => p.once('exit', r)));
      p1.kill('SIGTERM');
      p2.kill('SIGTERM');
      await Promise.all(exited);
    } finally {
      await fresh.drop();
    }
  });
});
