import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PaveError, badInput, conflict, notFound } from '../core/errors.ts';
import type { EventLog } from '../core/events.ts';
import type { Store } from '../core/store.ts';
import { createPushLog, git, gitBuffer, GitCommandError, ZERO_SHA, type RefUpdate } from './git.ts';

export type { RefUpdate } from './git.ts';

export interface Repo {
  org: string;
  name: string;
  description: string;
  owner?: string;
  entityRef?: string;
  defaultBranch: string;
  createdBy?: string;
  createdAt: string;
  pushedAt?: string;
}

export interface TreeEntry {
  name: string;
  path: string;
  type: 'blob' | 'tree' | 'commit';
  sha: string;
  size?: number;
}

export interface Commit {
  sha: string;
  parents: string[];
  author: { name: string; email: string; date: string };
  subject: string;
  message: string;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;
// The hash of git's empty tree: what a first push is compared with.
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
// Writes the ref updates of a push where the request that made it asked (PAVE_PUSH_LOG): the
// exact before/after of every ref, recorded by git itself once the push is accepted.
const POST_RECEIVE = '#!/bin/sh\nif [ -n "$PAVE_PUSH_LOG" ]; then cat > "$PAVE_PUSH_LOG"; fi\nexit 0\n';

const toRepo = (r: any): Repo => ({
  org: r.org,
  name: r.name,
  description: r.description,
  owner: r.owner ?? undefined,
  entityRef: r.entity_ref ?? undefined,
  defaultBranch: r.default_branch,
  createdBy: r.created_by ?? undefined,
  createdAt: r.created_at,
  pushedAt: r.pushed_at ?? undefined,
});

/** The repositories Pave hosts: bare repositories under `root`, described in the store. */
export class GitRepos {
  /** Told of every accepted push, after its event (change requests follow their branches). */
  onPushed: ((org: string, name: string, updates: RefUpdate[]) => Promise<void>) | undefined;

  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    readonly root: string,
    /** Where throwaway folders go (push logs); see `data.workDir`. */
    readonly workDir: string,
  ) {}

  static checkName(org: string, name: string): void {
    for (const [what, value] of [['organisation', org], ['repository name', name]] as const) {
      if (!NAME.test(value) || value.endsWith('.git') || value.includes('..')) {
        throw badInput('GIT_REPO_NAME_INVALID', `The ${what} "${value}" must be lowercase letters, digits, ".", "_" or "-", start with a letter or digit, and not end in .git`, { [what === 'organisation' ? 'org' : 'name']: value });
      }
    }
  }

  dirOf(org: string, name: string): string {
    GitRepos.checkName(org, name);
    return path.join(this.root, org, `${name}.git`);
  }

  /** The folder of a repository of ours named by a clone URL (`…/git/<org>/<name>.git`), if it exists. */
  localDirOf(url: string): string | undefined {
    const m = /\/git\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url);
    if (!m) return undefined;
    try {
      const dir = this.dirOf(m[1], m[2]);
      return fsSync.existsSync(dir) ? dir : undefined;
    } catch {
      return undefined;
    }
  }

  /** The text of a file named by a browse URL of ours (`…/git/<org>/<name>/blob/<ref>/<path>`), or undefined. */
  async fileAtUrl(url: string): Promise<string | undefined> {
    const m = /\/git\/([^/]+)\/([^/]+?)(?:\.git)?\/blob\/([^/]+)\/(.+)$/.exec(new URL(url).pathname);
    if (!m) return undefined;
    const [, org, name, ref, file] = m.map(decodeURIComponent);
    await this.get(org, name);
    return (await this.blob(org, name, ref, file)).content.toString('utf8');
  }

  async create(input: { org: string; name: string; description?: string; owner?: string; entityRef?: string; createdBy?: string }): Promise<Repo> {
    const dir = this.dirOf(input.org, input.name);
    return this.store.tx(async (q) => {
      const [row] = await q.query<any>(
        `insert into git_repositories (org, name, description, owner, entity_ref, created_by) values ($1, $2, $3, $4, $5, $6)
         on conflict (org, name) do nothing returning *`,
        [input.org, input.name, input.description ?? '', input.owner?.toLowerCase() ?? null, input.entityRef?.toLowerCase() ?? null, input.createdBy ?? null],
      );
      if (!row) throw conflict('GIT_REPO_EXISTS', `A repository ${input.org}/${input.name} already exists; pick another name`, { org: input.org, name: input.name });
      // A folder left by an earlier failed create (no row) is replaced.
      await fs.rm(dir, { recursive: true, force: true });
      await fs.mkdir(dir, { recursive: true });
      try {
        await git(dir, ['init', '--quiet', '--bare', '--initial-branch=main']);
        await git(dir, ['config', 'http.receivepack', 'true']);
        await fs.writeFile(path.join(dir, 'hooks', 'post-receive'), POST_RECEIVE, { mode: 0o755 });
      } catch (e) {
        await fs.rm(dir, { recursive: true, force: true });
        throw e;
      }
      await this.events.append(q, [{ type: 'git.repo.created', subject: `git:${input.org}/${input.name}`, payload: { owner: row.owner, entityRef: row.entity_ref } }]);
      return toRepo(row);
    });
  }

  /** The catalog entity a repository belongs to (set when its catalog file is registered). */
  async setEntity(org: string, name: string, entityRef: string): Promise<void> {
    await this.store.query('update git_repositories set entity_ref = $3 where org = $1 and name = $2', [org, name, entityRef.toLowerCase()]);
  }

  async get(org: string, name: string): Promise<Repo> {
    const [row] = await this.store.query<any>('select * from git_repositories where org = $1 and name = $2', [org, name]);
    if (!row) throw notFound('GIT_REPO_NOT_FOUND', `No repository ${org}/${name} on this Pave`, { org, name });
    return toRepo(row);
  }

  async list(): Promise<Repo[]> {
    return (await this.store.query<any>('select * from git_repositories order by org, name')).map(toRepo);
  }

  async remove(org: string, name: string): Promise<void> {
    await this.get(org, name);
    await this.store.tx(async (q) => {
      await q.query('delete from git_repositories where org = $1 and name = $2', [org, name]);
      await this.events.append(q, [{ type: 'git.repo.deleted', subject: `git:${org}/${name}` }]);
    });
    await fs.rm(this.dirOf(org, name), { recursive: true, force: true });
  }

  async refs(org: string, name: string): Promise<{ head: string; branches: { name: string; sha: string }[]; tags: { name: string; sha: string }[] }> {
    const dir = this.dirOf(org, name);
    const out = await git(dir, ['for-each-ref', '--format=%(refname)%09%(objectname)', 'refs/heads', 'refs/tags']);
    const branches: { name: string; sha: string }[] = [];
    const tags: { name: string; sha: string }[] = [];
    for (const line of out.split('\n').filter(Boolean)) {
      const [ref, sha] = line.split('\t');
      if (ref.startsWith('refs/heads/')) branches.push({ name: ref.slice('refs/heads/'.length), sha });
      else tags.push({ name: ref.slice('refs/tags/'.length), sha });
    }
    const head = (await git(dir, ['symbolic-ref', '--short', 'HEAD'])).trim();
    return { head, branches, tags };
  }

  /** The commit a branch, tag or sha names; a clear 404 when it names nothing. */
  async resolve(org: string, name: string, ref?: string): Promise<string> {
    const dir = this.dirOf(org, name);
    const rev = ref || 'HEAD';
    if (rev.startsWith('-')) throw badInput('GIT_REF_INVALID', `"${rev}" is not a branch, tag or commit`, { ref: rev });
    try {
      return (await git(dir, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim();
    } catch {
      throw notFound('GIT_REF_NOT_FOUND', ref ? `${org}/${name} has no branch, tag or commit "${ref}"` : `${org}/${name} is empty: push a first commit`, { org, name, ref });
    }
  }

  async tree(org: string, name: string, ref: string | undefined, dirPath = ''): Promise<{ sha: string; entries: TreeEntry[] }> {
    const sha = await this.resolve(org, name, ref);
    const clean = cleanPath(dirPath);
    const out = await git(this.dirOf(org, name), ['ls-tree', '-l', '-z', sha, ...(clean ? [`${clean}/`] : [])]);
    const entries = out
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const tab = line.indexOf('\t');
        const [, type, objectSha, size] = line.slice(0, tab).split(/\s+/);
        const full = line.slice(tab + 1);
        return { name: path.posix.basename(full), path: full, type: type as TreeEntry['type'], sha: objectSha, ...(type === 'blob' ? { size: Number(size) } : {}) };
      });
    if (clean && entries.length === 0) throw notFound('GIT_PATH_NOT_FOUND', `${org}/${name} has no folder "${clean}" at ${ref ?? 'HEAD'}`, { path: clean, ref });
    entries.sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'tree' ? -1 : 1));
    return { sha, entries };
  }

  async blob(org: string, name: string, ref: string | undefined, filePath: string): Promise<{ sha: string; content: Buffer }> {
    const sha = await this.resolve(org, name, ref);
    const clean = cleanPath(filePath);
    try {
      return { sha, content: await gitBuffer(this.dirOf(org, name), ['cat-file', 'blob', `${sha}:${clean}`]) };
    } catch (e) {
      if (e instanceof GitCommandError) throw notFound('GIT_PATH_NOT_FOUND', `${org}/${name} has no file "${clean}" at ${ref ?? 'HEAD'}`, { path: clean, ref });
      throw e;
    }
  }

  async commits(org: string, name: string, ref: string | undefined, limit = 30, filePath?: string): Promise<Commit[]> {
    const sha = await this.resolve(org, name, ref);
    const out = await git(this.dirOf(org, name), ['log', `--max-count=${Math.min(Math.max(limit, 1), 500)}`, '-z', '--format=%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%B', sha, '--', ...(filePath ? [cleanPath(filePath)] : [])]);
    return out
      .split('\0')
      .filter(Boolean)
      .map((entry) => {
        const [commitSha, parents, an, ae, date, message] = entry.split('\x1f');
        return { sha: commitSha, parents: parents ? parents.split(' ') : [], author: { name: an, email: ae, date }, subject: message.split('\n')[0], message: message.trim() };
      });
  }

  /** The files a ref update changed: against the old commit, or for a new branch, against what the repository had. */
  async changedFiles(org: string, name: string, update: RefUpdate): Promise<string[]> {
    if (update.after === ZERO_SHA) return [];
    const dir = this.dirOf(org, name);
    let base = update.before;
    if (base === ZERO_SHA) {
      const others = (await git(dir, ['for-each-ref', '--format=%(objectname)', 'refs/heads'])).split('\n').filter((s) => s && s !== update.after);
      base = others.length ? (await git(dir, ['merge-base', update.after, ...others.slice(0, 1)]).catch(() => '')).trim() || EMPTY_TREE : EMPTY_TREE;
    }
    const out = await git(dir, ['diff', '--name-only', '-z', base, update.after]);
    return out.split('\0').filter(Boolean);
  }

  /**
   * Pushes a ref of a local clone (a task's workspace) straight into one of our repositories, and
   * records it as any push over HTTP is recorded.
   */
  async pushFrom(work: string, org: string, name: string, refspec: string, pusher: string, opts: { force?: boolean; env?: Record<string, string> } = {}): Promise<void> {
    const log = await createPushLog(this.workDir);
    await git(work, ['push', '--quiet', ...(opts.force ? ['--force'] : []), this.dirOf(org, name), refspec], { timeoutMs: 0, env: { ...opts.env, ...log.env } });
    await this.recordPush(org, name, await log.read(), pusher);
  }

  /** Records an accepted push: one `git.pushed` event per ref, with the files it changed. */
  async recordPush(org: string, name: string, updates: RefUpdate[], pusher: string): Promise<void> {
    if (updates.length === 0) return;
    const withFiles = await Promise.all(updates.map(async (u) => ({ ...u, files: await this.changedFiles(org, name, u) })));
    await this.store.tx(async (q) => {
      await q.query('update git_repositories set pushed_at = now() where org = $1 and name = $2', [org, name]);
      await this.events.append(
        q,
        withFiles.map((u) => ({ type: 'git.pushed' as const, subject: `git:${org}/${name}`, payload: { ref: u.ref, before: u.before, after: u.after, files: u.files, pusher } })),
      );
    });
    this.events.notify(['git.pushed']);
    await this.onPushed?.(org, name, updates);
  }
}

/** A path inside the repository: no leading or trailing slash, no way out of it. */
function cleanPath(p: string): string {
  if (p.split(/[\\/]/).some((s) => s === '..')) throw new PaveError('GIT_PATH_INVALID', 400, `"${p}" is not a path inside the repository`, { path: p });
  const clean = path.posix.normalize(`/${p}`).replace(/^\/+|\/+$/g, '');
  return clean === '.' ? '' : clean;
}
