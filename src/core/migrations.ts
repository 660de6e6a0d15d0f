import type { Store } from './store.ts';

/** A forward-only schema change. Ids sort in the order they must run. */
export interface Migration {
  id: string;
  sql: string;
}

// Any fixed number shared by every Pave replica: it names the lock, nothing more.
const MIGRATION_LOCK = 7_007_001;

/**
 * Runs the migrations not yet applied, in id order, in one transaction that holds an advisory
 * lock, so replicas starting together apply each migration exactly once.
 */
export async function migrate(store: Store, migrations: Migration[]): Promise<string[]> {
  const sorted = [...migrations].sort((a, b) => a.id.localeCompare(b.id));
  const ids = new Set<string>();
  for (const m of sorted) {
    if (ids.has(m.id)) throw new Error(`Migration id ${m.id} is declared twice`);
    ids.add(m.id);
  }
  return store.tx(async (q) => {
    await q.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await q.exec(`create table if not exists pave_migrations (
      id text primary key,
      applied_at timestamptz not null default now()
    )`);
    const applied = new Set((await q.query<{ id: string }>('select id from pave_migrations')).map((r) => r.id));
    const ran: string[] = [];
    for (const m of sorted) {
      if (applied.has(m.id)) continue;
      await q.exec(m.sql);
      await q.query('insert into pave_migrations (id) values ($1)', [m.id]);
      ran.push(m.id);
    }
    return ran;
  });
}
