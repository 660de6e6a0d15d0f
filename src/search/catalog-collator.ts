import { ownerJoin } from '../catalog/sql.ts';
import type { Queryable } from '../core/store.ts';

export const CATALOG_TYPE = 'software-catalog';

// A template is found by what its form asks and what its steps do, not only by its name:
// page titles, field titles and descriptions, and step names.
const TEMPLATE_PATHS = ['$.spec.parameters[*].title', '$.spec.parameters[*].properties.*.title', '$.spec.parameters[*].properties.*.description', '$.spec.steps[*].name'];
const TEMPLATE_WORDS = `case when e.kind = 'Template' then concat_ws(' ', ${TEMPLATE_PATHS.map(
  (p) => `(select string_agg(w #>> '{}', ' ') from jsonb_path_query(e.final, 'lax ${p} ? (@.type() == "string")') w)`,
).join(', ')}) end`;

/**
 * Writes the search documents of catalog entities (all of them, or those with the given ref
 * keys) straight from the stored entities: name weighs most, then title, description, and the
 * rest (kind, type, owner, system, tags).
 */
export async function collateEntities(q: Queryable, refKeys?: string[]): Promise<number> {
  const rows = await q.query<{ n: number }>(
    `with upserted as (
       insert into search_documents (doc_type, doc_key, entity_key, name, title, text, location, kind, owner, namespace, lifecycle, tsv, updated_at)
       select '${CATALOG_TYPE}', e.ref_key, e.ref_key, lower(e.name), coalesce(e.final->'metadata'->>'title', e.name),
         coalesce(e.final->'metadata'->>'description', ''),
         '/catalog/' || e.namespace || '/' || lower(e.kind) || '/' || e.name,
         e.kind, o.owner, e.namespace, e.final->'spec'->>'lifecycle',
         setweight(to_tsvector('english', e.name || ' ' || replace(replace(e.name, '-', ' '), '_', ' ')), 'A')
         || setweight(to_tsvector('english', coalesce(e.final->'metadata'->>'title', '')), 'B')
         || setweight(to_tsvector('english', coalesce(e.final->'metadata'->>'description', '')), 'C')
         || setweight(to_tsvector('english', concat_ws(' ', e.kind, e.final->'spec'->>'type', e.final->'spec'->>'owner', e.final->'spec'->>'system',
              (select string_agg(t, ' ') from jsonb_array_elements_text(case when jsonb_typeof(e.final->'metadata'->'tags') = 'array' then e.final->'metadata'->'tags' else '[]' end) t),
              ${TEMPLATE_WORDS})), 'D'),
         now()
       from catalog_entities e
       ${ownerJoin('e', 'o')}
       ${refKeys ? 'where e.ref_key = any($1::text[])' : ''}
       on conflict (doc_type, doc_key) do update set name = excluded.name, title = excluded.title, text = excluded.text, location = excluded.location,
         entity_key = excluded.entity_key, kind = excluded.kind, owner = excluded.owner, namespace = excluded.namespace, lifecycle = excluded.lifecycle, tsv = excluded.tsv, updated_at = now()
       returning 1)
     select count(*)::int as n from upserted`,
    // Two statements rather than one with `$1 is null or …`: that one is planned as a scan of every
    // entity, comparing each with every key given (seconds per batch at 10k entities).
    refKeys ? [refKeys] : [],
  );
  if (refKeys) {
    // Entities that are gone leave the index, and so does everything that belongs to them (docs pages).
    await q.query(
      `delete from search_documents d where d.entity_key = any($1::text[])
         and not exists (select 1 from catalog_entities e where e.ref_key = d.entity_key)`,
      [refKeys],
    );
  } else {
    await q.query(`delete from search_documents d where d.entity_key is not null and not exists (select 1 from catalog_entities e where e.ref_key = d.entity_key)`);
  }
  return rows[0].n;
}
