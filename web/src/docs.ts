// Client for Pave's docs API (TechDocs-compatible sites of catalog entities): the list of
// documented entities, a site with its navigation and build state, its pages, and a rebuild.
import { useQuery } from '@tanstack/react-query';
import { apiRequest } from './api.ts';

export type DocsStatus = 'pending' | 'building' | 'ready' | 'failed';

/** A problem found while building a site: where it is (file, line, column) and what to change. */
export interface DocsProblem {
  code: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
}

export interface DocsSiteSummary {
  entityRef: string;
  kind: string;
  namespace: string;
  name: string;
  title?: string;
  description?: string;
  owner?: string;
  siteName: string;
  status: DocsStatus;
  builtAt?: string;
  pages: number;
  error?: DocsProblem;
}

/** One entry of a site's navigation: a page (`path`, e.g. `guides/setup.md`), a link (`url`) or a section. */
export interface NavNode {
  title: string;
  path?: string;
  url?: string;
  children?: NavNode[];
}

export interface DocsPageRef {
  path: string;
  slug: string;
  title: string;
}

export interface DocsSite {
  entityRef: string;
  siteName: string;
  siteDescription?: string;
  source: string;
  nav: NavNode[];
  pages: DocsPageRef[];
  status: DocsStatus;
  builtAt?: string;
  buildMs?: number;
  lastAttemptAt?: string;
  error?: DocsProblem;
  problems: DocsProblem[];
}

export interface TocEntry {
  level: number;
  id: string;
  text: string;
}

export interface DocsPageContent {
  path: string;
  slug: string;
  title: string;
  /** Sanitized by Pave: safe to put in the page as it is. */
  html: string;
  toc: TocEntry[];
  editUrl?: string;
  previous?: { slug: string; title: string };
  next?: { slug: string; title: string };
}

/** The entity a site belongs to, as it appears in `/docs/:namespace/:kind/:name` URLs. */
export interface DocsEntity {
  namespace: string;
  kind: string;
  name: string;
}

const enc = encodeURIComponent;
const encodeSlug = (slug: string) => slug.split('/').map(enc).join('/');

function siteApi({ namespace, kind, name }: DocsEntity): string {
  return `/api/docs/${enc(namespace)}/${enc(kind.toLowerCase())}/${enc(name)}`;
}

/** The portal URL of a page, as Pave writes links between pages: `/docs/default/component/foo/guides/setup/`. */
export function docsPath({ namespace, kind, name }: DocsEntity, slug = ''): string {
  const base = `/docs/${enc(namespace)}/${enc(kind.toLowerCase())}/${enc(name)}/`;
  return slug ? `${base}${encodeSlug(slug)}/` : base;
}

/** Reads a portal docs URL back: the entity and the page's slug (`""` for the home page), or undefined. */
export function parseDocsPath(pathname: string): (DocsEntity & { slug: string }) | undefined {
  const m = /^\/docs\/([^/]+)\/([^/]+)\/([^/]+)(?:\/(.*))?$/.exec(pathname);
  if (!m) return undefined;
  try {
    return {
      namespace: decodeURIComponent(m[1]!),
      kind: decodeURIComponent(m[2]!).toLowerCase(),
      name: decodeURIComponent(m[3]!),
      slug: normalizeSlug(decodeURIComponent(m[4] ?? '')),
    };
  } catch {
    return undefined;
  }
}

/** `guides/setup/`, `/guides/setup` and `guides/setup.md` are all the page `guides/setup`. */
export function normalizeSlug(slug: string): string {
  return slug.replace(/^\/+|\/+$/g, '').replace(/\.md$/i, '').replace(/(^|\/)(index|README)$/i, '');
}

export function listDocsSites(signal?: AbortSignal): Promise<{ items: DocsSiteSummary[] }> {
  return apiRequest('/api/docs', { signal });
}

export function getDocsSite(entity: DocsEntity, signal?: AbortSignal): Promise<DocsSite> {
  return apiRequest(siteApi(entity), { signal });
}

export function getDocsPage(entity: DocsEntity, slug: string, signal?: AbortSignal): Promise<DocsPageContent> {
  return apiRequest(`${siteApi(entity)}/pages/${encodeSlug(slug)}`, { signal });
}

/** Queues a rebuild; the current build stays served meanwhile. */
export function rebuildDocs(entity: DocsEntity): Promise<{ jobId: number | string }> {
  return apiRequest(`${siteApi(entity)}/build`, { method: 'POST' });
}

const busy = (status: DocsStatus | undefined) => status === 'pending' || status === 'building';

export function useDocsSites() {
  return useQuery({
    queryKey: ['docs-sites'],
    queryFn: ({ signal }) => listDocsSites(signal),
    // Sites being built are looked at again until they are done.
    refetchInterval: (q) => (q.state.data?.items.some((s) => busy(s.status)) ? 2000 : false),
  });
}

/** A site; polled while it is building, and for a while after `watchUntil` (a rebuild was asked for). */
export function useDocsSite(entity: DocsEntity, watchUntil = 0) {
  return useQuery({
    queryKey: ['docs-site', entity.namespace, entity.kind.toLowerCase(), entity.name],
    queryFn: ({ signal }) => getDocsSite(entity, signal),
    refetchInterval: (q) => (busy(q.state.data?.status) || Date.now() < watchUntil ? 1000 : false),
  });
}

export function useDocsPage(entity: DocsEntity, slug: string, enabled = true) {
  return useQuery({
    queryKey: ['docs-page', entity.namespace, entity.kind.toLowerCase(), entity.name, slug],
    queryFn: ({ signal }) => getDocsPage(entity, slug, signal),
    enabled,
  });
}

/** `file:line:column` of a problem, as much of it as is known. */
export function problemPosition(p: DocsProblem): string | undefined {
  if (!p.file) return undefined;
  return `${p.file}${p.line != null ? `:${p.line}${p.column != null ? `:${p.column}` : ''}` : ''}`;
}
