import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freshStore } from '../testing/db.ts';
import { EventLog, eventMigrations, nextEvents } from './events.ts';
import type { Store } from './store.ts';

describe('event log', () => {
  let close: () => Promise<void>;
  let store: Store;
  let events: EventLog;

  before(async () => {
    ({ store, close } = await freshStore(eventMigrations));
    events = new EventLog(store);
  });
  after(() => close());

  test('reads appended events in order with a cursor, filtered by type and subject', async () => {
    await store.tx((q) =>
      events.append(q, [
        { type: 'catalog.entity.added', subject: 'component:default/a', payload: { n: 1 } },
        { type: 'catalog.entity.changed', subject: 'component:default/a' },
        { type: 'catalog.entity.added', subject: 'component:default/b' },
      ]),
    );
    const first = await events.read({ limit: 2 });
    assert.deepEqual(first.items.map((e) => e.type), ['catalog.entity.added', 'catalog.entity.changed']);
    assert.deepEqual(first.items[0].payload, { n: 1 });
    const second = await events.read({ after: first.nextCursor });
    assert.deepEqual(second.items.map((e) => e.subject), ['component:default/b']);
    const empty = await events.read({ after: second.nextCursor });
    assert.equal(empty.items.length, 0);
    assert.equal(empty.nextCursor, second.nextCursor, 'an empty page keeps the cursor where it was');
    const added = await events.read({ types: ['catalog.entity.added'] });
    assert.equal(added.items.length, 2);
    const ofA = await events.read({ subject: 'component:default/a' });
    assert.equal(ofA.items.length, 2);
  });

  test('an event rolled back with its transaction never appears', async () => {
    await assert.rejects(
      store.tx(async (q) => {
        await events.append(q, [{ type: 'catalog.entity.removed', subject: 'component:default/ghost' }]);
        throw new Error('abort');
      }),
    );
    const page = await events.read({ subject: 'component:default/ghost' });
    assert.equal(page.items.length, 0);
  });

  test('a reader following the cursor never skips an event that commits late', async () => {
    const seen: string[] = [];
    let cursor = (await events.read({ limit: 1000 })).nextCursor;
    let done = false;
    const reader = (async () => {
      while (!done) {
        const page = await events.read({ after: cursor, subject: undefined });
        seen.push(...page.items.map((e) => e.subject));
        cursor = page.nextCursor;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    // A slow writer appends first and commits last; quick writers run beside it.
    const slow = store.tx(async (q) => {
      await events.append(q, [{ type: 'catalog.entity.added', subject: 'slow' }]);
      await new Promise((r) => setTimeout(r, 200));
    });
    await new Promise((r) => setTimeout(r, 20));
    const quick = Array.from({ length: 5 }, (_, i) => store.tx((q) => events.append(q, [{ type: 'catalog.entity.added', subject: `quick-${i}` }])));
    await Promise.all([slow, ...quick]);
    await new Promise((r) => setTimeout(r, 50));
    done = true;
    await reader;
    const last = await events.read({ after: cursor });
    seen.push(...last.items.map((e) => e.subject));
    assert.deepEqual([...seen].sort(), ['quick-0', 'quick-1', 'quick-2', 'quick-3', 'quick-4', 'slow']);
  });

  test('nextEvents: events of the types asked for, and a cursor that passes the others', async () => {
    const start = (await nextEvents(store, 0, ['%'], 100_000)).cursor;
    await store.tx((q) =>
      events.append(q, [
        { type: 'catalog.entity.added', subject: 'a' },
        { type: 'docs.built', subject: 'a' },
        { type: 'catalog.entity.changed', subject: 'b' },
        { type: 'git.pushed', subject: 'git:acme/x' },
      ]),
    );
    const first = await nextEvents(store, start, ['catalog.entity.%'], 1);
    assert.deepEqual(first.events.map((e) => [e.type, e.subject]), [['catalog.entity.added', 'a']], 'one at a time');
    assert.equal(first.cursor, first.events[0].id, 'the cursor stops at the last one returned');
    const second = await nextEvents(store, first.cursor, ['catalog.entity.%'], 10);
    assert.deepEqual(second.events.map((e) => e.subject), ['b']);
    const none = await nextEvents(store, second.cursor, ['catalog.entity.%'], 10);
    assert.deepEqual(none.events, [], 'nothing more of those types');
    assert.ok(none.cursor > second.cursor, 'and the cursor passes the git.pushed that is not asked for');
    assert.equal((await nextEvents(store, none.cursor, ['catalog.entity.%'], 10)).cursor, none.cursor, 'an empty log after the cursor keeps it');
  });

  test('nextEvents never passes over an event that writers commit while a reader reads', async () => {
    const types = ['catalog.entity.%'];
    let cursor = (await nextEvents(store, 0, ['%'], 100_000)).cursor;
    const wanted: string[] = [];
    const seen: string[] = [];
    let done = false;
    const reader = (async () => {
      while (!done) {
        const batch = await nextEvents(store, cursor, types, 50);
        seen.push(...batch.events.map((e) => e.subject));
        cursor = batch.cursor;
      }
    })();
    // Writers of other types keep the newest id moving while the wanted ones commit.
    await Promise.all(
      Array.from({ length: 4 }, (_, w) =>
        (async () => {
          for (let i = 0; i < 40; i++) {
            const subject = `w${w}-${i}`;
            if (i % 3 === 0) wanted.push(subject);
            await store.tx((q) => events.append(q, [{ type: i % 3 === 0 ? 'catalog.entity.added' : 'docs.built', subject }]));
          }
        })(),
      ),
    );
    done = true;
    await reader;
    seen.push(...(await nextEvents(store, cursor, types, 10_000)).events.map((e) => e.subject));
    assert.deepEqual([...seen].sort(), [...wanted].sort(), 'every wanted event read once');
  });

  test('a malformed cursor is refused with a stable code', async () => {
    await assert.rejects(events.read({ after: 'not-a-cursor' }), (e: any) => e.code === 'INVALID_CURSOR' && e.status === 400);
  });
});
