/**
 * Runs the synchronous `work` on every item, giving the event loop a turn after every `perTurn`
 * items.
 *
 * For many small files this beats the asynchronous calls by far: each file operation takes some
 * 20 µs when done at once and some 70 µs more when sent to libuv's thread pool and back (measured
 * on the 2-core machines Pave is tested on), while the turns keep the server answering during a
 * large copy.
 */
export async function inTurns<T>(items: Iterable<T>, work: (item: T) => void, perTurn = 32): Promise<void> {
  let done = 0;
  for (const item of items) {
    if (done > 0 && done % perTurn === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    work(item);
    done += 1;
  }
}
