import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import pg from 'pg';

/** Something SQL can be sent to: the store itself or an open transaction. */
export interface Queryable {
  query<T = Record<string, any>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * The store: PostgreSQL dialect only. The embedded default is PGlite in a data folder;
 * with a DATABASE_URL it is a real PostgreSQL. Callers cannot tell them apart.
 */
export interface Store extends Queryable {
  readonly backend: 'pglite' | 'postgres';
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `fn` for every NOTIFY on `channel` (a lower-case name), from this process or any other
   * on the same database, once the notifying transaction commits. After a lost connection to
   * PostgreSQL is made again, `fn` is called once with no payload: notifications may have been
   * missed. Returns the unsubscribe.
   */
  listen(channel: string, fn: (payload: string | undefined) => void): Promise<() => void>;
  close(): Promise<void>;
}

// int8 (bigserial ids, counts) arrive as strings from node-postgres; numbers are what the
// code expects and ids stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

class PostgresStore implements Store {
  readonly backend = 'postgres' as const;
  private readonly listeners = new Map<string, Set<(payload: string | undefined) => void>>();
  private listener: Promise<pg.Client> | undefined;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly connectionString: string,
  ) {}

  async listen(channel: string, fn: (payload: string | undefined) => void): Promise<() => void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`Invalid channel name "${channel}"`);
    let fns = this.listeners.get(channel);
    const first = !fns;
    if (!fns) this.listeners.set(channel, (fns = new Set()));
    fns.add(fn);
    if (first) await this.onListener((client) => client.query(`listen ${channel}`));
    return () => void fns.delete(fn);
  }

  /** Statements on the listening connection, one at a time (a pg client takes one query at a time). */
  private listenerQueue: Promise<unknown> = Promise.resolve();
  private onListener(fn: (client: pg.Client) => Promise<unknown>): Promise<void> {
    const next = this.listenerQueue.then(async () => void (await fn(await this.listenerClient())));
    this.listenerQueue = next.catch(() => undefined);
    return next;
  }

  /** One connection per process holds every LISTEN; it is made again when it is lost. */
  private listenerClient(): Promise<pg.Client> {
    this.listener ??= (async () => {
      const client = new pg.Client({ connectionString: this.connectionString });
      client.on('notification', (n) => {
        for (const fn of this.listeners.get(n.channel) ?? []) fn(n.payload || undefined);
      });
      client.on('error', () => undefined);
      client.on('end', () => {
        this.listener = undefined;
        if (!this.closed) void this.relisten(1);
      });
      await client.connect();
      return client;
    })();
    this.listener.catch(() => (this.listener = undefined));
    return this.listener;
  }

  private async relisten(attempt: number): Promise<void> {
    await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 10_000)).unref());
    if (this.closed) return;
    try {
      await this.onListener(async (client) => {
        for (const channel of this.listeners.keys()) await client.query(`listen ${channel}`);
      });
      for (const fns of this.listeners.values()) for (const fn of fns) fn(undefined);
    } catch {
      void this.relisten(attempt + 1);
    }
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(sql, params as any[])).rows as T[];
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const q: Queryable = {
      query: async <R>(sql: string, params: unknown[] = []) => (await client.query(sql, params as any[])).rows as R[],
      exec: async (sql: string) => void (await client.query(sql)),
    };
    try {
      await client.query('BEGIN');
      const result = await fn(q);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.then((c) => c.end()).catch(() => undefined);
    await this.pool.end();
  }
}

class PgliteStore implements Store {
  readonly backend = 'pglite' as const;
  constructor(private readonly db: PGlite) {}

  async listen(channel: string, fn: (payload: string | undefined) => void): Promise<() => void> {
    const unlisten = await this.db.listen(channel, (payload) => fn(payload || undefined));
    return () => void unlisten().catch(() => undefined);
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query<T>(sql, params as any[])).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) =>
      fn({
        query: async <R>(sql: string, params: unknown[] = []) => (await t.query<R>(sql, params as any[])).rows,
        exec: async (sql: string) => void (await t.exec(sql)),
      }),
    );
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}

export interface StoreOptions {
  /** A PostgreSQL connection string; when absent the embedded store is used. */
  databaseUrl?: string;
  /** Folder of the embedded store; `memory://` keeps it in memory (tests). */
  dataDir: string;
  poolSize?: number;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.databaseUrl) {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10 });
    // An idle client that loses its server must not crash the process.
    pool.on('error', () => undefined);
    const store = new PostgresStore(pool, opts.databaseUrl);
    await store.query('select 1');
    return store;
  }
  const dir = opts.dataDir === 'memory://' ? undefined : path.join(opts.dataDir, 'pg');
  if (dir) fs.mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir ?? 'memory://', { extensions: { pg_trgm } });
  return new PgliteStore(db);
}
