import { badInput } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { predicateToSql, type Predicate } from '../catalog/predicates.ts';
import { CATALOG_TYPE } from './catalog-collator.ts';

export interface SearchRequest {
  term: string;
  types?: string[];
  /** Facet filters: kind, owner, namespace, lifecycle (Backstage's `filters[kind]=Component`). */
  filters?: Record<string, string | string[]>;
  pageCursor?: string;
  pageLimit?: number;
  /** What the caller may read of the catalog, as a catalog predicate (undefined: everything). */
  catalogScope?: Predicate;
  /** The caller may read no catalog entity at all. */
  catalogHidden?: boolean;
}

export interface SearchResult {
  type: string;
  document: Record<string, unknown>;
  highlight: { preTag: string; postTag: string; fields: Record<string, string> };
  rank: number;
}

const MAX_TERM = 200;
// Fewer word matches than this and similar spellings are looked for too.
const FUZZY_BELOW = 5;
const EXACT = `(d.tsv @@ websearch_to_tsquery('english', $1) or d.name = $2)`;
const FUZZY = `(d.tsv @@ websearch_to_tsquery('english', $1) or d.name % $2 or $2 <% d.name or $2 <% lower(d.title))`;
const FACETS = ['kind', 'owner', 'namespace', 'lifecycle'] as const;
const PRE = '<mark>';
const POST = '</mark>';

function decodePage(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  try {
    const { page } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Number.isInteger(page) && page >= 0) return page;
  } catch {
    // reported below
  }
  throw badInput('INVALID_CURSOR', 'Malformed pageCursor: pass back nextPageCursor unchanged', { pageCursor: cursor });
}
const encodePage = (page: number) => Buffer.from(JSON.stringify({ page })).toString('base64url');

/**
 * One query over the whole index: full text with weights (name, then title, description, the
 * rest) and trigram similarity for misspellings, an exact name first. Any input is safe: the
 * term only ever reaches `websearch_to_tsquery` and the trigram functions as a parameter.
 */
export async function search(store: Store, req: SearchRequest) {
  const term = req.term.replace(/\u0000/g, '').trim().slice(0, MAX_TERM);
  const limit = Math.min(Math.max(req.pageLimit ?? 25, 1), 100);
  const page = decodePage(req.pageCursor);
  if (!term) return { results: [] as SearchResult[], numberOfResults: 0, facets: {} };

  const params: unknown[] = [term, term.toLowerCase()];
  const conds: string[] = [];
  if (req.types?.length) {
    params.push(req.types);
    conds.push(`d.doc_type = any($${params.length}::text[])`);
  }
  for (const [key, raw] of Object.entries(req.filters ?? {})) {
    if (!(FACETS as readonly string[]).includes(key)) {
      throw badInput('INVALID_FILTER', `Unknown search filter "${key}"; filter by ${FACETS.join(', ')}`, { filter: key });
    }
    params.push((Array.isArray(raw) ? raw : [raw]).map((v) => String(v).toLowerCase()));
    conds.push(`lower(d.${key}) = any($${params.length}::text[])`);
  }
  if (req.catalogHidden) conds.push(`d.doc_type <> '${CATALOG_TYPE}'`);
  if (req.catalogScope) {
    const scope = predicateToSql(req.catalogScope, params);
    conds.push(`(d.doc_type <> '${CATALOG_TYPE}' or exists (select 1 from catalog_entities e where e.ref_key = d.doc_key and ${scope}))`);
  }
  return store.tx(async (q) => {
    // Rank every match, keep one page, and only then build highlights (ts_headline is the costly part).
    const ranked = (base: string) =>
      q.query<any>(
        `with ranked as (
         select d.doc_type, d.doc_key, d.name, d.title, d.text, d.location, d.kind, d.namespace, d.owner, d.lifecycle, q.tq,
           (case when d.name = $2 then 100 else 0 end)
           + (case when lower(d.title) = $2 then 50 else 0 end)
           + ts_rank_cd(d.tsv, q.tq, 1) * 10
           + greatest(similarity(d.name, $2), word_similarity($2, d.name), word_similarity($2, lower(d.title))) * 5 as rank,
           count(*) over () as total
         ${base}
         order by rank desc, d.doc_key
         limit ${limit + 1} offset ${page * limit})
       select r.*,
         ts_headline('english', r.title, r.tq, 'StartSel=${PRE},StopSel=${POST},HighlightAll=true') as title_hl,
         ts_headline('english', r.text, r.tq, 'StartSel=${PRE},StopSel=${POST},MaxFragments=2,MaxWords=30,MinWords=10') as text_hl
       from ranked r order by r.rank desc, r.doc_key`,
        params,
      );
    // Looser than pg_trgm's defaults, so "paymnets" still finds "payments"; the index serves both operators.
    await q.query(`select set_config('pg_trgm.similarity_threshold', '0.3', true), set_config('pg_trgm.word_similarity_threshold', '0.5', true)`);
    // Words first (the full-text index is selective and fast); similar spellings only when the
    // words find little, as a misspelt term does. The tsquery is written out, not taken from the
    // joined q, so the planner can use the indexes.
    let base = '';
    let rows: any[] = [];
    for (const match of [EXACT, FUZZY]) {
      base = `from search_documents d, (select websearch_to_tsquery('english', $1) as tq) q where ${[match, ...conds].join(' and ')}`;
      rows = await ranked(base);
      if (Number(rows[0]?.total ?? 0) >= FUZZY_BELOW) break;
    }
    // Counts per facet value and the total, in one pass over the matches.
    const facetRows = await q.query<{ kind: string | null; owner: string | null; namespace: string | null; lifecycle: string | null; g: number; n: number }>(
      `select d.kind, d.owner, d.namespace, d.lifecycle, grouping(d.kind, d.owner, d.namespace, d.lifecycle)::int as g, count(*)::int as n
       ${base}
       group by grouping sets ((d.kind), (d.owner), (d.namespace), (d.lifecycle), ())`,
      params,
    );
    const facets: Record<string, { value: string; count: number }[]> = {};
    let total = Number(rows[0]?.total ?? 0);
    for (const r of facetRows) {
      // grouping() has a bit set for each column left out of the row's grouping set.
      const key = FACETS.find((_, i) => (r.g & (1 << (FACETS.length - 1 - i))) === 0);
      if (!key) {
        total = r.n;
        continue;
      }
      const value = r[key];
      if (value !== null) (facets[key] ??= []).push({ value, count: r.n });
    }
    const count = { n: total };
    for (const list of Object.values(facets)) list.sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
    const more = rows.length > limit;
    const results: SearchResult[] = rows.slice(0, limit).map((r, i) => ({
      type: r.doc_type,
      document: {
        title: r.title,
        text: r.text,
        location: r.location,
        kind: r.kind ?? undefined,
        namespace: r.namespace ?? undefined,
        name: r.doc_type === CATALOG_TYPE ? r.doc_key.split('/').pop() : r.name,
        owner: r.owner ?? undefined,
        lifecycle: r.lifecycle ?? undefined,
      },
      highlight: {
        preTag: PRE,
        postTag: POST,
        fields: {
          ...(r.title_hl.includes(PRE) ? { title: r.title_hl } : {}),
          ...(r.text_hl.includes(PRE) ? { text: r.text_hl } : {}),
        },
      },
      // As in Backstage: the result's position in the whole result set.
      rank: page * limit + i + 1,
    }));
    return {
      results,
      numberOfResults: count.n,
      nextPageCursor: more ? encodePage(page + 1) : undefined,
      previousPageCursor: page > 0 ? encodePage(page - 1) : undefined,
      facets,
    };
  });
}
