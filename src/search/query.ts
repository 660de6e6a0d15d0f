import { badInput } from '../core/errors.ts';
import type { Queryable } from '../core/store.ts';
import { predicateToSql, type Predicate } from '../catalog/predicates.ts';

export interface SearchRequest {
  term: string;
  types?: string[];
  /** Facet filters: kind, owner, namespace, lifecycle (Backstage's `filters[kind]=Component`). */
  filters?: Record<string, string | string[]>;
  pageCursor?: string;
  pageLimit?: number;
  /** Count the matches per kind, owner, namespace and lifecycle (a Pave extension; costs a pass). */
  facets?: boolean;
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

export interface SearchAnswer {
  results: SearchResult[];
  numberOfResults: number;
  nextPageCursor?: string;
  previousPageCursor?: string;
  facets?: Record<string, { value: string; count: number }[]>;
}

const MAX_TERM = 200;
// When the words find nothing, similar spellings are looked for (a misspelt term finds nothing).
const FUZZY_BELOW = 1;
// How many of the nearest spellings a misspelt term is compared with.
const FUZZY_NEAREST = 25;
export const FACETS = ['kind', 'owner', 'namespace', 'lifecycle'] as const;
const PRE = '<mark>';
const POST = '</mark>';
const TSQ = `websearch_to_tsquery('english', $1)`;

const EXACT = `(d.tsv @@ ${TSQ} or d.name = $2)`;
// The nearest names come from the GiST index in distance order, so the cost does not grow with
// how many names share a trigram with the term; only close ones are kept.
const FUZZY_CANDIDATES = `(
  select doc_type, doc_key from search_documents where tsv @@ ${TSQ} or name = $2
  union
  select doc_type, doc_key from (select doc_type, doc_key, name from search_documents order by name <-> $2 limit ${FUZZY_NEAREST}) n
    where similarity(n.name, $2) >= 0.3 or word_similarity($2, n.name) >= 0.5)`;
const EXACT_RANK = `(case when d.name = $2 then 100 else 0 end) + (case when lower(d.title) = $2 then 50 else 0 end) + ts_rank(d.tsv, ${TSQ}) * 10`;
const FUZZY_RANK = `${EXACT_RANK} + greatest(similarity(d.name, $2), word_similarity($2, d.name)) * 5`;

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

/** The term as it is searched: no NUL, trimmed, bounded. */
export const normalizeTerm = (term: string) => term.replace(/\u0000/g, '').trim().slice(0, MAX_TERM);

/**
 * One statement per pass over the whole index: full text with weights (name, then title,
 * description, the rest), an exact name first, and the nearest spellings when the words find
 * little, as a misspelt term does. Any input is safe: the term only ever reaches
 * `websearch_to_tsquery` and the trigram operators as a parameter.
 */
export async function search(q: Queryable, req: SearchRequest): Promise<SearchAnswer> {
  const term = normalizeTerm(req.term);
  const limit = Math.min(Math.max(req.pageLimit ?? 25, 1), 100);
  const page = decodePage(req.pageCursor);
  if (!term) return { results: [], numberOfResults: 0, ...(req.facets ? { facets: {} } : {}) };

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
  // Every document belongs to a catalog entity; what the caller may not read, they do not find.
  if (req.catalogHidden) conds.push('d.entity_key is null');
  else if (req.catalogScope) {
    const scope = predicateToSql(req.catalogScope, params);
    conds.push(`(d.entity_key is null or exists (select 1 from catalog_entities e where e.ref_key = d.entity_key and ${scope}))`);
  }

  const facetSql = req.facets
    ? `, (select coalesce(json_agg(f), '[]') from (
         select kind, owner, namespace, lifecycle, grouping(kind, owner, namespace, lifecycle)::int as g, count(*)::int as n
         from m group by grouping sets ((kind), (owner), (namespace), (lifecycle))) f) as facets`
    : '';
  const where = conds.length ? `where ${conds.join(' and ')}` : '';
  const statement = (fuzzy: boolean) =>
    `with m as materialized (
       select d.doc_type, d.doc_key, d.kind, d.owner, d.namespace, d.lifecycle, ${fuzzy ? FUZZY_RANK : EXACT_RANK} as rank
       from search_documents d ${fuzzy ? `join ${FUZZY_CANDIDATES} c on c.doc_type = d.doc_type and c.doc_key = d.doc_key ${where}` : `where ${[EXACT, ...conds].join(' and ')}`}),
     p as (select doc_type, doc_key, rank from m order by rank desc, doc_type, doc_key limit ${limit + 1} offset ${page * limit})
     select c.total, d.doc_type, d.doc_key, d.name, d.title, d.text, d.location, d.kind, d.namespace, d.owner, d.lifecycle, d.extra,
       ts_headline('english', d.title, ${TSQ}, 'StartSel=${PRE},StopSel=${POST},HighlightAll=true') as title_hl,
       ts_headline('english', d.text, ${TSQ}, 'StartSel=${PRE},StopSel=${POST},MaxFragments=2,MaxWords=30,MinWords=10') as text_hl
       ${facetSql}
     from (select count(*)::int as total from m) c
       left join p on true
       left join search_documents d on d.doc_type = p.doc_type and d.doc_key = p.doc_key
     order by p.rank desc, p.doc_type, p.doc_key`;

  let rows = await q.query<any>(statement(false), params);
  const exactName = rows.some((r) => r.name === params[1]);
  if (Number(rows[0]?.total ?? 0) < FUZZY_BELOW && !exactName) rows = await q.query<any>(statement(true), params);
  const total = Number(rows[0]?.total ?? 0);
  const found = rows.filter((r) => r.doc_key !== null);
  const more = found.length > limit;
  const answer: SearchAnswer = {
    results: found.slice(0, limit).map((r, i) => ({
      type: r.doc_type,
      document: {
        title: r.title,
        text: r.text,
        location: r.location,
        kind: r.kind ?? undefined,
        namespace: r.namespace ?? undefined,
        name: r.name,
        owner: r.owner ?? undefined,
        lifecycle: r.lifecycle ?? undefined,
        ...(r.extra ?? {}),
      },
      highlight: {
        preTag: PRE,
        postTag: POST,
        fields: {
          ...(r.title_hl?.includes(PRE) ? { title: r.title_hl } : {}),
          ...(r.text_hl?.includes(PRE) ? { text: r.text_hl } : {}),
        },
      },
      // As in Backstage: the result's position in the whole result set.
      rank: page * limit + i + 1,
    })),
    numberOfResults: total,
    nextPageCursor: more ? encodePage(page + 1) : undefined,
    previousPageCursor: page > 0 ? encodePage(page - 1) : undefined,
  };
  if (req.facets) answer.facets = facetsOf(rows[0]?.facets ?? []);
  return answer;
}

function facetsOf(rows: { kind: string | null; owner: string | null; namespace: string | null; lifecycle: string | null; g: number; n: number }[]) {
  const facets: Record<string, { value: string; count: number }[]> = {};
  for (const r of rows) {
    // grouping() has a bit set for each column left out of the row's grouping set.
    const key = FACETS.find((_, i) => (r.g & (1 << (FACETS.length - 1 - i))) === 0);
    const value = key ? r[key] : null;
    if (key && value !== null) (facets[key] ??= []).push({ value, count: r.n });
  }
  for (const list of Object.values(facets)) list.sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
  return facets;
}
