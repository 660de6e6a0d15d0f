// Thin client for Pave's HTTP API: the transport every call goes through (session cookie,
// CSRF header, sign-in redirect) and the Backstage-compatible catalog endpoints.
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

// The session's CSRF token: every mutating request sent with the session cookie carries it.
let csrfToken: string | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** 401 codes that mean "no valid session": the person must sign in (again). */
const SIGN_IN_AGAIN = new Set(['AUTH_REQUIRED', 'SESSION_EXPIRED']);

/** Only paths inside the portal may be returned to after signing in. */
export function safeReturnTo(raw: string | null | undefined): string {
  return raw && /^\/(?![/\\])/.test(raw) && !/^\/signin(\/|\?|$)/.test(raw) ? raw : '/catalog';
}

export function signInPath(returnTo: string): string {
  return `/signin?returnTo=${encodeURIComponent(safeReturnTo(returnTo))}`;
}

function goToSignIn(): void {
  if (window.location.pathname === '/signin') return;
  // A full navigation: nothing the previous session loaded stays in memory.
  window.location.assign(signInPath(window.location.pathname + window.location.search));
}

async function send(path: string, init: RequestInit | undefined): Promise<Response> {
  const method = (init?.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init?.body !== undefined) headers['content-type'] = 'application/json';
  if (!SAFE_METHODS.has(method) && csrfToken) headers['x-csrf-token'] = csrfToken;
  return fetch(path, { ...init, credentials: 'same-origin', headers: { ...headers, ...(init?.headers as object) } });
}

/**
 * Calls the API at `path` (e.g. `/api/auth/tokens`). Errors become `ApiError`; a missing or
 * expired session sends the browser to the sign-in page, which brings it back here.
 */
export async function apiRequest<T>(path: string, init?: RequestInit & { signal?: AbortSignal }): Promise<T> {
  let res = await send(path, init);
  if (res.status === 403 && !SAFE_METHODS.has((init?.method ?? 'GET').toUpperCase())) {
    const err = await toApiError(res.clone());
    // The session changed under this page (signed in again in another tab): take its token, try once more.
    if (err.code === 'CSRF_TOKEN_INVALID') {
      const session = await fetch('/api/auth/session', { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (session.ok) {
        setCsrfToken(((await session.json()) as { csrfToken?: string }).csrfToken);
        res = await send(path, init);
      }
    }
  }
  if (!res.ok) {
    const err = await toApiError(res);
    if (res.status === 401 && SIGN_IN_AGAIN.has(err.code)) goToSignIn();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

function request<T>(path: string, init?: RequestInit & { signal?: AbortSignal }): Promise<T> {
  return apiRequest(`${CATALOG_API}${path}`, init);
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

/** Re-reads the location the entity came from. */
export function refreshEntity(entityRef: string): Promise<void> {
  return request(`/refresh`, { method: 'POST', body: JSON.stringify({ entityRef }) });
}

/** Removes an entity; its location may produce it again on the next read. */
export function deleteEntity(uid: string): Promise<void> {
  return request(`/entities/by-uid/${encodeURIComponent(uid)}`, { method: 'DELETE' });
}
