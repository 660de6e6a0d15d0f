import { ownerJoin } from '../catalog/sql.ts';
import type { Queryable } from '../core/store.ts';
import { bumpGeneration, lockSearchWrites } from '../search/index.ts';

export const DOCS_TYPE = 'techdocs';
// A page's text beyond this adds little to finding it and much to the index.
const MAX_TEXT = 100_000;

/**
 * Writes docs pages into the search index from the stored sites (all, or one entity's): Backstage's
 * `techdocs` documents, the page title and text with the entity's kind, name, owner and
 * lifecycle to filter by.
 */
export async function collateDocs(q: Queryable, entityKey?: string): Promise<number> {
  await lockSearchWrites(q);
  await q.query(`delete from search_documents where doc_type = '${DOCS_TYPE}' and ($1::text is null or entity_key = $1)`, [entityKey ?? null]);
  const [row] = await q.query<{ n: number }>(
    `with inserted as (
       insert into search_documents (doc_type, doc_key, entity_key, name, title, text, location, kind, owner, namespace, lifecycle, extra, tsv)
       select '${DOCS_TYPE}', p.entity_key || '#' || p.path, p.entity_key, lower(p.title), p.title, left(p.text, ${MAX_TEXT}),
         '/docs/' || e.namespace || '/' || lower(e.kind) || '/' || e.name || '/' || case when p.slug = '' then '' else p.slug || '/' end,
         e.kind, o.owner, e.namespace, e.final->'spec'->>'lifecycle',
         jsonb_build_object('name', e.name, 'entityTitle', coalesce(e.final->'metadata'->>'title', e.name), 'entityRef', e.ref_key, 'path', p.path),
         setweight(to_tsvector('english', p.title), 'B') || setweight(to_tsvector('english', left(p.text, ${MAX_TEXT})), 'D')
       from docs_pages p
       join catalog_entities e on e.ref_key = p.entity_key
       ${ownerJoin('e', 'o')}
       where $1::text is null or p.entity_key = $1
       returning 1)
     select count(*)::int as n from inserted`,
    [entityKey ?? null],
  );
  await bumpGeneration(q, 'docs');
  return row.n;
}

export async function removeDocsFromSearch(q: Queryable, entityKey: string): Promise<void> {
  await lockSearchWrites(q);
  await q.query(`delete from search_documents where doc_type = '${DOCS_TYPE}' and entity_key = $1`, [entityKey]);
  await bumpGeneration(q, 'docs');
}
