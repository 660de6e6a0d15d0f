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

      -- Change requests (pull requests), numbered per repository.
      create table git_change_requests (
        org text not null,
        name text not null,
        number integer not null,
        title text not null,
        description text not null default '',
        source_branch text not null,
        target_branch text not null,
        status text not null default 'open' check (status in ('open', 'merged', 'closed')),
        author text,
        head_sha text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        merged_at timestamptz,
        merged_by text,
        merge_sha text,
        primary key (org, name, number),
        foreign key (org, name) references git_repositories (org, name) on delete cascade
      );
      create table git_change_comments (
        id bigserial primary key,
        org text not null,
        name text not null,
        number integer not null,
        author text,
        body text not null,
        created_at timestamptz not null default now(),
        foreign key (org, name, number) references git_change_requests (org, name, number) on delete cascade
      );
    `,
  },
];
