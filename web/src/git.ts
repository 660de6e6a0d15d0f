// Client for the repositories Pave hosts (`/api/git`): the list, one repository with its
// branches, the files of a folder, a file's text, the commits of a branch, and change requests.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
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
  const res = await fetchRaw(`${repoApi(org, name)}/blob?${params}`, signal);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { text: new TextDecoder().decode(bytes), binary: bytes.includes(0) };
}

/** GETs an endpoint that answers raw bytes, not JSON; its errors are still `ApiError`s. */
async function fetchRaw(url: string, signal?: AbortSignal): Promise<Response> {
  const res = await fetch(url, { credentials: 'same-origin', signal });
  if (res.ok) return res;
  const body = await res.text();
  try {
    const { error } = JSON.parse(body) as { error: { code: string; message: string; details?: unknown } };
    throw new ApiError(res.status, error.code, error.message, error.details);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(res.status, `HTTP_${res.status}`, body.slice(0, 500) || res.statusText);
  }
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

// ---------------------------------------------------------------- change requests

export type ChangeStatus = 'open' | 'merged' | 'closed';
export const CHANGE_STATUSES: ChangeStatus[] = ['open', 'merged', 'closed'];

/** A change request (pull request): a source branch proposed for merging into a target branch. */
export interface ChangeRequest {
  org: string;
  name: string;
  number: number;
  title: string;
  description: string;
  sourceBranch: string;
  targetBranch: string;
  status: ChangeStatus;
  author?: string;
  createdAt: string;
  updatedAt: string;
  mergedAt?: string;
  mergedBy?: string;
  mergeSha?: string;
}

export interface ChangeComment {
  id: number;
  author?: string;
  body: string;
  createdAt: string;
}

export interface ChangedFile {
  path: string;
  additions: number;
  deletions: number;
}

/** A change request with what it brings: commits, files, comments, and whether it merges cleanly. */
export interface ChangeDetails extends ChangeRequest {
  commits: Commit[];
  files: ChangedFile[];
  mergeable: boolean;
  /** The files changed on both branches, when it does not merge cleanly. */
  conflicts: string[];
  comments: ChangeComment[];
}

export interface NewChange {
  title: string;
  description?: string;
  sourceBranch: string;
  targetBranch?: string;
}

const changeApi = (org: string, name: string, number: number) => `${repoApi(org, name)}/changes/${number}`;

/** The portal page of a repository's change requests, or of one of them. */
export function changesPath(org: string, name: string, number?: number): string {
  return `/repos/${enc(org)}/${enc(name)}/changes${number === undefined ? '' : `/${number}`}`;
}

export function listChanges(org: string, name: string, status: ChangeStatus | undefined, signal?: AbortSignal): Promise<{ items: ChangeRequest[] }> {
  return apiRequest(`${repoApi(org, name)}/changes${status ? `?status=${status}` : ''}`, { signal });
}

export function getChange(org: string, name: string, number: number, signal?: AbortSignal): Promise<ChangeDetails> {
  return apiRequest(changeApi(org, name, number), { signal });
}

/** The unified diff of a change request, as text. */
export async function getChangeDiff(org: string, name: string, number: number, signal?: AbortSignal): Promise<string> {
  return (await fetchRaw(`${changeApi(org, name, number)}/diff`, signal)).text();
}

export function openChange(org: string, name: string, input: NewChange): Promise<ChangeRequest> {
  return apiRequest(`${repoApi(org, name)}/changes`, { method: 'POST', body: JSON.stringify(input) });
}

export function commentOnChange(org: string, name: string, number: number, body: string): Promise<ChangeComment> {
  return apiRequest(`${changeApi(org, name, number)}/comments`, { method: 'POST', body: JSON.stringify({ body }) });
}

export function mergeChange(org: string, name: string, number: number): Promise<ChangeRequest> {
  return apiRequest(`${changeApi(org, name, number)}/merge`, { method: 'POST' });
}

export function closeChange(org: string, name: string, number: number): Promise<ChangeRequest> {
  return apiRequest(`${changeApi(org, name, number)}/close`, { method: 'POST' });
}

/** A repository's change requests, all of them or those of one status. */
export function useChanges(org: string, name: string, status?: ChangeStatus) {
  return useQuery({ queryKey: ['git-changes', org, name, status ?? 'all'], queryFn: ({ signal }) => listChanges(org, name, status, signal) });
}

export function useChange(org: string, name: string, number: number) {
  return useQuery({ queryKey: ['git-change', org, name, number], queryFn: ({ signal }) => getChange(org, name, number, signal), enabled: number > 0 });
}

export function useChangeDiff(org: string, name: string, number: number) {
  return useQuery({ queryKey: ['git-change-diff', org, name, number], queryFn: ({ signal }) => getChangeDiff(org, name, number, signal), enabled: number > 0 });
}

/** Forgets what a change (or a new one) makes stale: the lists, the change, and for a merge the target branch. */
function useChangeInvalidation(org: string, name: string) {
  const queryClient = useQueryClient();
  return (number?: number, merged = false) => {
    void queryClient.invalidateQueries({ queryKey: ['git-changes', org, name] });
    if (number !== undefined) {
      void queryClient.invalidateQueries({ queryKey: ['git-change', org, name, number] });
      void queryClient.invalidateQueries({ queryKey: ['git-change-diff', org, name, number] });
    }
    if (merged) {
      for (const key of ['git-repo', 'git-commits', 'git-tree', 'git-blob']) void queryClient.invalidateQueries({ queryKey: [key, org, name] });
    }
  };
}

export function useOpenChange(org: string, name: string) {
  const invalidate = useChangeInvalidation(org, name);
  return useMutation({ mutationFn: (input: NewChange) => openChange(org, name, input), onSuccess: (c) => invalidate(c.number) });
}

export function useCommentOnChange(org: string, name: string, number: number) {
  const invalidate = useChangeInvalidation(org, name);
  return useMutation({ mutationFn: (body: string) => commentOnChange(org, name, number, body), onSuccess: () => invalidate(number) });
}

export function useMergeChange(org: string, name: string, number: number) {
  const invalidate = useChangeInvalidation(org, name);
  // A refused merge (conflicts, a moved target) also means what the page shows is stale.
  return useMutation({ mutationFn: () => mergeChange(org, name, number), onSettled: (c) => invalidate(number, c?.status === 'merged') });
}

export function useCloseChange(org: string, name: string, number: number) {
  const invalidate = useChangeInvalidation(org, name);
  return useMutation({ mutationFn: () => closeChange(org, name, number), onSuccess: () => invalidate(number) });
}
