import type { Migration } from '../core/migrations.ts';

export const docsMigrations: Migration[] = [
  {
    id: '0500-docs',
    sql: `
      -- One row per documented entity: what was last built, and how the latest attempt went.
      -- A failed build leaves the pages of the last good one in place.
      create table docs_sites (
        entity_key text primary key,
        source text not null,
        site_name text,
        site_description text,
        nav jsonb not null default '[]',
        -- Non-fatal problems of the served build (broken links, missing nav pages).
        problems jsonb not null default '[]',
        built_at timestamptz,
        build_ms integer,
        status text not null default 'pending' check (status in ('pending', 'building', 'ready', 'failed')),
        last_attempt_at timestamptz,
        -- The fatal problem of the latest attempt, when it failed.
        error jsonb,
        updated_at timestamptz not null default now()
      );

      create table docs_pages (
        entity_key text not null references docs_sites (entity_key) on delete cascade,
        path text not null,
        -- The page's address inside the site: 'guides/setup' for guides/setup.md, '' for index.md.
        slug text not null,
        position integer not null,
        title text not null,
        html text not null,
        -- The page as plain text, for the search index (rebuilt from here by a reindex).
        text text not null,
        toc jsonb not null,
        edit_url text,
        primary key (entity_key, path)
      );
      create unique index docs_pages_slug on docs_pages (entity_key, slug);

      create table docs_assets (
        entity_key text not null references docs_sites (entity_key) on delete cascade,
        path text not null,
        content_type text not null,
        bytes bytea not null,
        primary key (entity_key, path)
      );

      -- How far the docs builder has read the event log.
      create table docs_state (
        id text primary key,
        event_cursor bigint not null default 0
      );
      insert into docs_state (id, event_cursor) select 'catalog', coalesce(max(id), 0) from pave_events;
    `,
  },
];
