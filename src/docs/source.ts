import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { badInput } from '../core/errors.ts';
import { git } from '../git/index.ts';
import { scratchDir } from '../core/scratch.ts';

export const TECHDOCS_REF = 'backstage.io/techdocs-ref';
const LOCATION = 'backstage.io/managed-by-location';

/** Where an entity's docs come from: a local folder, or a folder inside a git repository. */
export type DocsSource =
  | { type: 'dir'; dir: string }
  | { type: 'git'; repo: string; ref?: string; subpath: string; host: 'github' | 'gitlab' | 'plain' };

/** A checked-out source: the folder holding `mkdocs.yml`, until `cleanup`. */
export interface Checkout {
  dir: string;
  /** Where a page's source can be edited, as `editBase + <path from the source root>`. */
  editBase?: string;
  /** Local folders are watched for edits; a clone is not. */
  watch?: string;
  cleanup(): Promise<void>;
}

const refError = (entityRef: string, value: unknown, why: string) =>
  badInput('DOCS_REF_INVALID', `${entityRef}: annotation ${TECHDOCS_REF} "${String(value)}" ${why}`, { entityRef, annotation: TECHDOCS_REF, value });

/**
 * Reads `backstage.io/techdocs-ref` as TechDocs does: `dir:<path>` relative to the file (or
 * repository URL) the entity was read from, or `url:<repository tree URL>`.
 */
export function resolveDocsSource(entity: any, entityRef: string): DocsSource {
  const annotations = entity?.metadata?.annotations ?? {};
  const value = annotations[TECHDOCS_REF];
  if (typeof value !== 'string' || !value.trim()) throw refError(entityRef, value, 'must be dir:<path> or url:<repository URL>');
  const colon = value.indexOf(':');
  const type = colon > 0 ? value.slice(0, colon) : '';
  const target = value.slice(colon + 1).trim();
  if (type === 'url') return parseRepoUrl(target, entityRef, value);
  if (type !== 'dir') throw refError(entityRef, value, 'must start with dir: or url:');
  const location = String(annotations[LOCATION] ?? '');
  if (location.startsWith('file:')) {
    const file = location.slice('file:'.length);
    const base = path.dirname(file.startsWith('file://') ? fileURLToPath(file) : file);
    return { type: 'dir', dir: path.resolve(base, target || '.') };
  }
  if (location.startsWith('url:')) {
    // A file read from a repository URL: its docs folder is beside it in the same repository.
    const source = parseRepoUrl(location.slice('url:'.length), entityRef, value);
    if (source.type !== 'git') throw refError(entityRef, value, 'cannot be resolved against its location');
    const fileDir = path.posix.dirname(source.subpath || '.');
    return { ...source, subpath: path.posix.normalize(path.posix.join(fileDir, target || '.')).replace(/^\.$/, '') };
  }
  throw refError(entityRef, value, `is relative, but the entity's location (${location || 'none'}) is neither a file nor a URL`);
}

/** `https://host/owner/repo/tree/<ref>/<path>` (GitHub), `…/-/tree/<ref>/<path>` (GitLab), or a plain clone URL. */
function parseRepoUrl(raw: string, entityRef: string, value: string): DocsSource {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refError(entityRef, value, 'is not a valid URL');
  }
  if (!['http:', 'https:', 'file:'].includes(url.protocol)) throw refError(entityRef, value, `uses ${url.protocol}; only http, https and file URLs are read`);
  const origin = url.protocol === 'file:' ? 'file://' : url.origin;
  const parts = url.pathname.split('/');
  const at = parts.findIndex((p, i) => (p === 'tree' || p === 'blob') && i >= 2);
  if (at > 0) {
    const gitlab = parts[at - 1] === '-';
    const repoPath = parts.slice(0, gitlab ? at - 1 : at).join('/');
    return {
      type: 'git',
      repo: `${origin}${repoPath}`,
      ref: parts[at + 1] || undefined,
      subpath: parts.slice(at + 2).filter(Boolean).join('/'),
      host: gitlab ? 'gitlab' : 'github',
    };
  }
  return { type: 'git', repo: url.href.replace(/\/+$/, ''), subpath: '', host: 'plain' };
}

/** The stable text of a source, kept with the site (and shown on the Docs tab). */
export function describeSource(source: DocsSource): string {
  if (source.type === 'dir') return `dir:${source.dir}`;
  return `url:${source.repo}${source.ref ? `@${source.ref}` : ''}${source.subpath ? `/${source.subpath}` : ''}`;
}

/** Makes the source readable as a local folder: a local one as it is, a repository by a shallow clone. */
export async function checkout(source: DocsSource, opts: { timeoutMs: number; workDir: string; localRepo?: (url: string) => string | undefined }): Promise<Checkout> {
  if (source.type === 'dir') return { dir: source.dir, watch: source.dir, cleanup: async () => undefined };
  const work = await scratchDir(opts.workDir, 'docs-');
  // Never ask for credentials: a private repository fails with git's own message.
  const gitOpts = { timeoutMs: opts.timeoutMs, env: { GIT_ASKPASS: 'true' } };
  const cleanup = () => fs.rm(work, { recursive: true, force: true });
  try {
    // A repository Pave hosts itself is cloned from its folder: no credentials, no HTTP round trip.
    const from = opts.localRepo?.(source.repo) ?? source.repo;
    await git(work, ['clone', '--depth', '1', '--quiet', ...(source.ref ? ['--branch', source.ref] : []), '--', from, path.join(work, 'repo')], gitOpts);
  } catch (e) {
    await cleanup();
    throw badInput('DOCS_SOURCE_UNREADABLE', `Could not clone ${source.repo}${source.ref ? ` at ${source.ref}` : ''}: ${(e as Error).message}`, { repo: source.repo, ref: source.ref });
  }
  const root = path.join(work, 'repo');
  const dir = path.resolve(root, source.subpath);
  if (dir !== root && !dir.startsWith(root + path.sep)) {
    await cleanup();
    throw badInput('DOCS_REF_INVALID', `The docs path "${source.subpath}" leaves the repository`, { subpath: source.subpath });
  }
  const ref = source.ref ?? (await git(root, ['rev-parse', '--abbrev-ref', 'HEAD'], gitOpts)).trim();
  const editBase =
    source.host === 'github' ? `${source.repo}/edit/${ref}/` : source.host === 'gitlab' ? `${source.repo}/-/edit/${ref}/` : undefined;
  return { dir, editBase: editBase && `${editBase}${source.subpath ? `${source.subpath}/` : ''}`, cleanup };
}
