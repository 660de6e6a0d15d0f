export { AuditLog, type AuditFilters, type AuditQuery, type AuditPage, type PruneResult } from './log.ts';
export { auditMigrations } from './migrations.ts';
export { auditRoutes } from './routes.ts';
export { scheduleAuditRetention, PRUNE_JOB } from './retention.ts';
export { verifyLines, type VerifyResult, type ChainProblem } from './chain.ts';
export { AuditEntrySchema, GENESIS_HASH, type AuditEntry, type AuditInput } from './entry.ts';
export { scrubDetails, scrubPath, scrubString, REDACTED } from './scrub.ts';
