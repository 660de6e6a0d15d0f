import fs from 'node:fs/promises';
import path from 'node:path';
import fg from 'fast-glob';
import type { IntegrationsConfig } from '../../core/config.ts';
import { badInput, isPaveError, PaveError } from '../../core/errors.ts';
import { git, GitCommandError } from '../../git/index.ts';
import type { ActionContext } from '../action.ts';
import { masker } from '../steps.ts';
import { DEFAULT_SCM_HOSTS, parseRepoUrl } from '../filters.ts';

/**
 * What the publish actions share: committing the workspace, pushing it with a token, and calling
 * GitHub's or GitLab's REST API with their errors turned into PaveErrors that name the host, the
 * call and the service's own message. A token never appears in a log line, an error or a command
 * line.
 */

/** Commits and clones in a task's workspace run without a timeout: a skeleton may be large. */
export const workspaceGit = (cwd: string, args: string[], env?: Record<string, string>) => git(cwd, args, { timeoutMs: 0, env });

/** The author of a scaffolder commit (the input's, else Pave); Pave is always the committer. */
export function commitAuthor(name?: string, email?: string): Record<string, string> {
  return { GIT_AUTHOR_NAME: name ?? 'Pave', GIT_AUTHOR_EMAIL: email ?? 'scaffolder@pave.local', GIT_COMMITTER_NAME: 'Pave', GIT_COMMITTER_EMAIL: 'scaffolder@pave.local' };
}

export interface WorkspaceCommit {
  /** A fresh repository holding the commit (the workspace itself is left as the next steps expect it). */
  dir: string;
  commitHash: string;
}

/** Copies `sourcePath` of the workspace (all of it by default) into a new repository and commits it as the first commit of `branch`. */
export async function commitWorkspace(
  ctx: ActionContext<unknown>,
  o: { sourcePath?: string; branch: string; message: string; authorName?: string; authorEmail?: string },
): Promise<WorkspaceCommit> {
  const source = path.resolve(ctx.workspacePath, o.sourcePath ?? '.');
  if (source !== ctx.workspacePath && !source.startsWith(ctx.workspacePath + path.sep)) throw badInput('TEMPLATE_INPUT_INVALID', `sourcePath "${o.sourcePath}" leaves the workspace`, {});
  const dir = await ctx.createTemporaryDirectory();
  await fs.cp(source, dir, { recursive: true });
  await fs.rm(path.join(dir, '.git'), { recursive: true, force: true });
  await workspaceGit(dir, ['init', '--quiet', `--initial-branch=${o.branch}`]);
  await workspaceGit(dir, ['add', '--all']);
  await workspaceGit(dir, ['commit', '--quiet', '--allow-empty', '-m', o.message], commitAuthor(o.authorName, o.authorEmail));
  return { dir, commitHash: (await workspaceGit(dir, ['rev-parse', 'HEAD'])).trim() };
}

/** Runs `fn` once per task and key where the task remembers side effects (see ActionContext.checkpoint). */
export const once = <T>(ctx: ActionContext<unknown>, key: string, fn: () => Promise<T>): Promise<T> => (ctx.checkpoint ? ctx.checkpoint(key, fn) : fn());

export type ScmKind = 'github' | 'gitlab';
const SERVICE: Record<ScmKind, string> = { github: 'GitHub', gitlab: 'GitLab' };

/** Where a publish action goes: the repository named by repoUrl, on an integration's host. */
export interface ScmTarget {
  kind: ScmKind;
  host: string;
  owner: string;
  repo: string;
  /** The REST API's root (`https://api.github.com`, `https://gitlab.com/api/v4`). */
  apiBaseUrl: string;
  /** The web address repositories are browsed at (`https://github.com`). */
  webBaseUrl: string;
  /** The integration's token, when pave.yaml has one for the host. */
  configToken?: string;
}

/** The hosts of pave.yaml's `integrations`, with their integration type. */
export function integrationHosts(integrations: IntegrationsConfig): Record<string, ScmKind> {
  const hosts: Record<string, ScmKind> = {};
  for (const i of integrations.github) hosts[i.host] = 'github';
  for (const i of integrations.gitlab) hosts[i.host] = 'gitlab';
  return hosts;
}

/** RepoUrlPicker's value → the host, owner and repository, on a GitHub or GitLab host of `integrations`. */
export function scmTargetOf(kind: ScmKind, actionId: string, repoUrl: string, integrations: IntegrationsConfig): ScmTarget {
  const hosts: Record<string, string> = { ...DEFAULT_SCM_HOSTS, ...integrationHosts(integrations) };
  const spec = parseRepoUrl(repoUrl, hosts);
  if (hosts[spec.host] !== kind) {
    const ofKind = Object.keys(hosts).filter((h) => hosts[h] === kind);
    throw badInput(
      'REPO_URL_UNKNOWN_HOST',
      `${actionId} publishes to ${SERVICE[kind]}, but the host ${spec.host} of repoUrl "${repoUrl}" is not a ${SERVICE[kind]} host: use one of ${ofKind.join(', ')}, or add the host under integrations.${kind} in pave.yaml`,
      { repoUrl, host: spec.host, knownHosts: ofKind },
    );
  }
  if (!spec.owner) throw badInput('REPO_URL_INVALID', `repoUrl "${repoUrl}" needs an owner: ${spec.host}?owner=<owner>&repo=<name>`, { repoUrl });
  const base = { kind, host: spec.host, owner: spec.owner, repo: spec.repo };
  if (kind === 'github') {
    const entry = integrations.github.find((i) => i.host === spec.host);
    // The config schema requires apiBaseUrl for any host but github.com.
    const apiBaseUrl = entry?.apiBaseUrl ?? 'https://api.github.com';
    return { ...base, apiBaseUrl: apiBaseUrl.replace(/\/+$/, ''), webBaseUrl: `https://${spec.host}`, configToken: entry?.token };
  }
  const entry = integrations.gitlab.find((i) => i.host === spec.host);
  const webBaseUrl = (entry?.baseUrl ?? `https://${spec.host}`).replace(/\/+$/, '');
  return { ...base, apiBaseUrl: (entry?.apiBaseUrl ?? `${webBaseUrl}/api/v4`).replace(/\/+$/, ''), webBaseUrl, configToken: entry?.token };
}

/** The token a publish action uses: its `token` input (as Backstage allows), else the integration's. */
export interface ScmToken {
  value: string;
  fromInput: boolean;
  /** Where it came from, named in an authentication error so the reader knows what to fix. */
  source: string;
}

export function scmTokenOf(target: ScmTarget, inputToken: unknown, actionId: string): ScmToken | undefined {
  if (typeof inputToken === 'string' && inputToken) return { value: inputToken, fromInput: true, source: `the token input of ${actionId}` };
  if (target.configToken) return { value: target.configToken, fromInput: false, source: `the token of integrations.${target.kind} for host ${target.host} in pave.yaml` };
  return undefined;
}

export function requireScmToken(target: ScmTarget, inputToken: unknown, actionId: string): ScmToken {
  const token = scmTokenOf(target, inputToken, actionId);
  if (token) return token;
  const scope = target.kind === 'github' ? 'the repo scope (classic) or Administration and Contents write (fine-grained)' : 'the api scope';
  throw badInput(
    'SCM_TOKEN_MISSING',
    `No token for ${target.host}: set integrations.${target.kind}[].token for host ${target.host} in pave.yaml (a token with ${scope}), or pass the token input of ${actionId}`,
    { host: target.host, configKey: `integrations.${target.kind}`, actionId },
  );
}

/** Replaces every occurrence of the secrets in `text` with `***`, as task logs are masked. */
export const scrub = (text: string, secrets: string[]): string => masker(secrets)(text);

/** Who speaks to a repository over HTTPS, and as whom. */
export interface GitRemote {
  remoteUrl: string;
  /** The user name the service wants for tokens: `x-access-token` (GitHub), `oauth2` (GitLab). */
  username: string;
  token: ScmToken;
  target: ScmTarget;
}

/**
 * Runs a git command that talks to `remote` (clone, push). The credentials travel as an HTTP
 * header set through git's environment (GIT_CONFIG_*), scoped to the remote's URL: never in the
 * URL git prints, the command line others can read, or a credential store.
 */
async function gitWithToken(dir: string, args: string[], remote: GitRemote, what: { verb: 'clone' | 'push to'; failed: string; branch: string }): Promise<void> {
  const basic = Buffer.from(`${remote.username}:${remote.token.value}`).toString('base64');
  const env = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `http.${remote.remoteUrl}.extraHeader`, GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` };
  try {
    await workspaceGit(dir, args, env);
  } catch (e) {
    if (!(e instanceof GitCommandError)) throw e;
    const said = scrub(e.stderr.split('\n').filter(Boolean).pop() ?? e.message, [remote.token.value, basic]);
    const auth = /authentication failed|could not read username|terminal prompts disabled|\b40[13]\b/i.test(e.stderr);
    const { target } = remote;
    throw new PaveError(
      auth ? 'SCM_AUTH_FAILED' : 'SCM_GIT_FAILED',
      502,
      auth
        ? `${SERVICE[target.kind]} ${target.host} refused to let ${remote.username} ${what.verb} ${remote.remoteUrl} (${said}): check ${remote.token.source}; it needs ${what.verb === 'clone' ? 'read' : 'write'} access to the repository`
        : `${what.failed} failed: ${said}`,
      { host: target.host, remoteUrl: remote.remoteUrl, branch: what.branch },
    );
  }
}

/** Pushes HEAD of `dir` to `branch` of the remote (forced: the branch is the action's own). */
export function pushWithToken(o: GitRemote & { dir: string; branch: string }): Promise<void> {
  return gitWithToken(o.dir, ['push', '--quiet', '--force', o.remoteUrl, `HEAD:refs/heads/${o.branch}`], o, { verb: 'push to', failed: `Pushing to ${o.remoteUrl} (${o.branch})`, branch: o.branch });
}

/** Clones `branch` of the remote into the empty folder `dir`, with the remote as `origin`. */
export function cloneWithToken(o: GitRemote & { dir: string; branch: string }): Promise<void> {
  return gitWithToken(o.dir, ['clone', '--quiet', '--no-tags', '--branch', o.branch, o.remoteUrl, '.'], o, { verb: 'clone', failed: `Cloning ${o.remoteUrl} (${o.branch})`, branch: o.branch });
}

/**
 * Commits the workspace (or its `sourcePath`) as the first commit of `branch` and pushes it to a
 * new repository, once per task: a retried run gets the commit it pushed before.
 */
export function pushWorkspaceOnce(
  ctx: ActionContext<unknown>,
  key: string,
  o: { sourcePath?: string; branch: string; message: string; authorName?: string; authorEmail?: string; remote: GitRemote },
): Promise<string> {
  return once(ctx, key, async () => {
    const commit = await commitWorkspace(ctx, o);
    await pushWithToken({ ...o.remote, dir: commit.dir, branch: o.branch });
    ctx.log(`Pushed ${commit.commitHash.slice(0, 12)} to ${o.remote.remoteUrl} (${o.branch})`);
    return commit.commitHash;
  });
}

/**
 * Applies the workspace (or its `sourcePath`) to a clone: its files are written into `targetPath`
 * of the clone (its root by default), or with `remove`, those paths are deleted there.
 */
export async function applyWorkspace(ctx: ActionContext<unknown>, cloneDir: string, o: { sourcePath?: string; targetPath?: string; remove?: boolean }): Promise<void> {
  const source = path.resolve(ctx.workspacePath, o.sourcePath ?? '.');
  const into = path.resolve(cloneDir, o.targetPath ?? '.');
  for (const [p, root] of [[source, ctx.workspacePath], [into, cloneDir]] as const) {
    if (p !== root && !p.startsWith(root + path.sep)) throw badInput('TEMPLATE_INPUT_INVALID', `${p === source ? 'sourcePath' : 'targetPath'} leaves its folder`, {});
  }
  if (o.remove) {
    const files = await fg('**/*', { cwd: source, dot: true, ignore: ['**/.git/**'] });
    await Promise.all(files.map((f) => fs.rm(path.join(into, f), { force: true })));
    return;
  }
  await fs.mkdir(into, { recursive: true });
  await fs.cp(source, into, { recursive: true, filter: (f) => !f.split(path.sep).includes('.git') });
}

/**
 * Clones `base` of the remote into a new folder, to propose the workspace as a change on
 * `branch`; says whether that branch is on the remote already.
 */
export async function cloneToPropose(ctx: ActionContext<unknown>, remote: GitRemote, base: string, branch: string): Promise<{ dir: string; branchExists: boolean }> {
  const dir = await ctx.createTemporaryDirectory();
  await cloneWithToken({ ...remote, dir, branch: base });
  const branchExists = await workspaceGit(dir, ['rev-parse', '--verify', '--quiet', `refs/remotes/origin/${branch}`]).then(
    () => true,
    () => false,
  );
  return { dir, branchExists };
}

/** True when the clone's working tree differs from its HEAD (after `git add --all`). */
export async function stageAll(dir: string): Promise<boolean> {
  await workspaceGit(dir, ['add', '--all']);
  return (await workspaceGit(dir, ['status', '--porcelain'])).trim() !== '';
}

/** `e` with `what` said first (a PaveError keeps its code, status and details). */
export function failedTo(what: string, e: unknown): Error {
  if (isPaveError(e)) return new PaveError(e.code, e.status, `${what}: ${e.message}`, e.details);
  return e instanceof Error ? e : new Error(`${what}: ${String(e)}`);
}

/** The status a failed API call got, when `e` is one. */
export const scmStatusOf = (e: unknown): number | undefined => (isPaveError(e) && typeof e.details.status === 'number' ? e.details.status : undefined);

/** The service's own words in an error body: GitHub's `message` and `errors`, GitLab's `message` (a string or `{ field: [problems] }`) or `error`. */
export function serviceMessage(body: unknown): string {
  if (typeof body === 'string') return body.trim().slice(0, 300) || '(no message)';
  if (!body || typeof body !== 'object') return '(no message)';
  const b = body as { message?: unknown; errors?: unknown; error?: unknown; error_description?: unknown };
  const parts: string[] = [];
  if (typeof b.message === 'string') parts.push(b.message);
  else if (b.message && typeof b.message === 'object') {
    for (const [field, problems] of Object.entries(b.message)) parts.push(`${field} ${([] as unknown[]).concat(problems).join(', ')}`);
  }
  if (Array.isArray(b.errors)) {
    for (const e of b.errors) {
      if (typeof e === 'string') parts.push(e);
      else if (e && typeof e === 'object') {
        const x = e as { message?: string; field?: string; code?: string };
        parts.push(x.message ?? [x.field, x.code].filter(Boolean).join(' '));
      }
    }
  }
  if (typeof b.error === 'string') parts.push([b.error, b.error_description].filter(Boolean).join(': '));
  return parts.filter(Boolean).join('; ') || JSON.stringify(body).slice(0, 300);
}

/** How long one API call may take before it is given up. */
const API_TIMEOUT_MS = 30_000;

/**
 * A REST API of GitHub or GitLab, called with Node's fetch. Every failure is a PaveError:
 * SCM_AUTH_FAILED (401, 403 but a rate limit), SCM_API_FAILED (any other status; `details.status`
 * says which) or SCM_UNREACHABLE, each naming the host, the call and what the service said.
 */
export class ScmApi {
  constructor(
    readonly target: ScmTarget,
    readonly token: ScmToken,
    private readonly headers: Record<string, string>,
    private readonly signal?: AbortSignal,
  ) {}

  /** `notFound` makes the error of a 404: the thing looked up, named as the caller knows it. */
  async request<T = any>(method: string, apiPath: string, body?: unknown, opts: { accept?: string; notFound?: () => PaveError } = {}): Promise<T> {
    const call = `${method} ${apiPath}`;
    const service = SERVICE[this.target.kind];
    const signals = [AbortSignal.timeout(API_TIMEOUT_MS), ...(this.signal ? [this.signal] : [])];
    let res: Response;
    try {
      res = await fetch(this.target.apiBaseUrl + apiPath, {
        method,
        headers: { ...this.headers, ...(opts.accept ? { accept: opts.accept } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.any(signals),
      });
    } catch (e) {
      if (this.signal?.aborted) throw e;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = (e as Error).name === 'TimeoutError' ? `no answer in ${API_TIMEOUT_MS / 1000} s` : (cause?.code ?? cause?.message ?? (e as Error).message);
      throw new PaveError(
        'SCM_UNREACHABLE',
        503,
        `${service} API at ${this.target.apiBaseUrl} is unreachable (${why}) for ${call}: check integrations.${this.target.kind} apiBaseUrl for host ${this.target.host}`,
        { host: this.target.host, call, apiBaseUrl: this.target.apiBaseUrl },
      );
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: the text is the message
    }
    if (res.ok) return parsed as T;
    if (res.status === 404 && opts.notFound) throw opts.notFound();
    const said = scrub(serviceMessage(parsed), [this.token.value]);
    const details = { host: this.target.host, call, status: res.status, serviceMessage: said };
    if (res.status === 401 || (res.status === 403 && !/rate limit/i.test(said))) {
      throw new PaveError(
        'SCM_AUTH_FAILED',
        502,
        `${service} ${this.target.host} refused ${call} with ${res.status} (${said}): check ${this.token.source}; it must be valid and allowed to ${this.target.kind === 'github' ? 'create and administer repositories of the owner' : 'create projects in the namespace'}`,
        details,
      );
    }
    throw new PaveError('SCM_API_FAILED', 502, `${service} ${this.target.host} answered ${res.status} to ${call}: ${said}`, details);
  }
}
