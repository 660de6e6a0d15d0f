import fs from 'node:fs/promises';
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.ts';
import type { TemplateAction } from './action.ts';
import { runSteps, StepError } from './steps.ts';
import type { ClaimedTask, TaskStore } from './tasks.ts';
import { scratchDir } from '../core/scratch.ts';

export interface WorkerOptions {
  concurrency: number;
  /** A processing task whose worker has not beaten for this long is taken over (its process died). */
  staleSeconds: number;
  heartbeatMs: number;
  pollMs: number;
  /** The embedded store belongs to this one process: a task found processing at start was ours, and its run is gone. */
  reclaimAtStart: boolean;
  /** Where task workspaces are made (`data.workDir`). */
  workDir: string;
}

/**
 * Claims open tasks and runs them, several at once, on every replica. A task whose worker died is
 * taken over after `staleSeconds`: it starts over when its template asks for that
 * (`EXPERIMENTAL_recovery.EXPERIMENTAL_strategy: startOver`), otherwise it fails, saying so.
 */
export class TaskWorker {
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private claiming: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly tasks: TaskStore,
    private readonly actions: ReadonlyMap<string, TemplateAction>,
    private readonly log: Logger,
    private readonly opts: WorkerOptions,
  ) {}

  private firstClaim = true;

  start(): void {
    this.timer = setInterval(() => this.kick(), this.opts.pollMs);
    this.timer.unref();
    this.kick();
  }

  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.claiming;
    // Running tasks are left to finish for a moment; one that does not is taken over later.
    await Promise.race([Promise.allSettled([...this.running.values()].map((r) => r.done)), new Promise((r) => setTimeout(r, graceMs).unref())]);
    for (const r of this.running.values()) r.abort.abort();
  }

  /** Looks for work now (a task was just created here). */
  kick(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    // The promise is cleared by a callback attached after it is stored: when there is nothing to
    // claim the loop finishes without awaiting, and clearing from inside would come too early.
    this.claiming = this.claimLoop().finally(() => {
      this.claiming = undefined;
    });
  }

  private async claimLoop(): Promise<void> {
    try {
      do {
        this.again = false;
        const free = this.opts.concurrency - this.running.size;
        if (free <= 0) break;
        const stale = this.firstClaim && this.opts.reclaimAtStart ? -1 : this.opts.staleSeconds;
        this.firstClaim = false;
        const claimed = await this.tasks.claim(free, stale);
        for (const c of claimed) this.launch(c);
        if (claimed.length === free) this.again = true;
      } while (this.again && !this.stopped);
    } catch (e) {
      this.log.error({ err: errorMessage(e) }, 'scaffolder: claiming tasks failed');
    }
  }

  private launch(claimed: ClaimedTask): void {
    const id = claimed.task.id;
    const abort = new AbortController();
    const done = this.run(claimed, abort)
      .catch((e) => this.log.error({ err: errorMessage(e), task: id }, 'scaffolder: task crashed'))
      .finally(() => {
        this.running.delete(claimed.runId);
        this.kick();
      });
    // By run, not by task: a retried task may start again here while its cancelled run winds down.
    this.running.set(claimed.runId, { abort, done });
  }

  private async run({ task, runId, resumed, secrets }: ClaimedTask, abort: AbortController): Promise<void> {
    const id = task.id;
    const log = this.log.child({ task: id });
    const events = this.tasks.eventWriter(id, runId);
    if (resumed) {
      if (task.spec.EXPERIMENTAL_recovery?.EXPERIMENTAL_strategy !== 'startOver') {
        events.emit('recovered', { message: 'Pave stopped while this task ran; it was not resumed (its template does not ask to start over). Retry it to run it again.' });
        await events.flush();
        await this.fail(id, runId, 'The run was interrupted by a restart of Pave');
        return;
      }
      events.emit('recovered', { message: 'Pave stopped while this task ran; starting over in a fresh workspace' });
    }
    // Stopped at once when cancelled or retried in this process; by the next beat from another replica.
    const stopListening = this.tasks.onStop(id, () => abort.abort());
    const heartbeat = setInterval(() => {
      void this.tasks
        .heartbeat(id, runId)
        .then((live) => {
          if (!live) abort.abort();
        })
        .catch(() => undefined);
    }, this.opts.heartbeatMs);
    heartbeat.unref();
    const workspace = await scratchDir(this.opts.workDir, `task-${id.slice(0, 8)}-`);
    try {
      const output = await runSteps({
        taskId: id,
        spec: task.spec,
        secrets,
        actions: this.actions,
        workspace,
        dryRun: false,
        signal: abort.signal,
        logger: log,
        emit: async (type, body) => events.emit(type, body),
        checkpoints: {
          get: async (key) => {
            const state = await this.tasks.state(id);
            return key in state ? { value: state[key] } : undefined;
          },
          set: (key, value) => this.tasks.setState(id, key, value),
        },
      });
      await events.flush();
      await this.tasks.finish(id, runId, 'completed', { message: 'Run completed with status: completed', output, status: 'completed' }, output);
    } catch (e) {
      const stepId = e instanceof StepError ? e.stepId : undefined;
      const message = errorMessage(e);
      if (stepId) events.emit('log', { message: `Step ${stepId} failed: ${message}`, stepId, status: abort.signal.aborted ? 'cancelled' : 'failed' });
      // The run's own events are written before its end, whatever happened to them.
      await events.flush().catch((err) => log.error({ err: errorMessage(err) }, 'scaffolder: writing the run\'s log failed'));
      if (!abort.signal.aborted) await this.fail(id, runId, message, stepId);
    } finally {
      clearInterval(heartbeat);
      stopListening();
      await fs.rm(workspace, { recursive: true, force: true });
    }
  }

  private async fail(id: string, runId: string, message: string, stepId?: string): Promise<void> {
    await this.tasks.finish(id, runId, 'failed', { message: `Run completed with status: failed`, error: { name: 'Error', message }, stepId, status: 'failed' });
  }
}
