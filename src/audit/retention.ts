import type { JobQueue } from '../core/jobs.ts';
import type { AuditLog } from './log.ts';

export const PRUNE_JOB = 'audit.prune';
const DAY_MS = 24 * 3600_000;
// The first run waits a little, so start-up does not compete with it.
const FIRST_RUN_DELAY_MS = 60_000;

/**
 * Prunes the audit log to `retentionDays` about once a day, as a durable job: each run first
 * queues the next one a day later, so the schedule survives restarts and a failed run does not
 * end it. The dedupe key keeps one queued run however many Pave processes share the database.
 */
export async function scheduleAuditRetention(jobs: JobQueue, audit: AuditLog, retentionDays: number): Promise<void> {
  jobs.register(PRUNE_JOB, async (_payload, ctx) => {
    await jobs.enqueue(PRUNE_JOB, {}, { dedupeKey: PRUNE_JOB, runAt: new Date(Date.now() + DAY_MS) });
    const result = await audit.prune(retentionDays);
    ctx.log.info({ deleted: result.deleted, retentionDays }, 'audit retention applied');
    return result;
  });
  await jobs.enqueue(PRUNE_JOB, {}, { dedupeKey: PRUNE_JOB, runAt: new Date(Date.now() + FIRST_RUN_DELAY_MS) });
}
