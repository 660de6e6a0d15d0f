import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshPostgres } from '../testing/db.ts';
import { eventually } from '../testing/pave.ts';
import { openStore } from './store.ts';

test('a listener whose connection to PostgreSQL is lost listens again, and is told it may have missed notifications', async () => {
  const db = await freshPostgres();
  const store = await openStore({ databaseUrl: db.databaseUrl, dataDir: '/nonexistent' });
  const admin = await openStore({ databaseUrl: db.databaseUrl, dataDir: '/nonexistent' });
  try {
    const heard: (string | undefined)[] = [];
    await store.listen('pave_test', (payload) => heard.push(payload));
    const [listener] = await admin.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and query = 'listen pave_test'`);
    assert.ok(listener, 'the listening connection is there');
    await admin.query('select pg_terminate_backend($1)', [listener.pid]);
    await eventually(async () => (heard.includes(undefined) ? true : undefined), 10_000, 'the wake-up after listening again');
    await eventually(
      async () => {
        await admin.query(`select pg_notify('pave_test', 'after the loss')`);
        return heard.includes('after the loss') ? true : undefined;
      },
      10_000,
      'notifications after the loss',
    );
  } finally {
    await admin.close();
    await store.close();
    await db.drop();
  }
});
