import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { conflict, notFound } from '../core/errors.ts';
import type { Queryable, Store } from '../core/store.ts';

export type TaskStatus = 'open' | 'processing' | 'completed' | 'failed' | 'cancelled';
export type TaskEventType = 'log' | 'completion' | 'cancelled' | 'recovered';

/** Backstage's `TaskSpecV1beta3`: what a run does, fixed when it is created. */
export interface TaskSpec {
  apiVersion: 'scaffolder.backstage.io/v1beta3';
  steps: { id: string; name: string; action: string; input?: Record<string, unknown>; if?: string | boolean; each?: string | unknown[] }[];
  output: Record<string, unknown>;
  parameters: Record<string, unknown>;
  user: { entity?: unknown; ref?: string };
  templateInfo: { entityRef: string; baseUrl: string; entity?: { metadata: Record<string, unknown> } };
  EXPERIMENTAL_recovery?: { EXPERIMENTAL_strategy?: 'none' | 'startOver' };
}

export interface Task {
  id: string;
  spec: TaskSpec;
  status: TaskStatus;
  createdBy?: string;
  createdAt: string;
  lastHeartbeatAt?: string;
}

/** A task claimed for a run, with its secrets, and whether an earlier run of it was cut off. */
export interface ClaimedTask {
  task: Task;
  /** This run's id: heartbeats, the task's end and its log are accepted from the live run only. */
  runId: string;
  resumed: boolean;
  secrets: Record<string, string>;
}

export interface TaskEvent {
  id: number;
  taskId: string;
  type: TaskEventType;
  body: { message: string; stepId?: string; status?: string; output?: unknown; [k: string]: unknown };
  createdAt: string;
}

const stopSignal = (taskId: string) => `stop:${taskId}`;
const ALL_TASKS = 'all';

/** NOTIFY channels: every replica hears them at commit (TaskStore.listenAcrossProcesses). */
const CHANNELS = { tasks: 'pave_tasks', events: 'pave_task_events', stop: 'pave_task_stop' } as const;

const toTask = (r: any): Task => ({
  id: r.id,
  spec: r.spec,
  status: r.status,
  createdBy: r.created_by ?? undefined,
  createdAt: r.created_at,
  lastHeartbeatAt: r.last_heartbeat_at ?? undefined,
});
const toEvent = (r: any): TaskEvent => ({ id: Number(r.id), taskId: r.task_id, type: r.event_type, body: r.body, createdAt: r.created_at });

/** Tasks and their event streams, in the store; in-process listeners hear new events at once. */
export class TaskStore {
  private readonly local = new EventEmitter();
  private unlisten: (() => void)[] = [];

  constructor(private readonly store: Store) {
    this.local.setMaxListeners(1000);
  }

  async create(spec: TaskSpec, createdBy: string | undefined, secrets: Record<string, string>): Promise<string> {
    const id = randomUUID();
    await this.store.query(
      `with created as (insert into scaffolder_tasks (id, spec, created_by, secrets) values ($1, $2::jsonb, $3, $4::jsonb) returning id)
       select pg_notify('${CHANNELS.tasks}', id::text) from created`,
      [id, JSON.stringify(spec), createdBy ?? null, JSON.stringify(secrets)],
    );
    return id;
  }

  async get(id: string): Promise<Task> {
    const [row] = /^[0-9a-f-]{36}$/i.test(id) ? await this.store.query<any>('select * from scaffolder_tasks where id = $1', [id]) : [];
    if (!row) throw notFound('TASK_NOT_FOUND', `No task ${id}`, { taskId: id });
    return toTask(row);
  }

  async list(q: { createdBy?: string[]; status?: string[]; limit?: number; offset?: number; order?: 'asc' | 'desc' }): Promise<{ tasks: Task[]; totalTasks: number }> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (q.createdBy?.length) {
      params.push(q.createdBy.map((c) => c.toLowerCase()));
      where.push(`lower(created_by) = any($${params.length}::text[])`);
    }
    if (q.status?.length) {
      params.push(q.status);
      where.push(`status = any($${params.length}::text[])`);
    }
    const filter = where.length ? `where ${where.join(' and ')}` : '';
    const [{ n }] = await this.store.query<{ n: number }>(`select count(*)::int as n from scaffolder_tasks ${filter}`, params);
    const rows = await this.store.query<any>(
      `select * from scaffolder_tasks ${filter} order by created_at ${q.order === 'asc' ? 'asc' : 'desc'}, id limit ${Math.min(q.limit ?? 100, 1000)} offset ${Math.max(q.offset ?? 0, 0)}`,
      params,
    );
    return { tasks: rows.map(toTask), totalTasks: n };
  }

  async state(id: string): Promise<Record<string, any>> {
    const [row] = await this.store.query<{ state: Record<string, any> }>('select state from scaffolder_tasks where id = $1', [id]);
    return row?.state ?? {};
  }

  async setState(id: string, key: string, value: unknown): Promise<void> {
    await this.store.query(`update scaffolder_tasks set state = jsonb_set(state, array[$2::text], $3::jsonb) where id = $1`, [id, key, JSON.stringify(value)]);
  }

  /**
   * Claims open tasks for this worker (several replicas share the work), or ones whose worker
   * stopped beating; each comes with what running it needs.
   */
  async claim(limit: number, staleSeconds: number): Promise<ClaimedTask[]> {
    const rows = await this.store.query<any>(
      `update scaffolder_tasks t set status = 'processing', last_heartbeat_at = now(), attempts = t.attempts + 1, run_id = gen_random_uuid()
       where t.id in (
         select id from scaffolder_tasks
         where status = 'open' or (status = 'processing' and last_heartbeat_at < now() - make_interval(secs => $2::int))
         order by created_at for update skip locked limit $1)
       returning t.*, (t.attempts > 1) as resumed`,
      [limit, staleSeconds],
    );
    return rows.map((r) => ({ task: toTask(r), runId: r.run_id, resumed: r.resumed, secrets: r.secrets ?? {} }));
  }

  /** Beats for a run; false when it should stop: the task was cancelled, or another run is the live one. */
  async heartbeat(id: string, runId: string): Promise<boolean> {
    const rows = await this.store.query(`update scaffolder_tasks set last_heartbeat_at = now() where id = $1 and run_id = $2 and status = 'processing' returning id`, [id, runId]);
    return rows.length > 0;
  }

  /**
   * Ends a processing task and records its completion event, in one statement; a task cancelled
   * meanwhile stays cancelled (and gets no completion). Secrets go with the run.
   */
  async finish(id: string, runId: string, status: 'completed' | 'failed', completion: TaskEvent['body'], output?: unknown): Promise<boolean> {
    const rows = await this.store.query(
      `with done as (update scaffolder_tasks set status = $2, output = $3::jsonb, secrets = null where id = $1 and run_id = $5 and status = 'processing' returning id),
       completion as (insert into scaffolder_task_events (task_id, event_type, body) select id, 'completion', $4::jsonb from done returning task_id)
       select pg_notify('${CHANNELS.events}', task_id::text) from completion`,
      [id, status, JSON.stringify(output ?? null), JSON.stringify(completion), runId],
    );
    if (rows.length > 0) this.local.emit(id);
    return rows.length > 0;
  }

  async cancel(id: string): Promise<TaskStatus> {
    const task = await this.get(id);
    if (!['open', 'processing'].includes(task.status)) return task.status;
    await this.store.tx(async (q) => {
      await q.query(`update scaffolder_tasks set status = 'cancelled', secrets = null where id = $1 and status in ('open', 'processing')`, [id]);
      await this.appendIn(q, id, 'cancelled', { message: 'Run cancelled' });
      await q.query(`select pg_notify('${CHANNELS.stop}', $1)`, [id]);
    });
    this.local.emit(id);
    this.local.emit(stopSignal(id));
    return 'cancelled';
  }

  /** Runs a failed or cancelled task again, from the start, as the same task (Backstage's retry). */
  async retry(id: string, secrets?: Record<string, string>): Promise<void> {
    const task = await this.get(id);
    if (!['failed', 'cancelled'].includes(task.status)) {
      throw conflict('TASK_NOT_RETRYABLE', `Task ${id} is ${task.status}; only failed or cancelled tasks can be retried`, { taskId: id, status: task.status });
    }
    await this.store.tx(async (q) => {
      await q.query(`update scaffolder_tasks set status = 'open', secrets = coalesce($2::jsonb, secrets), attempts = 0, run_id = null where id = $1`, [
        id,
        secrets ? JSON.stringify(secrets) : null,
      ]);
      await this.appendIn(q, id, 'recovered', { message: 'Retrying the run from the start' });
      await q.query(`select pg_notify('${CHANNELS.stop}', $1), pg_notify('${CHANNELS.tasks}', $1)`, [id]);
    });
    this.local.emit(id);
    // A run of the cancelled task may still be winding down here: it is not the live one any more.
    this.local.emit(stopSignal(id));
  }

  private async appendIn(q: Queryable, taskId: string, type: TaskEventType, body: TaskEvent['body']): Promise<void> {
    await q.query(
      `with appended as (insert into scaffolder_task_events (task_id, event_type, body) values ($1, $2, $3::jsonb) returning task_id)
       select pg_notify('${CHANNELS.events}', task_id::text) from appended`,
      [taskId, type, JSON.stringify(body)],
    );
  }

  /**
   * The event stream of a running task, written in batches: what a run emits in one turn of the
   * event loop goes in one insert, in order, while the run goes on. A step's start, its log lines
   * and its end would otherwise cost a round trip each (and wake every reader each time).
   * `flush` waits for everything emitted so far, and throws if a write failed.
   */
  eventWriter(taskId: string, runId: string): { emit(type: TaskEventType, body: TaskEvent['body']): void; flush(): Promise<void> } {
    let batch: { type: TaskEventType; body: string }[] = [];
    let written: Promise<void> = Promise.resolve();
    let failure: unknown;
    let scheduled = false;
    const write = () => {
      scheduled = false;
      if (batch.length === 0) return;
      const rows = batch;
      batch = [];
      written = written.then(async () => {
        try {
          await this.store.query(
            `with appended as (
               insert into scaffolder_task_events (task_id, event_type, body)
               select $1, e.type, e.body::jsonb from unnest($2::text[], $3::text[]) with ordinality as e(type, body, n)
               where exists (select 1 from scaffolder_tasks where id = $1 and run_id = $4)
               order by e.n
               returning task_id)
             select pg_notify('${CHANNELS.events}', task_id::text) from appended`,
            [taskId, rows.map((r) => r.type), rows.map((r) => r.body), runId],
          );
          this.local.emit(taskId);
        } catch (e) {
          failure ??= e;
        }
      });
    };
    return {
      emit: (type, body) => {
        batch.push({ type, body: JSON.stringify(body) });
        if (!scheduled) {
          scheduled = true;
          setImmediate(write);
        }
      },
      flush: async () => {
        write();
        await written;
        if (failure) throw failure;
      },
    };
  }

  async events(taskId: string, after?: number): Promise<TaskEvent[]> {
    const rows = await this.store.query<any>('select * from scaffolder_task_events where task_id = $1 and id > $2 order by id', [taskId, after ?? 0]);
    return rows.map(toEvent);
  }

  /**
   * Hears what other processes on the same database do to tasks: new events (readers of a
   * stream here wake at once), a cancel or retry (a run here stops at once), and a task to run
   * (`onTaskToRun`, the worker's kick).
   */
  async listenAcrossProcesses(onTaskToRun: () => void): Promise<void> {
    if (this.unlisten.length) return;
    this.unlisten = await Promise.all([
      this.store.listen(CHANNELS.events, (taskId) => (taskId ? this.local.emit(taskId) : this.local.emit(ALL_TASKS))),
      this.store.listen(CHANNELS.stop, (taskId) => taskId && this.local.emit(stopSignal(taskId))),
      this.store.listen(CHANNELS.tasks, () => onTaskToRun()),
    ]);
  }

  stopListening(): void {
    for (const off of this.unlisten) off();
    this.unlisten = [];
  }

  /** Calls `listener` when a run of the task in this process must stop at once (cancelled, or retried); other replicas learn it from their heartbeat. */
  onStop(taskId: string, listener: () => void): () => void {
    this.local.on(stopSignal(taskId), listener);
    return () => this.local.off(stopSignal(taskId), listener);
  }

  /** Calls `listener` when the task has new events in this process (other replicas: poll). */
  onEvents(taskId: string, listener: () => void): () => void {
    this.local.on(taskId, listener);
    // After a lost connection to the database, every reader looks again.
    this.local.on(ALL_TASKS, listener);
    return () => {
      this.local.off(taskId, listener);
      this.local.off(ALL_TASKS, listener);
    };
  }
}
