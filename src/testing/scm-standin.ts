import fs from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sodium from 'libsodium-wrappers';
import { git } from '../git/index.ts';
import { answerGitRequest } from './git-http.ts';

/**
 * A LOCAL STAND-IN for GitHub's and GitLab's REST APIs, for tests only. GitHub and GitLab cannot
 * run on this machine, so this server answers just the calls Pave's publish actions make, the way
 * those services answer them (status codes, body shapes, error messages), and nothing more:
 *
 * - GitHub's API under `<url>/github/api/v3` (a GitHub Enterprise layout), GitLab's under
 *   `<url>/gitlab/api/v4`; each checks its token header as the service does (401 without it).
 * - Created repositories are real bare git repositories in a temporary folder, served over git's
 *   smart HTTP protocol at the `clone_url` / `http_url_to_repo` the API answers. A push needs
 *   Basic auth with the service's user for tokens (`x-access-token` on GitHub, `oauth2` on
 *   GitLab) and a valid token; clones are anonymous (as for public repositories).
 * - Every call is recorded (method, path, query, body, auth scheme, never the secret) so a test
 *   can check what was asked; `failNext` makes one call fail as the service would.
 */

export interface ScmCall {
  service: 'github' | 'gitlab';
  /** `api`: a REST call; `git`: a request of the git client. */
  kind: 'api' | 'git';
  method: string;
  /** Under the API root (`/orgs/acme/repos`), or the repository's path for git (`/acme/payments.git/git-receive-pack`); decoded. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** How it authenticated: `token`, `bearer`, `private-token`, `basic:<user>` or `none`. */
  auth: string;
}

export interface StandInUser {
  login: string;
  id: number;
  token: string;
}

interface GithubAccount {
  login: string;
  id: number;
  type: 'User' | 'Organization';
}

export interface GithubRepo {
  id: number;
  owner: GithubAccount;
  name: string;
  visibility: string;
  created: Record<string, unknown>;
  topics: string[];
  collaborators: Record<string, string>;
  teams: Record<string, string>;
  variables: Record<string, string>;
  /** Actions secrets as the stand-in opened them with the repository's private key. */
  secrets: Record<string, string>;
  /** The repository's key pair for Actions secrets (GitHub seals with the public one). */
  secretsKey: { keyId: string; publicKey: Uint8Array; privateKey: Uint8Array };
  protection: Record<string, Record<string, unknown>>;
  requiredSignatures: string[];
  oidcSubject?: unknown;
  subscribed?: boolean;
  pulls: GithubPull[];
}

export interface GithubPull {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  draft: boolean;
  state: 'open' | 'closed';
  reviewers: string[];
  teamReviewers: string[];
}

export interface GitlabNamespace {
  id: number;
  path: string;
  full_path: string;
  kind: 'group' | 'user';
}

export interface GitlabProject {
  id: number;
  name: string;
  path: string;
  namespace: GitlabNamespace;
  created: Record<string, unknown>;
  members: Record<number, number>;
  protectedBranches: string[];
  variables: Record<string, Record<string, unknown>>;
  mergeRequests: GitlabMergeRequest[];
}

export interface GitlabMergeRequest {
  iid: number;
  title: string;
  description: string;
  source_branch: string;
  target_branch: string;
  state: 'opened' | 'closed';
  draft: boolean;
  assignee_ids: number[];
  reviewer_ids: number[];
  remove_source_branch: boolean;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Failure {
  service: 'github' | 'gitlab';
  method: string;
  path: RegExp;
  reply: Reply;
}

type Route = [method: string, pattern: RegExp, handler: (m: string[], call: ScmCall, user: StandInUser) => Reply | Promise<Reply>];

const GITHUB_DOCS = 'https://docs.github.com/rest';

export class ScmStandIn {
  readonly calls: ScmCall[] = [];
  readonly github = { accounts: new Map<string, GithubAccount>(), teams: new Set<string>(), repos: new Map<string, GithubRepo>() };
  readonly gitlab = { namespaces: new Map<string, GitlabNamespace>(), projects: new Map<number, GitlabProject>() };
  private readonly users = new Map<string, StandInUser>();
  private readonly failures: Failure[] = [];
  private nextId = 100;
  private server?: http.Server;
  url = '';
  /** The user the default token belongs to (`pave-bot`). */
  bot!: StandInUser;

  private constructor(readonly root: string) {}

  static async start(): Promise<ScmStandIn> {
    await sodium.ready;
    const standIn = new ScmStandIn(await fs.mkdtemp(path.join(os.tmpdir(), 'pave-scm-standin-')));
    standIn.bot = standIn.addUser('pave-bot');
    const server = http.createServer((req, res) => {
      standIn.answer(req, res).catch((e: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `stand-in failure: ${e.message}` }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    standIn.server = server;
    standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return standIn;
  }

  /** Where GitHub's REST API is (what `integrations.github[].apiBaseUrl` is set to). */
  get githubApiBaseUrl(): string {
    return `${this.url}/github/api/v3`;
  }

  /** GitLab's web address (`integrations.gitlab[].baseUrl`); its API is under `/api/v4`. */
  get gitlabBaseUrl(): string {
    return `${this.url}/gitlab`;
  }

  get gitlabApiBaseUrl(): string {
    return `${this.gitlabBaseUrl}/api/v4`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await fs.rm(this.root, { recursive: true, force: true });
  }

  /** A user with a token of their own, known to both services (a GitHub User account, a GitLab user and namespace). */
  addUser(login: string): StandInUser {
    const user = { login, id: this.nextId++, token: `standin_${login}_${Math.random().toString(36).slice(2, 12)}` };
    this.users.set(user.token, user);
    this.github.accounts.set(login.toLowerCase(), { login, id: user.id, type: 'User' });
    this.gitlab.namespaces.set(login.toLowerCase(), { id: this.nextId++, path: login, full_path: login, kind: 'user' });
    return user;
  }

  /** A user added with addUser, by login. */
  user(login: string): StandInUser {
    const user = [...this.users.values()].find((u) => u.login === login);
    if (!user) throw new Error(`the stand-in has no user ${login}`);
    return user;
  }

  addGithubOrg(login: string, teams: string[] = []): void {
    this.github.accounts.set(login.toLowerCase(), { login, id: this.nextId++, type: 'Organization' });
    for (const t of teams) this.github.teams.add(`${login}/${t}`.toLowerCase());
  }

  /** A GitLab group (`acme` or a subgroup `acme/platform`). */
  addGitlabGroup(fullPath: string): GitlabNamespace {
    const ns: GitlabNamespace = { id: this.nextId++, path: fullPath.split('/').pop()!, full_path: fullPath, kind: 'group' };
    this.gitlab.namespaces.set(fullPath.toLowerCase(), ns);
    return ns;
  }

  /** The next API call of `service` matching `method` and `path` answers `status` and `body` instead. */
  failNext(service: 'github' | 'gitlab', method: string, pathPattern: RegExp, status: number, body: unknown): void {
    this.failures.push({ service, method, path: pathPattern, reply: { status, body } });
  }

  /** The REST calls made so far to one service, as `METHOD /path`. */
  apiCalls(service: 'github' | 'gitlab'): string[] {
    return this.calls.filter((c) => c.service === service && c.kind === 'api').map((c) => `${c.method} ${c.path}`);
  }

  /** The folder of a repository's bare clone (`github/acme/payments.git`). */
  repoDir(service: 'github' | 'gitlab', fullName: string): string {
    return path.join(this.root, service, `${fullName}.git`);
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const raw = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    for (const [service, prefix] of [['github', '/github/api/v3'], ['gitlab', '/gitlab/api/v4']] as const) {
      if (raw === prefix || raw.startsWith(`${prefix}/`)) {
        const body = await readJson(req);
        const call: ScmCall = { service, kind: 'api', method: req.method ?? 'GET', path: decodeURIComponent(raw.slice(prefix.length)), query, body, auth: authScheme(req) };
        this.calls.push(call);
        return send(res, await this.api(service, call, raw.slice(prefix.length), req));
      }
    }
    const gitPath = /^\/(github|gitlab)\/(.+\.git)\/(info\/refs|git-upload-pack|git-receive-pack)$/.exec(decodeURIComponent(raw));
    if (gitPath) {
      const service = gitPath[1] as 'github' | 'gitlab';
      const call: ScmCall = { service, kind: 'git', method: req.method ?? 'GET', path: `/${gitPath[2]}/${gitPath[3]}`, query, body: undefined, auth: authScheme(req) };
      this.calls.push(call);
      const dir = path.join(this.root, service, gitPath[2]);
      if (!(await exists(dir))) return send(res, { status: 404, body: 'Repository not found.' });
      const pushing = gitPath[3] === 'git-receive-pack' || query.service === 'git-receive-pack';
      let remoteUser = '';
      if (pushing) {
        const user = this.basicUser(req, service === 'github' ? 'x-access-token' : 'oauth2');
        if (!user) {
          const realm = service === 'github' ? 'GitHub' : 'GitLab';
          return send(res, { status: 401, headers: { 'www-authenticate': `Basic realm="${realm}"` }, body: `Invalid username or token. Password authentication is not supported for Git operations.` });
        }
        remoteUser = user.login;
      }
      return answerGitRequest(this.root, req, res, { pathInfo: `/${service}/${gitPath[2]}/${gitPath[3]}`, remoteUser });
    }
    send(res, { status: 404, body: { message: 'Not Found' } });
  }

  private basicUser(req: IncomingMessage, username: string): StandInUser | undefined {
    const m = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return undefined;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (decoded.slice(0, colon) !== username) return undefined;
    return this.users.get(decoded.slice(colon + 1));
  }

  private async api(service: 'github' | 'gitlab', call: ScmCall, rawPath: string, req: IncomingMessage): Promise<Reply> {
    const user = service === 'github' ? this.githubUser(req) : this.gitlabUser(req);
    if (!user) {
      if (service === 'gitlab') return { status: 401, body: { message: '401 Unauthorized' } };
      const message = req.headers.authorization ? 'Bad credentials' : 'Requires authentication';
      return { status: 401, body: { message, documentation_url: GITHUB_DOCS, status: '401' } };
    }
    const failure = this.failures.findIndex((f) => f.service === service && f.method === call.method && f.path.test(call.path));
    if (failure >= 0) return this.failures.splice(failure, 1)[0].reply;
    for (const [method, pattern, handler] of service === 'github' ? this.githubRoutes : this.gitlabRoutes) {
      const m = method === call.method ? pattern.exec(rawPath) : null;
      if (m) return handler(m.slice(1).map(decodeURIComponent), call, user);
    }
    return service === 'github' ? { status: 404, body: { message: 'Not Found', documentation_url: GITHUB_DOCS, status: '404' } } : { status: 404, body: { error: '404 Not Found' } };
  }

  private githubUser(req: IncomingMessage): StandInUser | undefined {
    const m = /^(?:token|Bearer) (.+)$/i.exec(req.headers.authorization ?? '');
    return m ? this.users.get(m[1]) : undefined;
  }

  private gitlabUser(req: IncomingMessage): StandInUser | undefined {
    const privateToken = req.headers['private-token'];
    if (typeof privateToken === 'string') return this.users.get(privateToken);
    const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
    return m ? this.users.get(m[1]) : undefined;
  }

  // ---- GitHub ----

  private githubRepoJson(r: GithubRepo) {
    const full = `${r.owner.login}/${r.name}`;
    return {
      id: r.id,
      name: r.name,
      full_name: full,
      owner: { login: r.owner.login, id: r.owner.id, type: r.owner.type },
      private: r.visibility !== 'public',
      visibility: r.visibility,
      description: r.created.description ?? null,
      homepage: r.created.homepage ?? null,
      html_url: `${this.url}/github/${full}`,
      clone_url: `${this.url}/github/${full}.git`,
      git_url: `git://127.0.0.1/${full}.git`,
      ssh_url: `git@127.0.0.1:${full}.git`,
      default_branch: 'main',
      topics: r.topics,
    };
  }

  private githubRepo(owner: string, name: string): GithubRepo | undefined {
    return this.github.repos.get(`${owner}/${name}`.toLowerCase());
  }

  private readonly notFound: Reply = { status: 404, body: { message: 'Not Found', documentation_url: GITHUB_DOCS, status: '404' } };

  private async createGithubRepo(owner: GithubAccount, body: Record<string, unknown>): Promise<Reply> {
    const name = String(body.name ?? '');
    if (!/^[A-Za-z0-9._-]+$/.test(name)) {
      return { status: 422, body: { message: 'Repository creation failed.', errors: [{ resource: 'Repository', code: 'custom', field: 'name', message: 'name is invalid' }], documentation_url: GITHUB_DOCS, status: '422' } };
    }
    if (this.githubRepo(owner.login, name)) {
      return {
        status: 422,
        body: { message: 'Repository creation failed.', errors: [{ resource: 'Repository', code: 'custom', field: 'name', message: 'name already exists on this account' }], documentation_url: GITHUB_DOCS, status: '422' },
      };
    }
    const visibility = typeof body.visibility === 'string' ? body.visibility : body.private === false ? 'public' : 'private';
    const keys = sodium.crypto_box_keypair();
    const secretsKey = { keyId: String(1000 + this.nextId), publicKey: keys.publicKey, privateKey: keys.privateKey };
    const repo: GithubRepo = { id: this.nextId++, owner, name, visibility, created: body, topics: [], collaborators: {}, teams: {}, variables: {}, secrets: {}, secretsKey, protection: {}, requiredSignatures: [], pulls: [] };
    await git(this.root, ['init', '--bare', '--quiet', '--initial-branch=main', this.repoDir('github', `${owner.login}/${name}`)]);
    this.github.repos.set(`${owner.login}/${name}`.toLowerCase(), repo);
    return { status: 201, body: this.githubRepoJson(repo) };
  }

  /** `/repos/:owner/:repo…` routes: the handler runs with the repository, or answers 404. */
  private onRepo(handler: (repo: GithubRepo, rest: string[], call: ScmCall, user: StandInUser) => Reply | Promise<Reply>) {
    return (m: string[], call: ScmCall, user: StandInUser) => {
      const repo = this.githubRepo(m[0], m[1]);
      return repo ? handler(repo, m.slice(2), call, user) : this.notFound;
    };
  }

  private readonly githubRoutes: Route[] = [
    [
      'GET',
      /^\/users\/([^/]+)$/,
      ([login]) => {
        const account = this.github.accounts.get(login.toLowerCase());
        return account ? { status: 200, body: { ...account, html_url: `${this.url}/github/${account.login}` } } : this.notFound;
      },
    ],
    ['GET', /^\/orgs\/([^/]+)\/teams\/([^/]+)$/, ([org, slug]) => (this.github.teams.has(`${org}/${slug}`.toLowerCase()) ? { status: 200, body: { slug, name: slug, organization: { login: org } } } : this.notFound)],
    [
      'POST',
      /^\/orgs\/([^/]+)\/repos$/,
      ([org], call) => {
        const account = this.github.accounts.get(org.toLowerCase());
        return account?.type === 'Organization' ? this.createGithubRepo(account, call.body as Record<string, unknown>) : this.notFound;
      },
    ],
    [
      'POST',
      /^\/user\/repos$/,
      (_m, call, user) => {
        const body = call.body as Record<string, unknown>;
        if (body.visibility === 'internal') return { status: 422, body: { message: 'Validation Failed', errors: ['visibility internal is only for organizations'], documentation_url: GITHUB_DOCS, status: '422' } };
        return this.createGithubRepo(this.github.accounts.get(user.login.toLowerCase())!, body);
      },
    ],
    [
      'PUT',
      /^\/orgs\/([^/]+)\/teams\/([^/]+)\/repos\/([^/]+)\/([^/]+)$/,
      ([org, slug, owner, name], call) => {
        const repo = this.githubRepo(owner, name);
        if (!repo || !this.github.teams.has(`${org}/${slug}`.toLowerCase())) return this.notFound;
        repo.teams[slug] = String((call.body as { permission?: string }).permission ?? 'push');
        return { status: 204 };
      },
    ],
    [
      'PUT',
      /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)$/,
      this.onRepo((repo, [login], call) => {
        const account = this.github.accounts.get(login.toLowerCase());
        if (account?.type !== 'User') return this.notFound;
        const permission = String((call.body as { permission?: string }).permission ?? 'push');
        repo.collaborators[account.login] = permission;
        return { status: 201, body: { id: this.nextId++, invitee: { login: account.login }, permissions: permission } };
      }),
    ],
    [
      'PUT',
      /^\/repos\/([^/]+)\/([^/]+)\/topics$/,
      this.onRepo((repo, _rest, call) => {
        const names = (call.body as { names?: string[] }).names ?? [];
        const bad = names.find((n) => !/^[a-z0-9][a-z0-9-]{0,49}$/.test(n));
        if (bad) return { status: 422, body: { message: 'Invalid topics', errors: [`${bad} is not a valid topic`], documentation_url: GITHUB_DOCS, status: '422' } };
        repo.topics = names;
        return { status: 200, body: { names } };
      }),
    ],
    [
      'POST',
      /^\/repos\/([^/]+)\/([^/]+)\/actions\/variables$/,
      this.onRepo((repo, _rest, call) => {
        const { name, value } = call.body as { name: string; value: string };
        if (name.toUpperCase() in repo.variables) return { status: 409, body: { message: 'Already exists - Variable already exists', documentation_url: GITHUB_DOCS, status: '409' } };
        repo.variables[name.toUpperCase()] = value;
        return { status: 201, body: {} };
      }),
    ],
    [
      'GET',
      /^\/repos\/([^/]+)\/([^/]+)\/actions\/secrets\/public-key$/,
      this.onRepo((repo) => ({ status: 200, body: { key_id: repo.secretsKey.keyId, key: Buffer.from(repo.secretsKey.publicKey).toString('base64') } })),
    ],
    [
      'PUT',
      /^\/repos\/([^/]+)\/([^/]+)\/actions\/secrets\/([^/]+)$/,
      this.onRepo((repo, [name], call) => {
        const { encrypted_value: sealed, key_id: keyId } = call.body as { encrypted_value?: string; key_id?: string };
        if (keyId !== repo.secretsKey.keyId) return { status: 422, body: { message: 'Bad key_id', documentation_url: GITHUB_DOCS, status: '422' } };
        let value: string;
        try {
          value = Buffer.from(sodium.crypto_box_seal_open(Buffer.from(sealed ?? '', 'base64'), repo.secretsKey.publicKey, repo.secretsKey.privateKey)).toString('utf8');
        } catch {
          return { status: 422, body: { message: 'encrypted_value is not sealed with the repository key', documentation_url: GITHUB_DOCS, status: '422' } };
        }
        const existed = name.toUpperCase() in repo.secrets;
        repo.secrets[name.toUpperCase()] = value;
        return existed ? { status: 204 } : { status: 201, body: {} };
      }),
    ],
    [
      'PUT',
      /^\/repos\/([^/]+)\/([^/]+)\/actions\/oidc\/customization\/sub$/,
      this.onRepo((repo, _rest, call) => {
        repo.oidcSubject = call.body;
        return { status: 201, body: {} };
      }),
    ],
    [
      'PUT',
      /^\/repos\/([^/]+)\/([^/]+)\/subscription$/,
      this.onRepo((repo) => {
        repo.subscribed = true;
        return { status: 200, body: { subscribed: true, ignored: false } };
      }),
    ],
    [
      'PUT',
      /^\/repos\/([^/]+)\/([^/]+)\/branches\/(.+)\/protection$/,
      this.onRepo(async (repo, [branch], call) => {
        if (!(await this.hasBranch('github', `${repo.owner.login}/${repo.name}`, branch))) return { status: 404, body: { message: 'Branch not found', documentation_url: GITHUB_DOCS, status: '404' } };
        repo.protection[branch] = call.body as Record<string, unknown>;
        return { status: 200, body: { url: `${this.githubApiBaseUrl}/repos/${repo.owner.login}/${repo.name}/branches/${branch}/protection`, ...(call.body as object) } };
      }),
    ],
    [
      'POST',
      /^\/repos\/([^/]+)\/([^/]+)\/branches\/(.+)\/protection\/required_signatures$/,
      this.onRepo((repo, [branch]) => {
        if (!repo.protection[branch]) return { status: 404, body: { message: 'Branch not protected', documentation_url: GITHUB_DOCS, status: '404' } };
        repo.requiredSignatures.push(branch);
        return { status: 200, body: { enabled: true } };
      }),
    ],
    ['GET', /^\/repos\/([^/]+)\/([^/]+)$/, this.onRepo((repo) => ({ status: 200, body: this.githubRepoJson(repo) }))],
    [
      'GET',
      /^\/repos\/([^/]+)\/([^/]+)\/pulls$/,
      this.onRepo((repo, _rest, call) => {
        const head = call.query.head?.split(':').pop();
        const state = call.query.state ?? 'open';
        const pulls = repo.pulls.filter((p) => (!head || p.head === head) && (state === 'all' || p.state === state));
        return { status: 200, body: pulls.map((p) => this.githubPullJson(repo, p)) };
      }),
    ],
    [
      'POST',
      /^\/repos\/([^/]+)\/([^/]+)\/pulls$/,
      this.onRepo(async (repo, _rest, call) => {
        const b = call.body as { title?: string; body?: string; head?: string; base?: string; draft?: boolean };
        const full = `${repo.owner.login}/${repo.name}`;
        const head = String(b.head ?? '').split(':').pop()!;
        const base = b.base ?? 'main';
        const invalid = (field: string, code: string) => ({ status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field, code }], documentation_url: GITHUB_DOCS, status: '422' } });
        if (!(await this.hasBranch('github', full, head))) return invalid('head', 'invalid');
        if (!(await this.hasBranch('github', full, base))) return invalid('base', 'invalid');
        if (repo.pulls.some((p) => p.state === 'open' && p.head === head && p.base === base)) {
          return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${repo.owner.login}:${head}.` }], documentation_url: GITHUB_DOCS, status: '422' } };
        }
        const pull: GithubPull = { number: repo.pulls.length + 1, title: b.title ?? '', body: b.body ?? '', head, base, draft: b.draft ?? false, state: 'open', reviewers: [], teamReviewers: [] };
        repo.pulls.push(pull);
        return { status: 201, body: this.githubPullJson(repo, pull) };
      }),
    ],
    [
      'PATCH',
      /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/,
      this.onRepo((repo, [n], call) => {
        const pull = repo.pulls.find((p) => p.number === Number(n));
        if (!pull) return this.notFound;
        const b = call.body as { title?: string; body?: string };
        if (b.title !== undefined) pull.title = b.title;
        if (b.body !== undefined) pull.body = b.body;
        return { status: 200, body: this.githubPullJson(repo, pull) };
      }),
    ],
    [
      'POST',
      /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/requested_reviewers$/,
      this.onRepo((repo, [n], call) => {
        const pull = repo.pulls.find((p) => p.number === Number(n));
        if (!pull) return this.notFound;
        const b = call.body as { reviewers?: string[]; team_reviewers?: string[] };
        pull.reviewers.push(...(b.reviewers ?? []));
        pull.teamReviewers.push(...(b.team_reviewers ?? []));
        return { status: 201, body: this.githubPullJson(repo, pull) };
      }),
    ],
  ];

  private githubPullJson(repo: GithubRepo, p: GithubPull) {
    const full = `${repo.owner.login}/${repo.name}`;
    return {
      number: p.number,
      state: p.state,
      title: p.title,
      body: p.body,
      draft: p.draft,
      html_url: `${this.url}/github/${full}/pull/${p.number}`,
      head: { ref: p.head, label: `${repo.owner.login}:${p.head}` },
      base: { ref: p.base, label: `${repo.owner.login}:${p.base}` },
      requested_reviewers: p.reviewers.map((login) => ({ login })),
      requested_teams: p.teamReviewers.map((slug) => ({ slug })),
    };
  }

  // ---- GitLab ----

  private namespaceOf(idOrPath: string): GitlabNamespace | undefined {
    if (/^\d+$/.test(idOrPath)) return [...this.gitlab.namespaces.values()].find((n) => n.id === Number(idOrPath));
    return this.gitlab.namespaces.get(idOrPath.toLowerCase());
  }

  private projectOf(idOrPath: string): GitlabProject | undefined {
    if (/^\d+$/.test(idOrPath)) return this.gitlab.projects.get(Number(idOrPath));
    return [...this.gitlab.projects.values()].find((p) => `${p.namespace.full_path}/${p.path}`.toLowerCase() === idOrPath.toLowerCase());
  }

  private gitlabProjectJson(p: GitlabProject) {
    const full = `${p.namespace.full_path}/${p.path}`;
    return {
      ...p.created,
      id: p.id,
      name: p.name,
      path: p.path,
      path_with_namespace: full,
      namespace: { id: p.namespace.id, path: p.namespace.path, full_path: p.namespace.full_path, kind: p.namespace.kind },
      visibility: p.created.visibility ?? 'private',
      topics: p.created.topics ?? [],
      default_branch: 'main',
      http_url_to_repo: `${this.gitlabBaseUrl}/${full}.git`,
      ssh_url_to_repo: `git@127.0.0.1:${full}.git`,
      web_url: `${this.gitlabBaseUrl}/${full}`,
    };
  }

  private onProject(handler: (project: GitlabProject, rest: string[], call: ScmCall, user: StandInUser) => Reply | Promise<Reply>) {
    return (m: string[], call: ScmCall, user: StandInUser) => {
      const project = this.projectOf(m[0]);
      return project ? handler(project, m.slice(1), call, user) : { status: 404, body: { message: '404 Project Not Found' } };
    };
  }

  private readonly gitlabRoutes: Route[] = [
    ['GET', /^\/user$/, (_m, _call, user) => ({ status: 200, body: { id: user.id, username: user.login, name: user.login } })],
    [
      'GET',
      /^\/namespaces\/([^/]+)$/,
      ([id]) => {
        const ns = this.namespaceOf(id);
        return ns ? { status: 200, body: { ...ns, name: ns.path, web_url: `${this.gitlabBaseUrl}/${ns.full_path}` } } : { status: 404, body: { message: '404 Namespace Not Found' } };
      },
    ],
    [
      'GET',
      /^\/(groups|users)\/([^/]+)\/projects$/,
      ([kind, id], call) => {
        const ns = this.namespaceOf(id);
        if (!ns || ns.kind !== (kind === 'groups' ? 'group' : 'user')) return { status: 404, body: { message: `404 ${kind === 'groups' ? 'Group' : 'User'} Not Found` } };
        const search = (call.query.search ?? '').toLowerCase();
        const projects = [...this.gitlab.projects.values()].filter((p) => p.namespace.id === ns.id && (p.name.toLowerCase().includes(search) || p.path.toLowerCase().includes(search)));
        return { status: 200, body: projects.map((p) => this.gitlabProjectJson(p)) };
      },
    ],
    [
      'POST',
      /^\/projects$/,
      async (_m, call) => {
        const body = call.body as Record<string, unknown>;
        const ns = this.namespaceOf(String(body.namespace_id ?? ''));
        if (!ns) return { status: 404, body: { message: '404 Namespace Not Found' } };
        const name = String(body.name ?? '');
        const projectPath = String(body.path ?? name.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-'));
        const taken = [...this.gitlab.projects.values()].some((p) => p.namespace.id === ns.id && (p.path.toLowerCase() === projectPath.toLowerCase() || p.name.toLowerCase() === name.toLowerCase()));
        if (taken) return { status: 400, body: { message: { name: ['has already been taken'], path: ['has already been taken'] } } };
        const project: GitlabProject = { id: this.nextId++, name, path: projectPath, namespace: ns, created: body, members: {}, protectedBranches: [], variables: {}, mergeRequests: [] };
        await git(this.root, ['init', '--bare', '--quiet', '--initial-branch=main', this.repoDir('gitlab', `${ns.full_path}/${projectPath}`)]);
        this.gitlab.projects.set(project.id, project);
        return { status: 201, body: this.gitlabProjectJson(project) };
      },
    ],
    ['GET', /^\/projects\/([^/]+)$/, this.onProject((p) => ({ status: 200, body: this.gitlabProjectJson(p) }))],
    [
      'POST',
      /^\/projects\/([^/]+)\/members$/,
      this.onProject((p, _rest, call) => {
        const b = call.body as { user_id?: number; access_level?: number };
        const userId = Number(b.user_id);
        if (p.members[userId]) return { status: 409, body: { message: 'Member already exists' } };
        p.members[userId] = Number(b.access_level);
        return { status: 201, body: { id: userId, access_level: Number(b.access_level) } };
      }),
    ],
    [
      'POST',
      /^\/projects\/([^/]+)\/repository\/branches$/,
      this.onProject(async (p, _rest, call) => {
        const b = { ...call.query, ...(call.body as object) } as { branch?: string; ref?: string };
        const dir = this.repoDir('gitlab', `${p.namespace.full_path}/${p.path}`);
        if (!b.branch) return { status: 400, body: { error: 'branch is missing' } };
        if (await this.hasBranch('gitlab', `${p.namespace.full_path}/${p.path}`, b.branch)) return { status: 400, body: { message: 'Branch already exists' } };
        let sha: string;
        try {
          sha = (await git(dir, ['rev-parse', '--verify', '--quiet', `${b.ref}^{commit}`])).trim();
        } catch {
          return { status: 400, body: { message: `Invalid reference name: ${b.ref}` } };
        }
        await git(dir, ['update-ref', `refs/heads/${b.branch}`, sha]);
        return { status: 201, body: { name: b.branch, commit: { id: sha }, protected: false, web_url: `${this.gitlabBaseUrl}/${p.namespace.full_path}/${p.path}/-/tree/${b.branch}` } };
      }),
    ],
    [
      'POST',
      /^\/projects\/([^/]+)\/protected_branches$/,
      this.onProject((p, _rest, call) => {
        const name = String({ ...call.query, ...(call.body as object) }.name ?? '');
        if (p.protectedBranches.includes(name)) return { status: 409, body: { message: `Protected branch '${name}' already exists` } };
        p.protectedBranches.push(name);
        return { status: 201, body: { id: this.nextId++, name, push_access_levels: [{ access_level: 40 }], merge_access_levels: [{ access_level: 40 }] } };
      }),
    ],
    [
      'POST',
      /^\/projects\/([^/]+)\/variables$/,
      this.onProject((p, _rest, call) => {
        const v = call.body as Record<string, unknown>;
        const key = String(v.key ?? '');
        if (!/^[A-Za-z0-9_]{1,255}$/.test(key)) return { status: 400, body: { message: { key: ['can contain only letters, digits and \'_\'.'] } } };
        const scope = String(v.environment_scope ?? '*');
        if (p.variables[`${key}@${scope}`]) return { status: 400, body: { message: { key: [`(${key}) has already been taken`] } } };
        p.variables[`${key}@${scope}`] = v;
        return { status: 201, body: { ...v, environment_scope: scope } };
      }),
    ],
    [
      'GET',
      /^\/projects\/([^/]+)\/merge_requests$/,
      this.onProject((p, _rest, call) => {
        const mrs = p.mergeRequests.filter((mr) => (!call.query.source_branch || mr.source_branch === call.query.source_branch) && (!call.query.state || call.query.state === 'all' || mr.state === call.query.state));
        return { status: 200, body: mrs.map((mr) => this.gitlabMergeRequestJson(p, mr)) };
      }),
    ],
    [
      'POST',
      /^\/projects\/([^/]+)\/merge_requests$/,
      this.onProject(async (p, _rest, call) => {
        const b = call.body as Record<string, unknown>;
        const full = `${p.namespace.full_path}/${p.path}`;
        const source = String(b.source_branch ?? '');
        const target = String(b.target_branch ?? '');
        if (!(await this.hasBranch('gitlab', full, source))) return { status: 400, body: { message: ['Source branch does not exist'] } };
        if (!(await this.hasBranch('gitlab', full, target))) return { status: 400, body: { message: ['Target branch does not exist'] } };
        if (p.mergeRequests.some((mr) => mr.state === 'opened' && mr.source_branch === source && mr.target_branch === target)) {
          return { status: 409, body: { message: [`Another open merge request already exists for this source branch: !1`] } };
        }
        const mr: GitlabMergeRequest = {
          iid: p.mergeRequests.length + 1,
          title: String(b.title ?? ''),
          description: String(b.description ?? ''),
          source_branch: source,
          target_branch: target,
          state: 'opened',
          draft: /^(draft:|\[draft\])/i.test(String(b.title ?? '')),
          assignee_ids: (b.assignee_ids as number[] | undefined) ?? (b.assignee_id ? [Number(b.assignee_id)] : []),
          reviewer_ids: (b.reviewer_ids as number[] | undefined) ?? [],
          remove_source_branch: Boolean(b.remove_source_branch),
        };
        p.mergeRequests.push(mr);
        return { status: 201, body: this.gitlabMergeRequestJson(p, mr) };
      }),
    ],
    [
      'GET',
      /^\/users$/,
      (_m, call) => {
        const user = [...this.users.values()].find((u) => u.login === call.query.username);
        return { status: 200, body: user ? [{ id: user.id, username: user.login }] : [] };
      },
    ],
  ];

  private gitlabMergeRequestJson(p: GitlabProject, mr: GitlabMergeRequest) {
    return { ...mr, project_id: p.id, web_url: `${this.gitlabBaseUrl}/${p.namespace.full_path}/${p.path}/-/merge_requests/${mr.iid}` };
  }

  private async hasBranch(service: 'github' | 'gitlab', fullName: string, branch: string): Promise<boolean> {
    try {
      await git(this.repoDir(service, fullName), ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);
      return true;
    } catch {
      return false;
    }
  }
}

function authScheme(req: IncomingMessage): string {
  if (typeof req.headers['private-token'] === 'string') return 'private-token';
  const m = /^(\w+) (.+)$/.exec(req.headers.authorization ?? '');
  if (!m) return 'none';
  if (m[1].toLowerCase() === 'basic') return `basic:${Buffer.from(m[2], 'base64').toString('utf8').split(':')[0]}`;
  return m[1].toLowerCase();
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  if (/application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function send(res: ServerResponse, reply: Reply): void {
  const text = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json; charset=utf-8', ...reply.headers });
  res.end(text);
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}
