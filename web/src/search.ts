// Client for Pave's Backstage-compatible search API (`/api/search/query`): the catalog and docs
// in one ranked list, with highlighted matches, facet counts and cursor paging.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { apiRequest } from './api.ts';

export const CATALOG_TYPE = 'software-catalog';
export const DOCS_TYPE = 'techdocs';
export type SearchType = typeof CATALOG_TYPE | typeof DOCS_TYPE;

export const TYPE_LABELS: Record<string, string> = { [CATALOG_TYPE]: 'Catalog', [DOCS_TYPE]: 'Docs' };

export type FacetName = 'kind' | 'owner' | 'namespace' | 'lifecycle';

export interface SearchDocument {
  title: string;
  text: string;
  /** Where the result lives in the portal: `/catalog/...` or `/docs/...`. */
  location: string;
  kind?: string;
  namespace?: string;
  name?: string;
  owner?: string;
  lifecycle?: string;
  /** Docs results: the entity the page belongs to, and the page's file. */
  entityRef?: string;
  entityTitle?: string;
  path?: string;
}

export interface SearchResult {
  type: SearchType | string;
  document: SearchDocument;
  highlight?: { preTag: string; postTag: string; fields: { title?: string; text?: string } };
  rank: number;
}

export interface SearchResponse {
  results: SearchResult[];
  numberOfResults?: number;
  nextPageCursor?: string;
  previousPageCursor?: string;
  facets?: Partial<Record<FacetName, Array<{ value: string; count: number }>>>;
}

export interface SearchParams {
  term: string;
  types?: string[];
  filters?: Partial<Record<FacetName, string[]>>;
  pageCursor?: string;
  pageLimit?: number;
  facets?: boolean;
}

/** The query string as Backstage's search client writes it: `types[0]=…`, `filters[kind]=…`. */
export function searchQueryString(p: SearchParams): string {
  const qs = new URLSearchParams();
  qs.set('term', p.term);
  (p.types ?? []).forEach((t, i) => qs.append(`types[${i}]`, t));
  for (const [key, values] of Object.entries(p.filters ?? {})) {
    for (const v of values ?? []) qs.append(`filters[${key}]`, v);
  }
  if (p.pageLimit) qs.set('pageLimit', String(p.pageLimit));
  if (p.pageCursor) qs.set('pageCursor', p.pageCursor);
  if (p.facets) qs.set('facets', 'true');
  return qs.toString();
}

export function querySearch(p: SearchParams, signal?: AbortSignal): Promise<SearchResponse> {
  return apiRequest(`/api/search/query?${searchQueryString(p)}`, { signal });
}

/** Searches while `term` is not blank; the previous answer stays shown while the next one loads. */
export function useSearch(p: SearchParams, enabled = true) {
  const on = enabled && p.term.trim() !== '';
  return useQuery({
    queryKey: ['search', p],
    queryFn: ({ signal }) => querySearch({ ...p, term: p.term.trim() }, signal),
    enabled: on,
    placeholderData: on ? keepPreviousData : undefined,
    staleTime: 5_000,
  });
}

export interface HighlightPart {
  text: string;
  mark: boolean;
}

/**
 * Splits a highlighted field into text and marked matches. Nothing of the field is ever read as
 * markup: only the exact pre and post tags count, everything else stays text.
 */
export function highlightParts(field: string, preTag = '<mark>', postTag = '</mark>'): HighlightPart[] {
  const parts: HighlightPart[] = [];
  let rest = field;
  while (rest) {
    const start = rest.indexOf(preTag);
    if (start < 0) break;
    const end = rest.indexOf(postTag, start + preTag.length);
    if (end < 0) break;
    if (start > 0) parts.push({ text: rest.slice(0, start), mark: false });
    parts.push({ text: rest.slice(start + preTag.length, end), mark: true });
    rest = rest.slice(end + postTag.length);
  }
  if (rest) parts.push({ text: rest, mark: false });
  return parts.filter((p) => p.text !== '');
}

/** The label of a result's type: Catalog or Docs. */
export function typeLabel(type: string): string {
  return TYPE_LABELS[type] ?? type;
}

/** A short line saying what the result is: `Component · team-a` or `Docs of payments`. */
export function resultContext(r: SearchResult): string {
  const d = r.document;
  const owner = d.owner?.replace(/^group:(default\/)?/, '');
  if (r.type === DOCS_TYPE) return [`Docs of ${d.entityTitle ?? d.name ?? d.entityRef ?? ''}`, d.kind, owner].filter(Boolean).join(' · ');
  return [d.kind, d.namespace && d.namespace !== 'default' ? d.namespace : undefined, owner, d.lifecycle].filter(Boolean).join(' · ');
}
