// Thin client for Pave's public, Backstage-compatible catalog API.
// The portal talks to Pave only through these HTTP endpoints.

export const CATALOG_API = '/api/catalog';

export interface EntityLink {
  url: string;
  title?: string;
  icon?: string;
  type?: string;
}

export interface EntityRelation {
  type: string;
  targetRef: string;
}

export interface EntityStatusItem {
  type: string;
  level: 'info' | 'warning' | 'error' | string;
  message: string;
  error?: { name?: string; message?: string; [key: string]: unknown };
}

export interface Entity {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    etag?: string;
    title?: string;
    description?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    tags?: string[];
    links?: EntityLink[];
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  relations?: EntityRelation[];
  status?: { items?: EntityStatusItem[] };
}

export interface QueryEntitiesResponse {
  items: Entity[];
  totalItems: number;
  pageInfo: { nextCursor?: string; prevCursor?: string };
}

export interface FacetCount {
  value: string;
  count: number;
}

export interface FacetsResponse {
  facets: Record<string, FacetCount[]>;
}

export interface Location {
  id: string;
  type: string;
  target: string;
}

export interface LocationError {
  code?: string;
  message: string;
  location?: string;
  line?: number;
  column?: number;
  entityRef?: string;
}

export interface LocationStatus {
  state: 'ok' | 'failed' | 'pending' | string;
  lastReadAt?: string | null;
  errors?: LocationError[];
}

export interface LocationEntry {
  data: Location & { status?: LocationStatus };
}

export interface AddLocationResponse {
  location: Location;
  entities: Entity[];
  exists?: boolean;
}

/** An error answered by the API: `{ error: { code, message, details } }` with a 4xx/5xx status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `Request failed with status ${res.status}`;
  let details: unknown;
  try {
    const text = await res.text();
    if (text) {
      try {
        const body = JSON.parse(text) as {
          error?: { code?: string; name?: string; message?: string; details?: unknown };
          message?: string;
        };
        const err = body.error;
        if (err && typeof err === 'object') {
          code = err.code ?? err.name ?? code;
          message = err.message ?? message;
          details = err.details;
        } else if (typeof body.message === 'string') {
          message = body.message;
        }
      } catch {
        message = text.slice(0, 500);
      }
    }
  } catch {
    // keep defaults
  }
  return new ApiError(res.status, code, message, details);
}

async function request<T>(path: string, init?: RequestInit & { signal?: AbortSignal }): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init?.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${CATALOG_API}${path}`, { ...init, headers: { ...headers, ...(init?.headers as object) } });
  if (!res.ok) throw await toApiError(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A catalog filter in disjunctive normal form: OR of ANDed key/value conditions. */
export type FilterSet = Array<Record<string, string>>;

function appendFilters(params: URLSearchParams, filters: FilterSet) {
  for (const conj of filters) {
    const parts = Object.entries(conj).map(([k, v]) => `${k}=${v}`);
    if (parts.length) params.append('filter', parts.join(','));
  }
}

export interface QueryEntitiesInit {
  filters: FilterSet;
  fullTextFilterTerm?: string;
  orderField?: string; // e.g. "metadata.name,asc"
  limit: number;
}

export function queryEntities(
  arg: { cursor: string; limit: number } | QueryEntitiesInit,
  signal?: AbortSignal,
): Promise<QueryEntitiesResponse> {
  const params = new URLSearchParams();
  if ('cursor' in arg) {
    // When a cursor is given, the cursor carries the whole query: send only cursor + limit.
    params.set('cursor', arg.cursor);
    params.set('limit', String(arg.limit));
  } else {
    appendFilters(params, arg.filters);
    params.set('limit', String(arg.limit));
    if (arg.orderField) params.set('orderField', arg.orderField);
    const term = arg.fullTextFilterTerm?.trim();
    if (term) params.set('fullTextFilterTerm', term);
  }
  return request(`/entities/by-query?${params}`, { signal });
}

export function getEntityFacets(facets: string[], filters: FilterSet, signal?: AbortSignal): Promise<FacetsResponse> {
  const params = new URLSearchParams();
  for (const f of facets) params.append('facet', f);
  appendFilters(params, filters);
  return request(`/entity-facets?${params}`, { signal });
}

/** Returns null when the entity does not exist (404). */
export async function getEntityByName(
  kind: string,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<Entity | null> {
  try {
    return await request<Entity>(
      `/entities/by-name/${encodeURIComponent(kind)}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`,
      { signal },
    );
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export async function getEntitiesByRefs(entityRefs: string[], signal?: AbortSignal): Promise<Array<Entity | null>> {
  if (entityRefs.length === 0) return [];
  const res = await request<{ items: Array<Entity | null> }>(`/entities/by-refs`, {
    method: 'POST',
    body: JSON.stringify({ entityRefs }),
    signal,
  });
  return res.items;
}

export function addLocation(
  location: { type: string; target: string },
  dryRun: boolean,
): Promise<AddLocationResponse> {
  return request(`/locations${dryRun ? '?dryRun=true' : ''}`, {
    method: 'POST',
    body: JSON.stringify(location),
  });
}

export function getLocations(signal?: AbortSignal): Promise<LocationEntry[]> {
  return request(`/locations`, { signal });
}

export function refreshLocation(id: string): Promise<unknown> {
  return request(`/locations/${encodeURIComponent(id)}/refresh`, { method: 'POST' });
}

export function deleteLocation(id: string): Promise<unknown> {
  return request(`/locations/${encodeURIComponent(id)}`, { method: 'DELETE' });
}
