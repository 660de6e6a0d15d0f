import type { Migration } from '../core/migrations.ts';

export const catalogMigrations: Migration[] = [
  {
    id: '0100-catalog',
    sql: `
      create extension if not exists pg_trgm;

      -- Locations registered through the API or pave.yaml: the roots that processing starts from.
      create table catalog_locations (
        id uuid primary key,
        type text not null,
        target text not null,
        source text not null default 'api',
        -- The generated Location entity keeps its first name when the target changes, as in Backstage.
        entity_name text not null,
        created_at timestamptz not null default now(),
        state text not null default 'pending',
        last_read_at timestamptz,
        last_ok_at timestamptz,
        errors jsonb not null default '[]',
        unique (type, target)
      );

      create table catalog_entities (
        id bigserial primary key,
        uid uuid not null unique,
        ref_key text not null unique,
        kind text not null,
        namespace text not null,
        name text not null,
        origin_id uuid not null,
        location_key text not null,
        -- The entity as served (relations, etag, status); stitching rebuilds it from itself.
        final jsonb not null,
        -- hash: of the served form; body_hash: of the entity as written; spec_hash: of its spec.
        hash text not null,
        body_hash text not null,
        spec_hash text not null,
        etag text not null,
        generation int not null default 1,
        errors jsonb not null default '[]',
        search_text text not null default '',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create index catalog_entities_origin on catalog_entities (origin_id);
      create index catalog_entities_name on catalog_entities (lower(name), id);
      create index catalog_entities_kind_name on catalog_entities (lower(kind), lower(name), id);
      create index catalog_entities_search_text on catalog_entities using gin (search_text gin_trgm_ops);

      -- Both directions of every relation, kept with the entity that declared it.
      create table catalog_relations (
        origin_id bigint not null,
        source_key text not null,
        type text not null,
        target_key text not null,
        target_ref text not null
      );
      create index catalog_relations_origin on catalog_relations (origin_id);
      create index catalog_relations_source on catalog_relations (source_key);
      create index catalog_relations_type_target on catalog_relations (lower(type), target_key);

      -- Flattened fields, lowercased, for Backstage's filter semantics.
      create table catalog_search (
        entity_id bigint not null,
        key text not null,
        value text,
        original_value text
      );
      create index catalog_search_entity on catalog_search (entity_id);
      create index catalog_search_key_value on catalog_search (key, value, entity_id);
      create index catalog_search_facets on catalog_search (key, original_value);
    `,
  },
  {
    // Who registered a location: members may change or remove the locations they registered.
    id: '0101-catalog-location-creator',
    sql: `alter table catalog_locations add column created_by text;`,
  },
];
