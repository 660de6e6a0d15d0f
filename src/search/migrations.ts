import type { Migration } from '../core/migrations.ts';

export const searchMigrations: Migration[] = [
  {
    id: '0400-search',
    sql: `
      create extension if not exists pg_trgm;

      -- One index for everything searchable: each collator (catalog entities, docs, templates)
      -- writes its documents here with weighted full text and trigram-indexed names for typos.
      create table search_documents (
        doc_type text not null,
        doc_key text not null,
        name text not null,
        title text not null,
        text text not null,
        location text not null,
        kind text,
        owner text,
        namespace text,
        lifecycle text,
        tsv tsvector not null,
        updated_at timestamptz not null default now(),
        primary key (doc_type, doc_key)
      );
      create index search_documents_tsv on search_documents using gin (tsv);
      create index search_documents_name_trgm on search_documents using gin (name gin_trgm_ops);
      create index search_documents_title_trgm on search_documents using gin (lower(title) gin_trgm_ops);

      -- How far each indexer has read the event log.
      create table search_state (
        indexer text primary key,
        event_cursor bigint not null default 0,
        rebuilt_at timestamptz
      );
    `,
  },
];
