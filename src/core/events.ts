import { EventEmitter } from 'node:events';
import { badInput } from './errors.ts';
import type { Queryable, Store } from './store.ts';

/** Every type of event Pave appends. New capabilities add theirs here. */
export type EventType =
  | 'catalog.entity.added'
  | 'catalog.entity.changed'
  | 'catalog.entity.removed'
  | 'catalog.entity.refreshed'
  | 'docs.built'
  | 'docs.failed'
  | 'git.repo.created'
  | 'git.repo.deleted'
  | 'git.pushed'
  | 'git.change.opened'
  | 'git.change.updated'
  | 'git.change.merged'
  | 'git.change.closed'
  | 'catalog.location.added'
  | 'catalog.location.removed'
  | 'catalog.location.failed'
  | 'catalog.location.recovered'
  | 'job.failed';

export interface NewEvent {
  type: EventType;
  /** What the event is about, e.g. an entity ref or a location id. */
  subject: string;
  payload?: Record<string, unknown>;
}

export interface PaveEvent extends Required<NewEvent> {
  id: number;
  createdAt: string;
}

export interface EventPage {
  items: PaveEvent[];
  /** Pass back as `after` to read on; it is stable even when nothing new arrived. */
  nextCursor: string;
}

export const eventMigrations = [
  {
    id: '0001-core-events',
    sql: `
      create table pave_events (
        id bigserial primary key,
        type text not null,
        subject text not null,
        payload jsonb not null default '{}',
        created_at timestamptz not null default now()
      );
      create index pave_events_type_id on pave_events (type, id);
      create index pave_events_subject_id on pave_events (subject, id);
    `,
  },
];

/** The NOTIFY channel of appends. */
const EVENTS_CHANNEL = 'pave_events';

// Names the lock that orders appends; any fixed number shared by every replica.
const APPEND_LOCK = 7_007_002;

/**
 * The append-only event log. Appends join the caller's transaction, so an event exists
 * exactly when the change it describes was committed.
 */
export class EventLog {
  private readonly local = new EventEmitter();
  private unlisten: (() => void) | undefined;

  constructor(private readonly store: Store) {
    this.local.setMaxListeners(100);
  }

  async append(q: Queryable, events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Appends take a lock held to commit, so ids are handed out in commit order: a reader that
    // has seen id N will never later find a smaller id committed behind it. Callers append last
    // in their transaction, which keeps the lock short.
    // The NOTIFY is delivered at commit, to every replica listening (see listenAcrossProcesses).
    await q.query(`select pg_advisory_xact_lock($1), pg_notify('${EVENTS_CHANNEL}', '')`, [APPEND_LOCK]);
    await q.query(
      `insert into pave_events (type, subject, payload)
       select type, subject, payload from jsonb_to_recordset($1::jsonb) as x(type text, subject text, payload jsonb)`,
      [JSON.stringify(events.map((e) => ({ ...e, payload: e.payload ?? {} })))],
    );
  }

  /**
   * Tells this process's listeners of events committed by any process on the same database, so
   * readers of the log (the search indexer, the docs builder) wake at once on every replica.
   */
  async listenAcrossProcesses(): Promise<void> {
    this.unlisten ??= await this.store.listen(EVENTS_CHANNEL, () => this.local.emit('*'));
  }

  stopListening(): void {
    this.unlisten?.();
    this.unlisten = undefined;
  }

  /** Tells in-process listeners that events were committed (call after the transaction). */
  notify(types: EventType[]): void {
    for (const t of new Set(types)) this.local.emit(t);
    this.local.emit('*');
  }

  on(type: EventType | '*', listener: () => void): () => void {
    this.local.on(type, listener);
    return () => this.local.off(type, listener);
  }

  /** Reads events after a cursor, oldest first. */
  async read(opts: { after?: string; types?: string[]; subject?: string; limit?: number }): Promise<EventPage> {
    const after = opts.after ? decodeCursor(opts.after) : 0;
    const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
    const rows = await this.store.query<{ id: number; type: string; subject: string; payload: any; created_at: Date }>(
      `select id, type, subject, payload, created_at from pave_events
       where id > $1
         and ($2::text[] is null or type = any($2::text[]))
         and ($3::text is null or subject = $3)
       order by id limit $4`,
      [after, opts.types?.length ? opts.types : null, opts.subject ?? null, limit],
    );
    const items = rows.map((r) => ({
      id: Number(r.id),
      type: r.type as EventType,
      subject: r.subject,
      payload: r.payload,
      createdAt: new Date(r.created_at).toISOString(),
    }));
    const last = items.length ? items[items.length - 1].id : after;
    return { items, nextCursor: encodeCursor(last) };
  }
}

/**
 * The next batch of events of some types after `cursor` (types as LIKE patterns, e.g.
 * `catalog.entity.%`), for a reader that keeps its own cursor, and where its cursor may move:
 * past the last event returned, or, when none is, past every event committed so far.
 *
 * One statement, so one snapshot: with the event asked for in one statement and the newest id in
 * another, an event committed between the two was passed over without being read.
 */
export async function nextEvents(q: Queryable, cursor: number, typePatterns: string[], limit: number): Promise<{ events: { id: number; type: string; subject: string }[]; cursor: number }> {
  const rows = await q.query<{ newest: number; id: number | null; type: string | null; subject: string | null }>(
    `select m.newest, e.id, e.type, e.subject
     from (select coalesce(max(id), $1)::int8 as newest from pave_events where id > $1) m
     left join lateral (
       select id, type, subject from pave_events where id > $1 and type like any($2::text[]) order by id limit $3
     ) e on true
     order by e.id`,
    [cursor, typePatterns, limit],
  );
  const events = rows.filter((r) => r.id !== null).map((r) => ({ id: Number(r.id), type: r.type!, subject: r.subject! }));
  return { events, cursor: events.length ? events[events.length - 1].id : Number(rows[0]?.newest ?? cursor) };
}

function encodeCursor(id: number): string {
  return Buffer.from(JSON.stringify({ id })).toString('base64url');
}

function decodeCursor(cursor: string): number {
  try {
    const { id } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Number.isInteger(id) && id >= 0) return id;
  } catch {
    // fall through to the error below
  }
  throw badInput('INVALID_CURSOR', `The cursor "${cursor}" is not one Pave handed out; pass back nextCursor unchanged`, { cursor });
}
