import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PaveError, badInput } from '../core/errors.ts';
import '../identity/access.ts';
import './permissions.ts';
import type { GitRepos, Repo } from './repos.ts';
import { serveGitHttp } from './smart-http.ts';
import type { ChangeRequests } from './change-requests.ts';

const tags = ['git'];
const GIT_BODY_TYPES = ['application/x-git-upload-pack-request', 'application/x-git-receive-pack-request'];
const RepoParams = Type.Object({ org: Type.String(), name: Type.String() });
type RepoParams = Static<typeof RepoParams>;
const CreateBody = Type.Object(
  {
    org: Type.String(),
    name: Type.String(),
    description: Type.Optional(Type.String()),
    owner: Type.Optional(Type.String({ description: 'The group or user that owns it, e.g. group:default/team-a' })),
    entityRef: Type.Optional(Type.String({ description: 'The catalog entity the repository belongs to' })),
  },
  { additionalProperties: false },
);

/** `name.git` or `name` in a clone URL. */
const repoName = (raw: string) => raw.replace(/\.git$/, '');

function withCloneUrl(req: FastifyRequest, baseUrl: string | undefined, repo: Repo) {
  const base = (baseUrl ?? `${req.protocol}://${req.headers.host}`).replace(/\/+$/, '');
  return { ...repo, cloneUrl: `${base}/git/${repo.org}/${repo.name}.git`, location: `/git/${repo.org}/${repo.name}` };
}

/**
 * Git's smart HTTP protocol under `/git/<org>/<name>.git` (the real git client clones, fetches
 * and pushes; a Pave token is the password), and the repository API under `/api/git`.
 */
export async function gitProtocolRoutes(app: FastifyInstance, deps: { repos: GitRepos }): Promise<void> {
  const { repos } = deps;
  // Pack data is streamed to git as it arrives, never parsed or held in memory.
  app.addContentTypeParser(GIT_BODY_TYPES, (_req, payload, done) => done(null, payload));

  async function serve(req: FastifyRequest<{ Params: { org: string; repo: string } }>, service: 'info/refs' | 'git-upload-pack' | 'git-receive-pack') {
    const { org } = req.params;
    const name = repoName(req.params.repo);
    const repo = await repos.get(org, name);
    const pushing = service === 'git-receive-pack' || (service === 'info/refs' && new URL(req.url, 'http://x').searchParams.get('service') === 'git-receive-pack');
    req.audit.target = `git:${org}/${name}`;
    if (pushing) req.access.authorize('git.repo.push', repo);
    if (req.method === 'POST' && typeof (req.body as { pipe?: unknown } | undefined)?.pipe !== 'function') {
      throw new PaveError('GIT_REQUEST_INVALID', 415, `Send ${service} requests as ${GIT_BODY_TYPES.join(' or ')}, as the git client does`, { contentType: req.headers['content-type'] });
    }
    const answer = await serveGitHttp(repos.root, {
      method: req.method,
      pathInfo: `/${org}/${name}.git/${service}`,
      query: new URL(req.url, 'http://x').search.slice(1),
      contentType: req.headers['content-type'],
      contentEncoding: req.headers['content-encoding'] as string | undefined,
      gitProtocol: req.headers['git-protocol'] as string | undefined,
      remoteUser: req.principal.ref ?? 'anonymous',
      remoteAddr: req.ip,
      body: req.body as NodeJS.ReadableStream as any,
    }, repos.workDir);
    if (service === 'git-receive-pack') {
      // Recorded once git has accepted the push (the post-receive hook ran), not before.
      void answer.pushed.then((updates) => repos.recordPush(org, name, updates, req.principal.ref ?? 'anonymous')).catch((e) => req.log.error({ err: e }, 'recording a push failed'));
    }
    return { answer };
  }

  const params = Type.Object({ org: Type.String(), repo: Type.String() });
  app.get<{ Params: { org: string; repo: string } }>(
    '/:org/:repo/info/refs',
    { config: { permission: 'git.repo.read' }, schema: { tags, summary: 'git smart HTTP: ref advertisement (clone, fetch, push)', params } },
    async (req, reply) => {
      const { answer } = await serve(req, 'info/refs');
      return reply.status(answer.status).headers(answer.headers).send(answer.body);
    },
  );
  app.get<{ Params: { org: string; repo: string; ref: string; '*': string } }>(
    '/:org/:repo/blob/:ref/*',
    {
      config: { permission: 'git.repo.read' },
      schema: { tags, summary: 'A file at a branch, tag or commit, raw (the URL catalog:register and techdocs use)', params: Type.Object({ org: Type.String(), repo: Type.String(), ref: Type.String(), '*': Type.String() }) },
    },
    async (req, reply) => {
      const name = repoName(req.params.repo);
      await repos.get(req.params.org, name);
      const { content } = await repos.blob(req.params.org, name, req.params.ref, req.params['*']);
      return reply.header('content-security-policy', "default-src 'none'; sandbox").type(content.includes(0) ? 'application/octet-stream' : 'text/plain; charset=utf-8').send(content);
    },
  );
  for (const service of ['git-upload-pack', 'git-receive-pack'] as const) {
    app.post<{ Params: { org: string; repo: string } }>(
      `/:org/:repo/${service}`,
      {
        config: { permission: service === 'git-upload-pack' ? 'git.repo.read' : 'git.repo.push' },
        schema: { tags, summary: `git smart HTTP: ${service === 'git-upload-pack' ? 'clone and fetch' : 'push'}`, params },
      },
      async (req, reply) => {
        const { answer } = await serve(req, service);
        return reply.status(answer.status).headers(answer.headers).send(answer.body);
      },
    );
  }
}

export async function gitApiRoutes(app: FastifyInstance, deps: { repos: GitRepos; changes: ChangeRequests; baseUrl?: string }): Promise<void> {
  const { repos, changes, baseUrl } = deps;

  app.get('/repos', { config: { permission: 'git.repo.read' }, schema: { tags, summary: 'Repositories hosted by Pave' } }, async (req) => ({
    items: (await repos.list()).map((r) => withCloneUrl(req, baseUrl, r)),
  }));

  app.post<{ Body: Static<typeof CreateBody> }>(
    '/repos',
    { config: { permission: 'git.repo.create' }, schema: { tags, summary: 'Create an empty repository', body: CreateBody } },
    async (req, reply) => {
      req.audit.target = `git:${req.body.org}/${req.body.name}`;
      const repo = await repos.create({ ...req.body, owner: req.body.owner ?? req.principal.ref ?? undefined, createdBy: req.principal.ref ?? undefined });
      return reply.status(201).send(withCloneUrl(req, baseUrl, repo));
    },
  );

  app.get<{ Params: RepoParams }>(
    '/repos/:org/:name',
    { config: { permission: 'git.repo.read' }, schema: { tags, summary: 'A repository with its branches and tags', params: RepoParams } },
    async (req) => {
      const repo = await repos.get(req.params.org, req.params.name);
      return { ...withCloneUrl(req, baseUrl, repo), ...(await repos.refs(repo.org, repo.name)) };
    },
  );

  app.delete<{ Params: RepoParams }>(
    '/repos/:org/:name',
    { config: { permission: 'git.repo.delete' }, schema: { tags, summary: 'Delete a repository and its history', params: RepoParams } },
    async (req, reply) => {
      req.audit.target = `git:${req.params.org}/${req.params.name}`;
      req.access.authorize('git.repo.delete', await repos.get(req.params.org, req.params.name));
      await repos.remove(req.params.org, req.params.name);
      return reply.status(204).send();
    },
  );

  const RefQuery = Type.Object({ ref: Type.Optional(Type.String()), path: Type.Optional(Type.String()) });
  app.get<{ Params: RepoParams; Querystring: Static<typeof RefQuery> }>(
    '/repos/:org/:name/tree',
    { config: { permission: 'git.repo.read' }, schema: { tags, summary: 'The files of a folder at a branch, tag or commit', params: RepoParams, querystring: RefQuery } },
    async (req) => {
      await repos.get(req.params.org, req.params.name);
      return repos.tree(req.params.org, req.params.name, req.query.ref, req.query.path ?? '');
    },
  );

  app.get<{ Params: RepoParams; Querystring: Static<typeof RefQuery> }>(
    '/repos/:org/:name/blob',
    { config: { permission: 'git.repo.read' }, schema: { tags, summary: 'One file at a branch, tag or commit (raw bytes)', params: RepoParams, querystring: RefQuery } },
    async (req, reply) => {
      await repos.get(req.params.org, req.params.name);
      if (!req.query.path) throw badInput('INVALID_REQUEST', 'Give the file as ?path=', {});
      const { content } = await repos.blob(req.params.org, req.params.name, req.query.ref, req.query.path);
      // Shown as text or downloaded, never run as a page of Pave.
      return reply.header('content-security-policy', "default-src 'none'; sandbox").type(content.includes(0) ? 'application/octet-stream' : 'text/plain; charset=utf-8').send(content);
    },
  );

  const CommitQuery = Type.Object({ ref: Type.Optional(Type.String()), path: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) });
  app.get<{ Params: RepoParams; Querystring: Static<typeof CommitQuery> }>(
    '/repos/:org/:name/commits',
    { config: { permission: 'git.repo.read' }, schema: { tags, summary: 'Commits of a branch, newest first', params: RepoParams, querystring: CommitQuery } },
    async (req) => {
      await repos.get(req.params.org, req.params.name);
      return { items: await repos.commits(req.params.org, req.params.name, req.query.ref, req.query.limit ?? 30, req.query.path) };
    },
  );

  // ---- change requests ----
  const ChangeParams = Type.Object({ org: Type.String(), name: Type.String(), number: Type.Integer({ minimum: 1 }) });
  type ChangeParams = Static<typeof ChangeParams>;
  const OpenBody = Type.Object(
    { title: Type.String(), description: Type.Optional(Type.String()), sourceBranch: Type.String(), targetBranch: Type.Optional(Type.String()) },
    { additionalProperties: false },
  );
  app.post<{ Params: RepoParams; Body: Static<typeof OpenBody> }>(
    '/repos/:org/:name/changes',
    { config: { permission: 'git.change.create' }, schema: { tags, summary: 'Open a change request from a branch', params: RepoParams, body: OpenBody } },
    async (req, reply) => {
      req.audit.target = `git:${req.params.org}/${req.params.name}`;
      const change = await changes.open(req.params.org, req.params.name, { ...req.body, author: req.principal.ref ?? undefined });
      return reply.status(201).send(change);
    },
  );
  const ListQuery = Type.Object({ status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('merged'), Type.Literal('closed')])) });
  app.get<{ Params: RepoParams; Querystring: Static<typeof ListQuery> }>(
    '/repos/:org/:name/changes',
    { config: { permission: 'git.repo.read' }, schema: { tags, summary: 'Change requests of a repository, newest first', params: RepoParams, querystring: ListQuery } },
    async (req) => {
      await repos.get(req.params.org, req.params.name);
      return { items: await changes.list(req.params.org, req.params.name, req.query.status) };
    },
  );
  app.get<{ Params: ChangeParams }>(
    '/repos/:org/:name/changes/:number',
    { config: { permission: 'git.repo.read' }, schema: { tags, summary: 'A change request with its commits, changed files, comments and whether it merges cleanly', params: ChangeParams } },
    async (req) => {
      const change = await changes.get(req.params.org, req.params.name, req.params.number);
      return { ...change, ...(await changes.details(change)), comments: await changes.comments(change) };
    },
  );
  app.get<{ Params: ChangeParams }>(
    '/repos/:org/:name/changes/:number/diff',
    { config: { permission: 'git.repo.read' }, schema: { tags, summary: 'The unified diff of a change request', params: ChangeParams } },
    async (req, reply) => reply.type('text/plain; charset=utf-8').send(await changes.diff(await changes.get(req.params.org, req.params.name, req.params.number))),
  );
  app.post<{ Params: ChangeParams; Body: { body: string } }>(
    '/repos/:org/:name/changes/:number/comments',
    { config: { permission: 'git.change.create' }, schema: { tags, summary: 'Comment on a change request', params: ChangeParams, body: Type.Object({ body: Type.String() }, { additionalProperties: false }) } },
    async (req, reply) => {
      const change = await changes.get(req.params.org, req.params.name, req.params.number);
      req.audit.target = `git:${change.org}/${change.name}#${change.number}`;
      return reply.status(201).send(await changes.comment(change, req.principal.ref ?? undefined, req.body.body));
    },
  );
  app.post<{ Params: ChangeParams }>(
    '/repos/:org/:name/changes/:number/merge',
    { config: { permission: 'git.repo.push' }, schema: { tags, summary: 'Merge a change request (owners of the repository)', params: ChangeParams } },
    async (req) => {
      const change = await changes.get(req.params.org, req.params.name, req.params.number);
      req.audit.target = `git:${change.org}/${change.name}#${change.number}`;
      req.access.authorize('git.repo.push', await repos.get(change.org, change.name));
      return changes.merge(change, req.principal.ref ?? undefined);
    },
  );
  app.post<{ Params: ChangeParams }>(
    '/repos/:org/:name/changes/:number/close',
    { config: { permission: 'git.change.create' }, schema: { tags, summary: 'Close a change request without merging (its author, or owners of the repository)', params: ChangeParams } },
    async (req) => {
      const change = await changes.get(req.params.org, req.params.name, req.params.number);
      req.audit.target = `git:${change.org}/${change.name}#${change.number}`;
      if (!req.principal.ref || req.principal.ref !== change.author) req.access.authorize('git.repo.push', await repos.get(change.org, change.name));
      return changes.close(change, req.principal.ref ?? undefined);
    },
  );
}
