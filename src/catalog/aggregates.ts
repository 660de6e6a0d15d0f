import type { Store } from '../core/store.ts';

/**
 * Remembers aggregates (facet counts, totals) per catalog version. Every catalog change appends
 * an event in its own transaction, so the newest event id names the catalog's state: a cached
 * value is used only while that id is unchanged, on this replica or any other.
 */
export class AggregateCache {
  private readonly entries = new Map<string, { version: number; value: unknown }>();

  constructor(
    private readonly store: Store,
    private readonly maxEntries = 500,
  ) {}

  async get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const [row] = await this.store.query<{ v: number }>('select coalesce(max(id), 0)::bigint as v from pave_events');
    const version = Number(row.v);
    const hit = this.entries.get(key);
    if (hit && hit.version === version) {
      // Map order is insertion order: re-inserting keeps recently used entries last.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value as T;
    }
    const value = await compute();
    this.entries.delete(key);
    this.entries.set(key, { version, value });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
