import type { Logger } from 'pino';
import { badInput, errorMessage, PaveError } from '../core/errors.ts';
import type { Queryable, Store } from '../core/store.ts';
import { ChainWalk, verifyLines, type ChainStart, type VerifyResult } from './chain.ts';
import { ACTOR_TYPES, AUTH_METHODS, GENESIS_HASH, OUTCOMES, entryHash, type AuditEntry, type AuditInput } from './entry.ts';
import { scrubDetails, scrubPath, scrubString } from './scrub.ts';

/** Filters shared by `query` and `export`. */
export interface AuditFilters {
  /** Exact actor ref, e.g. `user:default/jane`. */
  actor?: string;
  /** Exact action, or a prefix when it ends with `*` (`catalog.*`). */
  action?: string;
  outcome?: string;
  target?: string;
  /** Entries at or after this time (a Date or an ISO 8601 string). */
  from?: Date | string;
  /** Entries at or before this time. */
  to?: Date | string;
}

export interface AuditQuery extends AuditFilters {
  /** The `nextCursor` of the page before. */
  after?: string;
  /** 1 to 1000, default 100. */
  limit?: number;
}

export interface AuditPage {
  /** Newest first. */
  items: AuditEntry[];
  /** Set when there are older entries: pass it back as `after`. */
  nextCursor?: string;
}

export interface PruneResult {
  deleted: number;
  /** The last pruned entry, from which verification now starts. */
  anchor?: { id: number; hash: string };
}

interface Row {
  id: number | string;
  at: Date | string;
  actor: string;
  actor_type: AuditEntry['actorType'];
  auth_method: AuditEntry['authMethod'];
  token_id: string | null;
  action: string;
  target: string | null;
  outcome: AuditEntry['outcome'];
  status: number | null;
  source_ip: string | null;
  request_id: string | null;
  method: string | null;
  path: string | null;
  details: Record<string, unknown> | string | null;
  prev_hash: string;
  hash: string;
}

type Prepared = Omit<AuditEntry, 'id' | 'prevHash' | 'hash'>;

interface Pending {
  entry: Prepared;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface ParsedFilters {
  actor?: string;
  action?: string;
  actionPrefix?: string;
  outcome?: string;
  target?: string;
  from?: string;
  to?: string;
}

// Names the lock that orders appends (and pruning) across every Pave process on one database.
const APPEND_LOCK = 7_007_200;
// Entries written by one transaction at most; more wait for the next one.
const MAX_BATCH = 500;
// Rows read per round trip by export, verify and prune.
const PAGE = 1000;
const COLUMNS = 'id, at, actor, actor_type, auth_method, token_id, action, target, outcome, status, source_ip, request_id, method, path, details, prev_hash, hash';
const RECORDSET = `id bigint, at timestamptz, actor text, actor_type text, auth_method text, token_id text, action text, target text, outcome text,
  status int, source_ip text, request_id text, method text, path text, details jsonb, prev_hash text, hash text`;

/**
 * The audit log: who did what to which target, when, from where and with what outcome. Entries are
 * append-only (a database trigger refuses changes) and hash-chained, so `verify` detects an entry
 * that was altered, removed or reordered behind Pave's back. Writes are batched: entries recorded
 * while a write is in flight go together in the next transaction.
 */
export class AuditLog {
  /** Verifies an exported JSON-lines file offline (see `verifyLines`). */
  static readonly verifyLines = verifyLines;

  private readonly log: Logger | undefined;
  private pending: Pending[] = [];
  private writing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    opts: { log?: Logger } = {},
  ) {
    this.log = opts.log;
  }

  /**
   * Appends one entry; resolves once it is committed. Secrets in `details` (by key) and Pave
   * tokens anywhere are replaced by `[redacted]` first. Rejects when the entry is invalid or the
   * write failed: a caller that does not wait must still catch.
   */
  record(input: AuditInput): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('The audit log is stopped: entries can no longer be recorded'));
    let entry: Prepared;
    try {
      entry = prepare(input);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  /** Resolves when every entry recorded so far is written (or failed). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Refuses new entries and writes the pending ones: call before closing the store. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.flush();
  }

  /** Entries newest first, filtered, a page at a time. */
  async query(q: AuditQuery = {}): Promise<AuditPage> {
    const filters = parseFilters(q);
    const limit = Math.min(Math.max(Math.trunc(Number.isFinite(q.limit) ? q.limit! : 100), 1), 1000);
    const before = q.after ? decodeCursor(q.after) : undefined;
    const { sql, params } = whereOf(filters, before === undefined ? [] : [['id < ?', before]]);
    params.push(limit + 1);
    const rows = await this.store.query<Row>(`select ${COLUMNS} from audit_log ${sql} order by id desc limit $${params.length}`, params);
    const items = rows.slice(0, limit).map(toEntry);
    return rows.length > limit ? { items, nextCursor: encodeCursor(items[items.length - 1].id) } : { items };
  }

  /**
   * The matching entries oldest first, one JSON line each (no trailing newline), with their
   * hashes. Bad filters throw here, before the first line is read. An unfiltered export verifies
   * offline with `verifyLines`.
   */
  export(filters: AuditFilters = {}): AsyncIterable<string> {
    const parsed = parseFilters(filters);
    const store = this.store;
    return {
      async *[Symbol.asyncIterator]() {
        const [top] = await store.query<{ id: number | null }>('select max(id) as id from audit_log');
        if (top?.id === null || top?.id === undefined) return;
        let after = 0;
        for (;;) {
          const { sql, params } = whereOf(parsed, [
            ['id > ?', after],
            ['id <= ?', Number(top.id)],
          ]);
          const rows = await store.query<Row>(`select ${COLUMNS} from audit_log ${sql} order by id limit ${PAGE}`, params);
          for (const row of rows) yield JSON.stringify(toEntry(row));
          if (rows.length < PAGE) return;
          after = Number(rows[rows.length - 1].id);
        }
      },
    };
  }

  /**
   * Recomputes the whole chain from the retention anchor (or the genesis) and reports the first
   * entry that was altered, does not follow the one before it, or is out of order. Removing the
   * newest entries leaves a valid chain: compare `lastHash` with one kept elsewhere to catch that.
   */
  async verify(): Promise<VerifyResult> {
    // Pruning while we walk moves the start; walking again from the new anchor settles it.
    for (let attempt = 0; ; attempt++) {
      const start = await this.chainStart(this.store);
      const result = await this.walk(this.store, start);
      if (result.ok || attempt >= 2) return result;
      const now = await this.chainStart(this.store);
      if (now.anchorId === start.anchorId) return result;
    }
  }

  /**
   * Deletes the entries older than `retentionDays` (the oldest stretch of the chain up to the first
   * entry that is still young enough) and remembers the last one deleted as the anchor verification
   * starts from. Refuses, deleting nothing, when the stretch to delete does not verify: pruning must
   * not erase the evidence of tampering.
   */
  async prune(retentionDays: number): Promise<PruneResult> {
    if (!Number.isFinite(retentionDays) || retentionDays <= 0) {
      throw badInput('INVALID_RETENTION', `audit.retentionDays must be a number of days above 0, got ${retentionDays}`, { retentionDays });
    }
    return this.store.tx(async (q) => {
      await q.query('select pg_advisory_xact_lock($1)', [APPEND_LOCK]);
      await q.exec(`set local pave.audit_prune = 'on'`);
      const [keep] = await q.query<{ id: number | null }>(
        `select min(id) as id from audit_log where at >= now() - $1::double precision * interval '1 day'`,
        [retentionDays],
      );
      const firstKept = keep?.id === null || keep?.id === undefined ? undefined : Number(keep.id);
      const [last] = await q.query<{ id: number; hash: string }>(
        `select id, hash from audit_log ${firstKept === undefined ? '' : 'where id < $1'} order by id desc limit 1`,
        firstKept === undefined ? [] : [firstKept],
      );
      if (!last) return { deleted: 0 };
      const lastId = Number(last.id);
      const check = await this.walk(q, await this.chainStart(q), lastId);
      if (!check.ok) {
        throw new PaveError('AUDIT_CHAIN_BROKEN', 409, `Retention pruning refused: the entries to delete do not verify (${check.brokenAt!.reason})`, {
          brokenAt: check.brokenAt,
        });
      }
      const [{ n }] = await q.query<{ n: number }>(`with d as (delete from audit_log where id <= $1 returning 1) select count(*)::int as n from d`, [lastId]);
      await q.query(
        `insert into audit_anchor (singleton, last_pruned_id, last_pruned_hash, pruned_at) values (true, $1, $2, now())
         on conflict (singleton) do update set last_pruned_id = excluded.last_pruned_id, last_pruned_hash = excluded.last_pruned_hash, pruned_at = now()`,
        [lastId, last.hash],
      );
      this.log?.info({ deleted: n, anchorId: lastId, retentionDays }, 'audit log pruned');
      return { deleted: n, anchor: { id: lastId, hash: last.hash } };
    });
  }

  private async chainStart(q: Queryable): Promise<ChainStart> {
    const [anchor] = await q.query<{ last_pruned_id: number; last_pruned_hash: string }>('select last_pruned_id, last_pruned_hash from audit_anchor');
    return anchor ? { hash: anchor.last_pruned_hash, anchorId: Number(anchor.last_pruned_id) } : { hash: GENESIS_HASH };
  }

  /** Walks the chain in pages, up to `untilId` when given, stopping at the first problem. */
  private async walk(q: Queryable, start: ChainStart, untilId?: number): Promise<VerifyResult> {
    const walk = new ChainWalk(start);
    let after: number | undefined;
    for (;;) {
      const conds = [after === undefined ? '' : `id > ${after}`, untilId === undefined ? '' : `id <= ${untilId}`].filter(Boolean);
      const rows = await q.query<Row>(`select ${COLUMNS} from audit_log ${conds.length ? `where ${conds.join(' and ')}` : ''} order by id limit ${PAGE}`);
      for (const row of rows) {
        const problem = walk.step(toEntry(row));
        if (problem) return walk.result(problem);
      }
      if (rows.length < PAGE) return walk.result();
      after = Number(rows[rows.length - 1].id);
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_BATCH);
        try {
          await this.write(batch.map((p) => p.entry));
          for (const p of batch) p.resolve();
        } catch (e) {
          this.log?.error({ err: errorMessage(e), entries: batch.length }, 'audit log: writing entries failed');
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  /**
   * One transaction under the append lock: read the newest hash, take ids from the sequence,
   * chain the entries and insert them. The lock makes id order, commit order and chain order one.
   */
  private async write(entries: Prepared[]): Promise<void> {
    await this.store.tx(async (q) => {
      await q.query('select pg_advisory_xact_lock($1)', [APPEND_LOCK]);
      const ids = (await q.query<{ id: number }>(`select nextval('audit_log_id_seq') as id from generate_series(1, $1::int)`, [entries.length]))
        .map((r) => Number(r.id))
        .sort((a, b) => a - b);
      const [head] = await q.query<{ hash: string }>(
        `select coalesce((select hash from audit_log order by id desc limit 1), (select last_pruned_hash from audit_anchor), $1) as hash`,
        [GENESIS_HASH],
      );
      let prevHash = head.hash;
      const rows = entries.map((e, i) => {
        const entry = { ...e, id: ids[i] };
        const hash = entryHash(prevHash, entry);
        const row = {
          id: entry.id,
          at: e.at,
          actor: e.actor,
          actor_type: e.actorType,
          auth_method: e.authMethod,
          token_id: e.tokenId,
          action: e.action,
          target: e.target,
          outcome: e.outcome,
          status: e.status,
          source_ip: e.sourceIp,
          request_id: e.requestId,
          method: e.method,
          path: e.path,
          details: e.details,
          prev_hash: prevHash,
          hash,
        };
        prevHash = hash;
        return row;
      });
      await q.query(`insert into audit_log (${COLUMNS}) select ${COLUMNS} from jsonb_to_recordset($1::jsonb) as x(${RECORDSET})`, [JSON.stringify(rows)]);
    });
  }
}

function prepare(input: AuditInput): Prepared {
  const fail = (field: string, expected: string) => {
    const value = (input as unknown as Record<string, unknown>)?.[field];
    return badInput('AUDIT_ENTRY_INVALID', `Audit entry field "${field}" must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`, { field, value });
  };
  if (typeof input?.actor !== 'string' || input.actor === '') throw fail('actor', 'a non-empty string');
  if (typeof input.action !== 'string' || input.action === '') throw fail('action', 'a non-empty string');
  if (!(ACTOR_TYPES as readonly string[]).includes(input.actorType)) throw fail('actorType', `one of ${ACTOR_TYPES.join(', ')}`);
  if (!(AUTH_METHODS as readonly string[]).includes(input.authMethod)) throw fail('authMethod', `one of ${AUTH_METHODS.join(', ')}`);
  if (!(OUTCOMES as readonly string[]).includes(input.outcome)) throw fail('outcome', `one of ${OUTCOMES.join(', ')}`);
  if (input.status !== undefined && input.status !== null && !Number.isInteger(input.status)) throw fail('status', 'a whole number');
  const at = input.at ?? new Date();
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw fail('at', 'a valid Date');
  const text = (v: unknown) => (typeof v === 'string' ? scrubString(v) : v === undefined || v === null ? null : scrubString(String(v)));
  // JSON round trip: what is hashed is exactly what jsonb stores and gives back.
  const details = JSON.parse(JSON.stringify(scrubDetails(input.details)));
  return {
    at: at.toISOString(),
    actor: scrubString(input.actor),
    actorType: input.actorType,
    authMethod: input.authMethod,
    tokenId: text(input.tokenId),
    action: scrubString(input.action),
    target: text(input.target),
    outcome: input.outcome,
    status: input.status ?? null,
    sourceIp: text(input.sourceIp),
    requestId: text(input.requestId),
    method: text(input.method),
    path: typeof input.path === 'string' ? scrubPath(input.path) : null,
    details,
  };
}

function toEntry(r: Row): AuditEntry {
  return {
    id: Number(r.id),
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    actorType: r.actor_type,
    authMethod: r.auth_method,
    tokenId: r.token_id,
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    status: r.status === null ? null : Number(r.status),
    sourceIp: r.source_ip,
    requestId: r.request_id,
    method: r.method,
    path: r.path,
    details: typeof r.details === 'string' ? JSON.parse(r.details) : (r.details ?? {}),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

function parseFilters(f: AuditFilters): ParsedFilters {
  const out: ParsedFilters = {};
  const given = (v: unknown): v is string => typeof v === 'string' && v !== '';
  if (given(f.actor)) out.actor = f.actor;
  if (given(f.target)) out.target = f.target;
  if (given(f.action)) {
    if (f.action.endsWith('*')) out.actionPrefix = f.action.slice(0, -1);
    else out.action = f.action;
  }
  if (given(f.outcome)) {
    if (!(OUTCOMES as readonly string[]).includes(f.outcome)) {
      throw badInput('INVALID_OUTCOME', `outcome "${f.outcome}" is not one of ${OUTCOMES.join(', ')}`, { outcome: f.outcome, allowed: OUTCOMES });
    }
    out.outcome = f.outcome;
  }
  const from = dateOf(f.from, 'from');
  const to = dateOf(f.to, 'to');
  if (from && to && from > to) {
    throw badInput('INVALID_DATE_RANGE', `from (${from.toISOString()}) is after to (${to.toISOString()}): swap them`, { from: from.toISOString(), to: to.toISOString() });
  }
  if (from) out.from = from.toISOString();
  if (to) out.to = to.toISOString();
  return out;
}

function dateOf(v: Date | string | undefined, name: string): Date | undefined {
  if (v === undefined || v === '') return undefined;
  const d = v instanceof Date ? v : typeof v === 'string' ? new Date(v) : new Date(NaN);
  if (Number.isNaN(d.getTime())) {
    throw badInput('INVALID_DATE', `${name} "${String(v)}" is not a date: use ISO 8601, e.g. 2025-01-31 or 2025-01-31T12:00:00Z`, { [name]: String(v) });
  }
  return d;
}

function whereOf(f: ParsedFilters, extra: [string, unknown][] = []): { sql: string; params: unknown[] } {
  const conds: string[] = [];
  const params: unknown[] = [];
  const add = (cond: string, value: unknown) => {
    params.push(value);
    conds.push(cond.replace('?', `$${params.length}`));
  };
  if (f.actor !== undefined) add('actor = ?', f.actor);
  if (f.action !== undefined) add('action = ?', f.action);
  if (f.actionPrefix !== undefined) add(`action like ? escape '\\'`, `${f.actionPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  if (f.outcome !== undefined) add('outcome = ?', f.outcome);
  if (f.target !== undefined) add('target = ?', f.target);
  if (f.from !== undefined) add('at >= ?::timestamptz', f.from);
  if (f.to !== undefined) add('at <= ?::timestamptz', f.to);
  for (const [cond, value] of extra) add(cond, value);
  return { sql: conds.length ? `where ${conds.join(' and ')}` : '', params };
}

function encodeCursor(beforeId: number): string {
  return Buffer.from(JSON.stringify({ before: beforeId })).toString('base64url');
}

function decodeCursor(cursor: string): number {
  try {
    const { before } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Number.isSafeInteger(before) && before > 0) return before;
  } catch {
    // reported below
  }
  throw badInput('INVALID_CURSOR', `The cursor "${cursor}" is not one Pave handed out: pass back nextCursor unchanged`, { cursor });
}
