export { loadConfig, configSchema, envVariables, envNameFor, type PaveConfig, type CustomKind, type DocsConfig, type AuthConfig, type OidcConfig, type PolicyRuleConfig, type Role } from './config.ts';
export { PaveError, badInput, notFound, conflict, isPaveError, errorMessage } from './errors.ts';
export { EventLog, eventMigrations, type EventType, type NewEvent, type PaveEvent } from './events.ts';
export { JobQueue, jobMigrations, PermanentJobError, type Job, type JobStatus } from './jobs.ts';
export { migrate, type Migration } from './migrations.ts';
export { openStore, type Store, type Queryable } from './store.ts';
