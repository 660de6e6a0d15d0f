import type { Migration } from '../core/migrations.ts';

export const gitMigrations: Migration[] = [
  {
    id: '0600-git',
    sql: `
      -- Repositories hosted by Pave: bare repositories in the data folder, served over git's smart
      -- HTTP protocol. A repository belongs to its catalog entity and to an owner (a group or user).
      create table git_repositories (
        org text not null,
        name text not null,
        description text not null default '',
        owner text,
        entity_ref text,
        default_branch text not null default 'main',
        created_by text,
        created_at timestamptz not null default now(),
        pushed_at timestamptz,
        primary key (org, name)
      );
      create index git_repositories_entity on git_repositories (entity_ref);
    `,
  },
];
