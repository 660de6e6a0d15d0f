import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { conflict, errorMessage, notFound } from './errors.ts';
import type { EventLog } from './events.ts';
import type { Migration } from './migrations.ts';
import type { Queryable, Store } from './store.ts';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface Job {
  id: number;
  kind: string;
  payload: Record<string, any>;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  runAt: string;
  lockedBy: string | null;
  lockedUntil: string | null;
  lastError: string | null;
  result: unknown;
  dedupeKey: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobContext {
  job: Job;
  /** Aborted when the process is shutting down and the grace period ran out. */
  signal: AbortSignal;
  log: Logger;
}

export type JobHandler = (payload: any, ctx: JobContext) => Promise<unknown>;

/** Thrown by a handler when retrying cannot help (bad input): the job fails at once. */
export class PermanentJobError extends Error {}

export interface EnqueueOptions {
  /** At most one queued job per key; enqueueing again moves it earlier instead of adding one. */
  dedupeKey?: string;
  runAt?: Date;
  maxAttempts?: number;
}

export const jobMigrations: Migration[] = [
  {
    id: '0002-core-jobs',
    sql: `
      create table pave_jobs (
        id bigserial primary key,
        kind text not null,
        payload jsonb not null default '{}',
        status text not null default 'queued' check (status in ('queued','running','succeeded','failed')),
        attempts int not null default 0,
        max_attempts int not null default 5,
        run_at timestamptz not null default now(),
        locked_by text,
        locked_until timestamptz,
        last_error text,
        result jsonb,
        dedupe_key text,
        created_at timestamptz not null default now(),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz not null default now()
      );
      create unique index pave_jobs_dedupe_queued on pave_jobs (dedupe_key) where status = 'queued';
      create index pave_jobs_dedupe on pave_jobs (dedupe_key) where status = 'running';
      create index pave_jobs_due on pave_jobs (run_at, id) where status in ('queued','running');
      create index pave_jobs_status on pave_jobs (status, id);
    `,
  },
];

interface JobRow {
  id: number;
  kind: string;
  payload: any;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_at: Date;
  locked_by: string | null;
  locked_until: Date | null;
  last_error: string | null;
  result: unknown;
  dedupe_key: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function toJob(r: JobRow): Job {
  return {
    id: Number(r.id),
    kind: r.kind,
    payload: r.payload,
    status: r.status,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    runAt: iso(r.run_at)!,
    lockedBy: r.locked_by,
    lockedUntil: iso(r.locked_until),
    lastError: r.last_error,
    result: r.result,
    dedupeKey: r.dedupe_key,
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  };
}

export interface JobQueueOptions {
  /** How long a claimed job stays ours without a heartbeat; a dead worker's jobs return after it. */
  leaseMs?: number;
  pollMs?: number;
  concurrency?: number;
  /** Backoff before retry n (1-based) is min(base * 2^(n-1), max), with jitter. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How long finished jobs are kept for inspection. */
  retainFinishedMs?: number;
}

/**
 * The durable job queue. Jobs live in the database; workers claim them with
 * `FOR UPDATE SKIP LOCKED` under a lease, so several Pave processes on one PostgreSQL share the
 * work and a job whose worker died is claimed again once its lease runs out.
 */
/** The NOTIFY channel of enqueued jobs. */
const JOBS_CHANNEL = 'pave_jobs';

export class JobQueue {
  readonly workerId = `${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly running = new Map<number, Promise<void>>();
  private readonly abort = new AbortController();
  private readonly opts: Required<JobQueueOptions>;
  private started = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private unlisten: (() => void) | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly log: Logger,
    opts: JobQueueOptions = {},
  ) {
    this.opts = {
      leaseMs: opts.leaseMs ?? 30_000,
      pollMs: opts.pollMs ?? 500,
      concurrency: opts.concurrency ?? 4,
      backoffBaseMs: opts.backoffBaseMs ?? 1_000,
      backoffMaxMs: opts.backoffMaxMs ?? 5 * 60_000,
      retainFinishedMs: opts.retainFinishedMs ?? 24 * 3600_000,
    };
  }

  register(kind: string, handler: JobHandler): void {
    if (this.handlers.has(kind)) throw new Error(`A handler for job kind ${kind} is registered twice`);
    this.handlers.set(kind, handler);
  }

  async enqueue(kind: string, payload: Record<string, unknown>, options: EnqueueOptions = {}, q: Queryable = this.store): Promise<number> {
    // The NOTIFY (delivered at commit) wakes the workers of every replica.
    const [row] = await q.query<{ id: number }>(
      `with queued as (
         insert into pave_jobs (kind, payload, dedupe_key, run_at, max_attempts)
         values ($1, $2::jsonb, $3, coalesce($4::timestamptz, now()), $5)
         on conflict (dedupe_key) where status = 'queued'
         do update set run_at = least(pave_jobs.run_at, excluded.run_at), payload = excluded.payload, updated_at = now()
         returning id)
       select id, pg_notify('${JOBS_CHANNEL}', '') from queued`,
      [kind, JSON.stringify(payload), options.dedupeKey ?? null, options.runAt?.toISOString() ?? null, options.maxAttempts ?? 5],
    );
    this.kick();
    return Number(row.id);
  }

  /** Makes the poll loop look for work now instead of at its next tick. */
  kick(): void {
    this.wake?.();
  }

  async get(id: number): Promise<Job> {
    const [row] = await this.store.query<JobRow>('select * from pave_jobs where id = $1', [id]);
    if (!row) throw notFound('JOB_NOT_FOUND', `No job has id ${id}`, { id });
    return toJob(row);
  }

  async list(filter: { status?: JobStatus; kind?: string; limit?: number; before?: number }): Promise<Job[]> {
    const rows = await this.store.query<JobRow>(
      `select * from pave_jobs
       where ($1::text is null or status = $1) and ($2::text is null or kind = $2) and ($3::bigint is null or id < $3)
       order by id desc limit $4`,
      [filter.status ?? null, filter.kind ?? null, filter.before ?? null, Math.min(filter.limit ?? 50, 500)],
    );
    return rows.map(toJob);
  }

  async counts(): Promise<Record<JobStatus, number>> {
    const rows = await this.store.query<{ status: JobStatus; n: number }>(
      'select status, count(*)::int as n from pave_jobs group by status',
    );
    const out: Record<JobStatus, number> = { queued: 0, running: 0, succeeded: 0, failed: 0 };
    for (const r of rows) out[r.status] = r.n;
    return out;
  }

  /** Puts a failed job back in the queue with a fresh set of attempts. */
  async retry(id: number): Promise<Job> {
    const rows = await this.store.query<JobRow>(
      `update pave_jobs set status = 'queued', attempts = 0, run_at = now(), finished_at = null, updated_at = now()
       where id = $1 and status = 'failed' returning *`,
      [id],
    );
    if (!rows[0]) {
      const job = await this.get(id);
      throw conflict('JOB_NOT_RETRYABLE', `Job ${id} is ${job.status}; only a failed job can be retried`, { id, status: job.status });
    }
    this.kick();
    return toJob(rows[0]);
  }

  /** Resolves when the job has finished (succeeded or failed for good), or rejects on timeout. */
  async waitFor(id: number, timeoutMs = 30_000): Promise<Job> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.get(id);
      if (job.status === 'succeeded' || job.status === 'failed') return job;
      if (Date.now() > deadline) throw new Error(`Job ${id} did not finish within ${timeoutMs} ms (status ${job.status})`);
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiters.delete(done);
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(done, 100);
        this.waiters.add(done);
      });
    }
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.store.backend === 'pglite') {
      // The embedded store belongs to this one process: a job left running was ours, and its
      // worker is gone. Make it claimable at once instead of waiting out the lease.
      await this.store.query(`update pave_jobs set locked_until = now() - interval '1 second' where status = 'running'`);
    }
    this.heartbeat = setInterval(() => void this.renewLeases(), Math.max(this.opts.leaseMs / 3, 50));
    this.heartbeat.unref();
    this.unlisten = await this.store.listen(JOBS_CHANNEL, () => this.kick());
    void this.loop();
  }

  /**
   * Stops claiming work and waits for running jobs to finish. After `graceMs` they are told to
   * abort; a job that still has not finished keeps its row as running and is claimed again by
   * the next worker once its lease expires, so nothing is lost.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.unlisten?.();
    this.wake?.();
    if (this.timer) clearTimeout(this.timer);
    const all = Promise.allSettled([...this.running.values()]);
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([all, timeout])) === 'timeout') {
      this.abort.abort();
      await Promise.race([all, new Promise((r) => setTimeout(r, 1_000).unref())]);
    }
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let claimed = 0;
      try {
        claimed = await this.claimAndRun();
      } catch (e) {
        this.log.error({ err: e }, 'job queue: claiming work failed');
      }
      if (this.stopping) break;
      if (claimed > 0 && this.running.size < this.opts.concurrency) continue;
      await new Promise<void>((resolve) => {
        this.wake = () => {
          this.wake = undefined;
          if (this.timer) clearTimeout(this.timer);
          resolve();
        };
        this.timer = setTimeout(() => this.wake?.(), this.opts.pollMs);
      });
    }
  }

  private async claimAndRun(): Promise<number> {
    const free = this.opts.concurrency - this.running.size;
    const kinds = [...this.handlers.keys()];
    if (free <= 0 || kinds.length === 0) return 0;
    const rows = await this.store.query<JobRow>(
      `update pave_jobs j
         set status = 'running', locked_by = $1, locked_until = now() + make_interval(secs => $2::double precision / 1000),
             attempts = j.attempts + 1, started_at = now(), updated_at = now()
       where j.id in (
         select c.id from pave_jobs c
         where c.kind = any($3::text[])
           and ((c.status = 'queued' and c.run_at <= now()) or (c.status = 'running' and c.locked_until < now()))
           and (c.dedupe_key is null or not exists (
             select 1 from pave_jobs r
             where r.dedupe_key = c.dedupe_key and r.id <> c.id and r.status = 'running' and r.locked_until >= now()))
         order by c.run_at, c.id
         for update skip locked
         limit $4)
       returning j.*`,
      [this.workerId, this.opts.leaseMs, kinds, free],
    );
    for (const row of rows) {
      const job = toJob(row);
      const p = this.run(job).finally(() => {
        this.running.delete(job.id);
        for (const w of [...this.waiters]) w();
        this.kick();
      });
      this.running.set(job.id, p);
    }
    return rows.length;
  }

  private async run(job: Job): Promise<void> {
    const handler = this.handlers.get(job.kind)!;
    const log = this.log.child({ job: job.id, kind: job.kind, attempt: job.attempts });
    try {
      const result = await handler(job.payload, { job, signal: this.abort.signal, log });
      if (this.abort.signal.aborted) return; // keep it running: the lease hands it to the next worker
      await this.store.query(
        `update pave_jobs set status = 'succeeded', result = $3::jsonb, finished_at = now(), locked_by = null,
           locked_until = null, last_error = null, updated_at = now()
         where id = $1 and locked_by = $2`,
        [job.id, this.workerId, JSON.stringify(result ?? null)],
      );
    } catch (e) {
      if (this.abort.signal.aborted) return;
      const message = errorMessage(e);
      // A queued twin (same dedupe key) will do this work again; requeueing would make two.
      const [twin] = job.dedupeKey
        ? await this.store.query<{ id: number }>(`select id from pave_jobs where dedupe_key = $1 and status = 'queued'`, [job.dedupeKey])
        : [];
      const final = e instanceof PermanentJobError || job.attempts >= job.maxAttempts || twin !== undefined;
      log.warn({ err: message, final }, 'job failed');
      if (final) {
        await this.store.tx(async (q) => {
          await q.query(
            `update pave_jobs set status = 'failed', last_error = $3, finished_at = now(), locked_by = null,
               locked_until = null, updated_at = now()
             where id = $1 and locked_by = $2`,
            [job.id, this.workerId, message],
          );
          await this.events.append(q, [
            { type: 'job.failed', subject: `job:${job.id}`, payload: { kind: job.kind, attempts: job.attempts, error: message } },
          ]);
        });
        this.events.notify(['job.failed']);
      } else {
        const delay = this.backoff(job.attempts);
        await this.store.query(
          `update pave_jobs set status = 'queued', last_error = $3, locked_by = null, locked_until = null,
             run_at = now() + make_interval(secs => $4::double precision / 1000), updated_at = now()
           where id = $1 and locked_by = $2`,
          [job.id, this.workerId, message, delay],
        );
      }
    }
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.opts.backoffBaseMs * 2 ** (attempt - 1), this.opts.backoffMaxMs);
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  private async renewLeases(): Promise<void> {
    try {
      const ids = [...this.running.keys()];
      if (ids.length > 0) {
        await this.store.query(
          `update pave_jobs set locked_until = now() + make_interval(secs => $3::double precision / 1000)
           where id = any($1::bigint[]) and locked_by = $2`,
          [ids, this.workerId, this.opts.leaseMs],
        );
      }
      await this.store.query(
        `delete from pave_jobs where status = 'succeeded' and finished_at < now() - make_interval(secs => $1::double precision / 1000)`,
        [this.opts.retainFinishedMs],
      );
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, 'job queue: lease renewal failed');
    }
  }
}
