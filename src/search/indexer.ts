import type { Logger } from 'pino';
import { CoalescedRunner } from '../core/coalesce.ts';
import { nextEvents, type EventLog } from '../core/events.ts';
import type { Queryable, Store } from '../core/store.ts';
import { collateEntities } from './catalog-collator.ts';
import { bumpGeneration, lockSearchWrites } from './service.ts';

const INDEXER = 'catalog';
// Other replicas' changes arrive through the event log; this replica's are announced at once.
// A safety net only: every append NOTIFYs, and the log's listeners wake at once (EventLog).
const POLL_MS = 5000;
const BATCH = 2000;

/**
 * Keeps the search index current from the event log: every catalog change is re-collated
 * within a second, on whichever replica reads it first. A missing index is built at start.
 */
export class SearchIndexer {
  private timer: NodeJS.Timeout | undefined;
  private readonly runner = new CoalescedRunner(
    () => this.catchUp(),
    (e) => this.log.error({ err: e }, 'search indexing failed; retrying on the next change'),
  );
  private unsubscribe: (() => void) | undefined;
  private readonly collators: ((q: Queryable) => Promise<number>)[] = [];

  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const [state] = await this.store.query<{ rebuilt_at: Date | null }>('select rebuilt_at from search_state where indexer = $1', [INDEXER]);
    if (!state?.rebuilt_at) await this.reindex();
    this.unsubscribe = this.events.on('*', () => this.kick());
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.runner.idle();
  }

  /** Another source of documents (docs pages), rewritten whole by a reindex. */
  addCollator(collate: (q: Queryable) => Promise<number>): void {
    this.collators.push(collate);
  }

  /** Rebuilds the whole index from the catalog (`pave search reindex`). */
  async reindex(): Promise<{ documents: number; ms: number }> {
    const t0 = performance.now();
    const documents = await this.store.tx(async (q) => {
      // The indexer's state row first, then the write lock: the same order as catchUp takes them.
      await q.query(`insert into search_state (indexer) values ($1) on conflict (indexer) do nothing`, [INDEXER]);
      await q.query('select 1 from search_state where indexer = $1 for update', [INDEXER]);
      await lockSearchWrites(q);
      // The cursor moves to the newest event first: changes committed meanwhile are read again.
      const [last] = await q.query<{ id: number | null }>('select max(id)::int8 as id from pave_events');
      let n = await collateEntities(q);
      for (const collate of this.collators) n += await collate(q);
      await q.query(
        `insert into search_state (indexer, event_cursor, rebuilt_at) values ($1, $2, now())
         on conflict (indexer) do update set event_cursor = excluded.event_cursor, rebuilt_at = now()`,
        [INDEXER, last?.id ?? 0],
      );
      await bumpGeneration(q, INDEXER);
      return n;
    });
    const ms = performance.now() - t0;
    this.log.info({ documents, ms: Math.round(ms) }, 'search index rebuilt');
    return { documents, ms };
  }

  /** Reads what changed since the last time; overlapping calls coalesce. */
  kick(): Promise<void> {
    return this.runner.kick();
  }

  /** One batch of events; true when there may be more. */
  private async catchUp(): Promise<boolean> {
    return this.store.tx(async (q) => {
      // One replica at a time moves the cursor; the others skip this round.
      const [state] = await q.query<{ event_cursor: number }>('select event_cursor from search_state where indexer = $1 for update skip locked', [INDEXER]);
      if (!state) return false;
      const { events: rows, cursor } = await nextEvents(q, Number(state.event_cursor), ['catalog.entity.%'], BATCH);
      if (rows.length) {
        await lockSearchWrites(q);
        await collateEntities(q, [...new Set(rows.map((r) => r.subject.toLowerCase()))]);
        await bumpGeneration(q, INDEXER);
      }
      if (cursor !== Number(state.event_cursor)) await q.query('update search_state set event_cursor = $2 where indexer = $1', [INDEXER, cursor]);
      return rows.length === BATCH;
    });
  }
}
