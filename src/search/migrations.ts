import type { Migration } from '../core/migrations.ts';

export const searchMigrations: Migration[] = [
  {
    id: '0400-search',
    sql: `
      create extension if not exists pg_trgm;

      -- One index for everything searchable: each collator (catalog entities, templates, docs
      -- pages) writes its documents here with weighted full text and trigram-indexed names.
      create table search_documents (
        doc_type text not null,
        doc_key text not null,
        -- The catalog entity a document belongs to (itself, or the entity a docs page documents):
        -- what the caller may read of the catalog decides what they find.
        entity_key text,
        name text not null,
        title text not null,
        text text not null,
        location text not null,
        kind text,
        owner text,
        namespace text,
        lifecycle text,
        -- Type-specific fields of the result document (a docs page's entity ref and path, …).
        extra jsonb,
        tsv tsvector not null,
        updated_at timestamptz not null default now(),
        primary key (doc_type, doc_key)
      );
      create index search_documents_tsv on search_documents using gin (tsv);
      create index search_documents_name_exact on search_documents (name);
      -- GiST, not GIN: misspellings are looked up nearest-first (KNN), so a short term that shares
      -- trigrams with thousands of names still reads only the closest few.
      create index search_documents_name_trgm on search_documents using gist (name gist_trgm_ops);
      create index search_documents_entity on search_documents (entity_key);

      -- How far each indexer has read the event log, and a generation that every write to the
      -- index raises: cached answers are keyed by it, on every replica.
      create table search_state (
        indexer text primary key,
        event_cursor bigint not null default 0,
        generation bigint not null default 0,
        rebuilt_at timestamptz
      );
    `,
  },
];
