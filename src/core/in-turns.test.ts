import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inTurns } from './in-turns.ts';

test('inTurns does every item in order and lets the event loop run between batches', async () => {
  const done: number[] = [];
  let turnsTaken = 0;
  const tick = () => {
    turnsTaken += 1;
    if (done.length < 100) setImmediate(tick);
  };
  setImmediate(tick);
  await inTurns(
    Array.from({ length: 100 }, (_, i) => i),
    (i) => void done.push(i),
    10,
  );
  assert.deepEqual(done, Array.from({ length: 100 }, (_, i) => i), 'every item, in order');
  assert.ok(turnsTaken >= 9, `other callbacks ran between the batches (${turnsTaken} turns)`);
});

test('inTurns stops at the first item that throws', async () => {
  const done: number[] = [];
  await assert.rejects(
    inTurns([1, 2, 3, 4], (i) => {
      if (i === 3) throw new Error('three');
      done.push(i);
    }),
    /three/,
  );
  assert.deepEqual(done, [1, 2]);
});
