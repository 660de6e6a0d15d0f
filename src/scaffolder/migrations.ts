import type { Migration } from '../core/migrations.ts';

export const scaffolderMigrations: Migration[] = [
  {
    id: '0700-scaffolder',
    sql: `
      -- A template run: a state machine persisted at every step
      -- (open → processing → completed | failed | cancelled; failed and cancelled may be retried).
      create table scaffolder_tasks (
        id uuid primary key,
        spec jsonb not null,
        status text not null default 'open' check (status in ('open', 'processing', 'completed', 'failed', 'cancelled')),
        created_by text,
        created_at timestamptz not null default now(),
        last_heartbeat_at timestamptz,
        -- Values of ui:field Secret fields: kept only while the task can still run, never logged.
        secrets jsonb,
        output jsonb,
        -- Side effects already done (a repository created, an entity registered), so a retry or a
        -- resumed run does not do them twice.
        state jsonb not null default '{}',
        attempts integer not null default 0
      );
      create index scaffolder_tasks_created on scaffolder_tasks (created_at desc);
      create index scaffolder_tasks_owner on scaffolder_tasks (created_by, created_at desc);

      -- One log stream per task: step logs, step status changes, completion (Backstage's task events).
      create table scaffolder_task_events (
        id bigserial primary key,
        task_id uuid not null references scaffolder_tasks (id) on delete cascade,
        event_type text not null check (event_type in ('log', 'completion', 'cancelled', 'recovered')),
        body jsonb not null,
        created_at timestamptz not null default now()
      );
      create index scaffolder_task_events_task on scaffolder_task_events (task_id, id);
    `,
  },
  {
    id: '0701-scaffolder-run-id',
    sql: `
      -- Which run of a task is the live one: set at each claim, cleared by a retry. A run that is
      -- no longer the live one (cancelled and retried, or taken over) can neither end the task
      -- nor write to its log.
      alter table scaffolder_tasks add column run_id uuid;
    `,
  },
];
