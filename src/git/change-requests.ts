import { badInput, conflict, notFound } from '../core/errors.ts';
import type { EventLog, EventType } from '../core/events.ts';
import type { Store } from '../core/store.ts';
import { git, GitCommandError } from './git.ts';
import type { Commit, GitRepos, RefUpdate } from './repos.ts';

export type ChangeStatus = 'open' | 'merged' | 'closed';

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

const toChange = (r: any): ChangeRequest => ({
  org: r.org,
  name: r.name,
  number: r.number,
  title: r.title,
  description: r.description,
  sourceBranch: r.source_branch,
  targetBranch: r.target_branch,
  status: r.status,
  author: r.author ?? undefined,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  mergedAt: r.merged_at ?? undefined,
  mergedBy: r.merged_by ?? undefined,
  mergeSha: r.merge_sha ?? undefined,
});

/**
 * Change requests (pull requests) on repositories Pave hosts: opened from a branch, with their
 * commits, diff and comments, merged (a merge commit made without a working tree) or closed.
 * Each step is an event (`git.change.opened|updated|merged|closed`) for pipelines and previews.
 */
export class ChangeRequests {
  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly repos: GitRepos,
  ) {}

  private async branchSha(org: string, name: string, branch: string): Promise<string> {
    if (!branch || branch.startsWith('-')) throw badInput('GIT_REF_INVALID', `"${branch}" is not a branch name`, { branch });
    try {
      return (await git(this.repos.dirOf(org, name), ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`])).trim();
    } catch {
      throw notFound('GIT_BRANCH_NOT_FOUND', `${org}/${name} has no branch "${branch}"; push it first`, { org, name, branch });
    }
  }

  private async emit(type: EventType, change: ChangeRequest, payload: Record<string, unknown> = {}): Promise<void> {
    await this.events.append(this.store, [
      { type, subject: `git:${change.org}/${change.name}#${change.number}`, payload: { number: change.number, sourceBranch: change.sourceBranch, targetBranch: change.targetBranch, title: change.title, ...payload } },
    ]);
    this.events.notify([type]);
  }

  async open(org: string, name: string, input: { title: string; description?: string; sourceBranch: string; targetBranch?: string; author?: string }): Promise<ChangeRequest> {
    const repo = await this.repos.get(org, name);
    const target = input.targetBranch ?? repo.defaultBranch;
    if (!input.title?.trim()) throw badInput('CHANGE_TITLE_REQUIRED', 'A change request needs a title', {});
    if (input.sourceBranch === target) throw badInput('CHANGE_SAME_BRANCH', `The source and target branch are both "${target}"; open it from another branch`, { branch: target });
    const head = await this.branchSha(org, name, input.sourceBranch);
    await this.branchSha(org, name, target);
    const change = await this.store.tx(async (q) => {
      const [open] = await q.query<{ number: number }>(`select number from git_change_requests where org = $1 and name = $2 and source_branch = $3 and target_branch = $4 and status = 'open'`, [org, name, input.sourceBranch, target]);
      if (open) throw conflict('CHANGE_EXISTS', `Change request #${open.number} from ${input.sourceBranch} into ${target} is already open`, { number: open.number });
      const [row] = await q.query<any>(
        `insert into git_change_requests (org, name, number, title, description, source_branch, target_branch, author, head_sha)
         values ($1, $2, (select coalesce(max(number), 0) + 1 from git_change_requests where org = $1 and name = $2), $3, $4, $5, $6, $7, $8)
         returning *`,
        [org, name, input.title.trim(), input.description ?? '', input.sourceBranch, target, input.author ?? null, head],
      );
      return toChange(row);
    });
    await this.emit('git.change.opened', change, { head, author: change.author });
    return change;
  }

  async get(org: string, name: string, number: number): Promise<ChangeRequest> {
    const [row] = await this.store.query<any>('select * from git_change_requests where org = $1 and name = $2 and number = $3', [org, name, number]);
    if (!row) throw notFound('CHANGE_NOT_FOUND', `${org}/${name} has no change request #${number}`, { org, name, number });
    return toChange(row);
  }

  async list(org: string, name: string, status?: ChangeStatus): Promise<ChangeRequest[]> {
    const rows = await this.store.query<any>(`select * from git_change_requests where org = $1 and name = $2 and ($3::text is null or status = $3) order by number desc`, [org, name, status ?? null]);
    return rows.map(toChange);
  }

  /** The commits and files the change brings: what the source has that the target does not. */
  async details(change: ChangeRequest): Promise<{ commits: Commit[]; files: { path: string; additions: number; deletions: number }[]; mergeable: boolean; conflicts: string[] }> {
    const dir = this.repos.dirOf(change.org, change.name);
    const source = change.status === 'open' ? `refs/heads/${change.sourceBranch}` : (change.mergeSha ?? `refs/heads/${change.sourceBranch}`);
    const range = change.status === 'merged' && change.mergeSha ? `${change.mergeSha}^1..${change.mergeSha}^2` : `refs/heads/${change.targetBranch}..${source}`;
    const log = await git(dir, ['log', '-z', '--format=%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%B', range]).catch(() => '');
    const commits = log
      .split('\0')
      .filter(Boolean)
      .map((entry) => {
        const [sha, parents, an, ae, date, message] = entry.split('\x1f');
        return { sha, parents: parents ? parents.split(' ') : [], author: { name: an, email: ae, date }, subject: message.split('\n')[0], message: message.trim() };
      });
    const diffRange = change.status === 'merged' && change.mergeSha ? [`${change.mergeSha}^1`, change.mergeSha] : [`refs/heads/${change.targetBranch}...${source}`];
    const numstat = await git(dir, ['diff', '--numstat', '-z', ...diffRange]).catch(() => '');
    const files = numstat
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const [add, del, ...rest] = line.split('\t');
        return { path: rest.join('\t'), additions: add === '-' ? 0 : Number(add), deletions: del === '-' ? 0 : Number(del) };
      });
    const conflicts = change.status === 'open' ? await this.conflictsOf(change) : [];
    return { commits, files, mergeable: change.status === 'open' && conflicts.length === 0, conflicts };
  }

  /** The unified diff of the change (against the merge base, as code review shows it). */
  async diff(change: ChangeRequest): Promise<string> {
    const dir = this.repos.dirOf(change.org, change.name);
    if (change.status === 'merged' && change.mergeSha) return git(dir, ['diff', `${change.mergeSha}^1`, change.mergeSha]);
    return git(dir, ['diff', `refs/heads/${change.targetBranch}...refs/heads/${change.sourceBranch}`]);
  }

  private async conflictsOf(change: ChangeRequest): Promise<string[]> {
    const dir = this.repos.dirOf(change.org, change.name);
    try {
      await git(dir, ['merge-tree', '--write-tree', '--name-only', '--no-messages', `refs/heads/${change.targetBranch}`, `refs/heads/${change.sourceBranch}`]);
      return [];
    } catch (e) {
      // Exit status 1: the merge has conflicts; the output is the tree, then the conflicted files.
      if (e instanceof GitCommandError && e.exitCode === 1) return [...new Set(e.stdout.split('\n').slice(1).filter(Boolean))];
      throw e;
    }
  }

  async comment(change: ChangeRequest, author: string | undefined, body: string): Promise<ChangeComment> {
    if (!body?.trim()) throw badInput('COMMENT_EMPTY', 'A comment needs a body', {});
    const [row] = await this.store.query<any>(
      `insert into git_change_comments (org, name, number, author, body) values ($1, $2, $3, $4, $5) returning *`,
      [change.org, change.name, change.number, author ?? null, body],
    );
    await this.store.query('update git_change_requests set updated_at = now() where org = $1 and name = $2 and number = $3', [change.org, change.name, change.number]);
    return { id: Number(row.id), author: row.author ?? undefined, body: row.body, createdAt: row.created_at };
  }

  async comments(change: ChangeRequest): Promise<ChangeComment[]> {
    const rows = await this.store.query<any>('select * from git_change_comments where org = $1 and name = $2 and number = $3 order by id', [change.org, change.name, change.number]);
    return rows.map((r) => ({ id: Number(r.id), author: r.author ?? undefined, body: r.body, createdAt: r.created_at }));
  }

  /**
   * Merges the source branch into the target with a merge commit, made from the trees alone (no
   * working copy), and moves the target only if nobody pushed to it meanwhile.
   */
  async merge(change: ChangeRequest, by: string | undefined): Promise<ChangeRequest> {
    if (change.status !== 'open') throw conflict('CHANGE_NOT_OPEN', `Change request #${change.number} is ${change.status}`, { number: change.number, status: change.status });
    const dir = this.repos.dirOf(change.org, change.name);
    const target = await this.branchSha(change.org, change.name, change.targetBranch);
    const source = await this.branchSha(change.org, change.name, change.sourceBranch);
    const conflicts = await this.conflictsOf(change);
    if (conflicts.length) {
      throw conflict('CHANGE_CONFLICTS', `#${change.number} cannot be merged: ${conflicts.join(', ')} changed on both branches; merge ${change.targetBranch} into ${change.sourceBranch}, resolve, and push`, { files: conflicts });
    }
    const tree = (await git(dir, ['merge-tree', '--write-tree', `refs/heads/${change.targetBranch}`, `refs/heads/${change.sourceBranch}`])).split('\n')[0].trim();
    const message = `Merge change request #${change.number} from ${change.sourceBranch}\n\n${change.title}`;
    const mergeSha = (await git(dir, ['commit-tree', tree, '-p', target, '-p', source, '-m', message])).trim();
    try {
      await git(dir, ['update-ref', `refs/heads/${change.targetBranch}`, mergeSha, target]);
    } catch {
      throw conflict('CHANGE_TARGET_MOVED', `${change.targetBranch} moved while merging #${change.number}; try again`, {});
    }
    const [row] = await this.store.query<any>(
      `update git_change_requests set status = 'merged', merged_at = now(), merged_by = $4, merge_sha = $5, updated_at = now()
       where org = $1 and name = $2 and number = $3 returning *`,
      [change.org, change.name, change.number, by ?? null, mergeSha],
    );
    const merged = toChange(row);
    await this.repos.recordPush(change.org, change.name, [{ ref: `refs/heads/${change.targetBranch}`, before: target, after: mergeSha }], by ?? 'pave');
    await this.emit('git.change.merged', merged, { mergeSha, by });
    return merged;
  }

  async close(change: ChangeRequest, by: string | undefined): Promise<ChangeRequest> {
    if (change.status !== 'open') throw conflict('CHANGE_NOT_OPEN', `Change request #${change.number} is ${change.status}`, { number: change.number, status: change.status });
    const [row] = await this.store.query<any>(`update git_change_requests set status = 'closed', updated_at = now() where org = $1 and name = $2 and number = $3 returning *`, [change.org, change.name, change.number]);
    const closed = toChange(row);
    await this.emit('git.change.closed', closed, { by });
    return closed;
  }

  /** A push to the source branch of an open change request updates it. */
  async onPush(org: string, name: string, updates: RefUpdate[]): Promise<void> {
    for (const u of updates) {
      if (!u.ref.startsWith('refs/heads/')) continue;
      const branch = u.ref.slice('refs/heads/'.length);
      const rows = await this.store.query<any>(
        `update git_change_requests set head_sha = $4, updated_at = now() where org = $1 and name = $2 and source_branch = $3 and status = 'open' returning *`,
        [org, name, branch, u.after],
      );
      for (const r of rows) await this.emit('git.change.updated', toChange(r), { before: u.before, after: u.after });
    }
  }
}
