import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freshStore } from '../testing/db.ts';
import { EventLog, eventMigrations } from './events.ts';
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

  test('a malformed cursor is refused with a stable code', async () => {
    await assert.rejects(events.read({ after: 'not-a-cursor' }), (e: any) => e.code === 'INVALID_CURSOR' && e.status === 400);
  });
});
