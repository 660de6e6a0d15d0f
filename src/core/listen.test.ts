import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freshDatabase, type TestDatabase } from '../testing/db.ts';
import { eventually } from '../testing/pave.ts';
import { EventLog, eventMigrations } from './events.ts';
import { migrate } from './migrations.ts';
import { openStore, type Store } from './store.ts';

// Replicas wake each other through NOTIFY: a second store on the same database plays the other
// replica (on PGlite, one process owns the database, so the "other" is the same store).
let db: TestDatabase;
let here: Store;
let there: Store;

before(async () => {
  db = await freshDatabase();
  here = await openStore({ databaseUrl: db.databaseUrl, dataDir: db.dataDir });
  await migrate(here, eventMigrations);
  there = db.databaseUrl ? await openStore({ databaseUrl: db.databaseUrl, dataDir: db.dataDir }) : here;
});
after(async () => {
  if (there !== here) await there.close();
  await here.close();
  await db.drop();
});

test('a NOTIFY reaches listeners when its transaction commits, and never when it rolls back', async () => {
  const heard: (string | undefined)[] = [];
  const off = await here.listen('pave_test', (payload) => heard.push(payload));
  await assert.rejects(
    there.tx(async (q) => {
      await q.query(`select pg_notify('pave_test', 'rolled back')`);
      throw new Error('roll back');
    }),
  );
  await there.tx(async (q) => {
    await q.query(`select pg_notify('pave_test', 'committed')`);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(heard, [], 'nothing before the commit');
  });
  await eventually(async () => (heard.includes('committed') ? true : undefined), 5000, 'the committed notification');
  assert.deepEqual(heard, ['committed'], 'only the committed one');
  off();
  await there.query(`select pg_notify('pave_test', 'after unsubscribing')`);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(heard, ['committed'], 'an unsubscribed listener hears nothing more');
});

test("an event appended by another replica wakes this replica's readers of the log", async () => {
  const ours = new EventLog(here);
  const theirs = new EventLog(there);
  await ours.listenAcrossProcesses();
  let woken = 0;
  const off = ours.on('*', () => void (woken += 1));
  // Appended and committed over there; nothing tells this process but the database.
  await there.tx((q) => theirs.append(q, [{ type: 'catalog.entity.added', subject: 'component:default/a' }]));
  await eventually(async () => (woken > 0 ? true : undefined), 5000, 'the reader to wake');
  off();
  ours.stopListening();
});
