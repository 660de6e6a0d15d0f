import type { Queryable, Store } from '../core/store.ts';
import { normalizeTerm, search, type SearchAnswer, type SearchRequest } from './query.ts';

const CACHE_ENTRIES = 1000;

const WRITE_LOCK = 7_007_004;

/**
 * Serializes writers of the index (the event-driven indexer, a reindex, docs builds): they upsert
 * and delete overlapping rows in different orders, which would otherwise deadlock. Take it after
 * any search_state row lock the transaction needs, never before.
 */
export async function lockSearchWrites(q: Queryable): Promise<void> {
  await q.query('select pg_advisory_xact_lock($1)', [WRITE_LOCK]);
}

/** Raises the index generation in the writer's transaction: cached answers older than it lapse. */
export async function bumpGeneration(q: Queryable, indexer: string): Promise<void> {
  await q.query(
    `insert into search_state (indexer, generation) values ($1, 1)
     on conflict (indexer) do update set generation = search_state.generation + 1`,
    [indexer],
  );
}

/**
 * Answers searches, remembering recent answers per index generation: the same question asked
 * again (a portal page re-rendered, a popular term) costs one small read of the generation,
 * which every replica shares through the database, so no replica serves a stale answer.
 */
export class SearchService {
  private readonly cache = new Map<string, SearchAnswer>();
  private generation = -1;

  constructor(private readonly store: Store) {}

  async query(req: SearchRequest): Promise<SearchAnswer> {
    const [row] = await this.store.query<{ g: string }>('select coalesce(sum(generation), 0)::text as g from search_state');
    const generation = Number(row.g);
    if (generation !== this.generation) {
      this.cache.clear();
      this.generation = generation;
    }
    const key = JSON.stringify([normalizeTerm(req.term), req.types ?? [], req.filters ?? {}, req.pageCursor ?? '', req.pageLimit ?? 0, !!req.facets, req.catalogHidden ?? false, req.catalogScope ?? null]);
    const hit = this.cache.get(key);
    if (hit) {
      // Map order is insertion order: re-inserting keeps the most recently used last.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const answer = await search(this.store, req);
    if (this.generation === generation) {
      this.cache.set(key, answer);
      if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    }
    return answer;
  }
}
