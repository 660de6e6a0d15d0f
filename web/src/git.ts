// Client for the repositories Pave hosts (`/api/git`): the list, one repository with its
// branches, the files of a folder, a file's text and the commits of a branch.
import { useQuery } from '@tanstack/react-query';
import { ApiError, apiRequest, type Entity } from './api.ts';
import { entityRefOf, normalizeRef } from './refs.ts';

export const GIT_API = '/api/git';
/** The annotation that names an entity's repository on Pave: `<org>/<name>`. */
export const REPOSITORY_ANNOTATION = 'pave.dev/repository';

export interface Repo {
  org: string;
  name: string;
  description: string;
  owner?: string;
  entityRef?: string;
  defaultBranch: string;
  cloneUrl: string;
  location: string;
  createdAt?: string;
  pushedAt?: string;
}

export interface GitRef {
  name: string;
  sha: string;
}

export interface RepoDetails extends Repo {
  head: string;
  branches: GitRef[];
  tags: GitRef[];
}

export interface TreeEntry {
  name: string;
  path: string;
  type: 'blob' | 'tree' | 'commit';
  size?: number;
}

export interface Commit {
  sha: string;
  author: { name: string; email: string; date: string };
  subject: string;
  message: string;
}

const enc = encodeURIComponent;
const repoApi = (org: string, name: string) => `${GIT_API}/repos/${enc(org)}/${enc(name)}`;

/** The portal page of a repository. */
export function repoPath(org: string, name: string, query?: Record<string, string | undefined>): string {
  const params = new URLSearchParams(Object.entries(query ?? {}).filter((e): e is [string, string] => !!e[1]));
  const qs = params.toString();
  return `/repos/${enc(org)}/${enc(name)}${qs ? `?${qs}` : ''}`;
}

export function listRepos(signal?: AbortSignal): Promise<{ items: Repo[] }> {
  return apiRequest(`${GIT_API}/repos`, { signal });
}

export function getRepo(org: string, name: string, signal?: AbortSignal): Promise<RepoDetails> {
  return apiRequest(repoApi(org, name), { signal });
}

export function getTree(org: string, name: string, ref: string | undefined, path: string, signal?: AbortSignal): Promise<{ sha: string; entries: TreeEntry[] }> {
  const params = new URLSearchParams({ path });
  if (ref) params.set('ref', ref);
  return apiRequest(`${repoApi(org, name)}/tree?${params}`, { signal });
}

export function getCommits(org: string, name: string, ref: string | undefined, limit: number, signal?: AbortSignal): Promise<{ items: Commit[] }> {
  const params = new URLSearchParams({ limit: String(limit) });
  if (ref) params.set('ref', ref);
  return apiRequest(`${repoApi(org, name)}/commits?${params}`, { signal });
}

/** A file's text (the blob endpoint answers raw bytes, not JSON). */
export async function getBlobText(org: string, name: string, ref: string | undefined, path: string, signal?: AbortSignal): Promise<{ text: string; binary: boolean }> {
  const params = new URLSearchParams({ path });
  if (ref) params.set('ref', ref);
  const res = await fetch(`${repoApi(org, name)}/blob?${params}`, { credentials: 'same-origin', signal });
  if (!res.ok) {
    const body = await res.text();
    try {
      const { error } = JSON.parse(body) as { error: { code: string; message: string; details?: unknown } };
      throw new ApiError(res.status, error.code, error.message, error.details);
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError(res.status, `HTTP_${res.status}`, body.slice(0, 500) || res.statusText);
    }
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { text: new TextDecoder().decode(bytes), binary: bytes.includes(0) };
}

export function useRepos(enabled = true) {
  return useQuery({ queryKey: ['git-repos'], queryFn: ({ signal }) => listRepos(signal), enabled, retry: false });
}

/**
 * The repository on Pave an entity lives in: named by its `pave.dev/repository` annotation, or
 * the repository whose `entityRef` is the entity (set when a template registered it).
 */
export function useEntityRepository(entity: Entity): { org: string; name: string } | undefined {
  const annotated = entity.metadata.annotations?.[REPOSITORY_ANNOTATION];
  const m = annotated ? /^([^/\s]+)\/([^/\s]+?)(?:\.git)?$/.exec(annotated.trim()) : null;
  const repos = useRepos(!m);
  if (m) return { org: m[1]!, name: m[2]! };
  const ref = normalizeRef(entityRefOf(entity));
  const repo = repos.data?.items.find((r) => r.entityRef && normalizeRef(r.entityRef) === ref);
  return repo ? { org: repo.org, name: repo.name } : undefined;
}

/**
 * The portal page for a URL of this Pave's git server, if it is one: a clone URL
 * (`…/git/<org>/<name>.git`) opens the repository, a browse URL (`…/git/<org>/<name>/blob/<ref>/<path>`)
 * the file. Other URLs are not the portal's.
 */
export function portalPathOfGitUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url, window.location.origin);
  } catch {
    return undefined;
  }
  if (u.origin !== window.location.origin) return undefined;
  const blob = /^\/git\/([^/]+)\/([^/]+?)(?:\.git)?\/blob\/([^/]+)\/(.+)$/.exec(u.pathname);
  if (blob) return repoPath(decodeURIComponent(blob[1]!), decodeURIComponent(blob[2]!), { ref: decodeURIComponent(blob[3]!), file: decodeURIComponent(blob[4]!) });
  const repo = /^\/git\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(u.pathname);
  return repo ? repoPath(decodeURIComponent(repo[1]!), decodeURIComponent(repo[2]!)) : undefined;
}
