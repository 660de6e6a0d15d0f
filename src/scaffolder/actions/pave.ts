import fs from 'node:fs/promises';
import path from 'node:path';
import yaml from 'yaml';
import type { Catalog } from '../../catalog/index.ts';
import { refOf } from '../../catalog/refs.ts';
import { badInput, conflict, isPaveError } from '../../core/errors.ts';
import { GitRepos, type ChangeRequests } from '../../git/index.ts';
import { defineAction, type ActionContext, type TemplateAction } from '../action.ts';
import { parseEntityRef } from '../filters.ts';
import { applyWorkspace, commitAuthor, commitWorkspace, workspaceGit as run } from './scm.ts';

export interface PaveActionDeps {
  catalog: Catalog;
  repos: GitRepos;
  changes: ChangeRequests;
  /** Pave's public address (clone and browse URLs are made from it). */
  baseUrl: () => string;
}

/**
 * `host?owner=org&repo=name` (RepoUrlPicker's value) → the repository on Pave's git server. The
 * host is not checked: with publishTo pave, github.com and gitlab.com land on Pave too.
 */
export function paveRepoOf(repoUrl: string): { org: string; name: string } {
  let params: URLSearchParams;
  try {
    params = new URL(`https://${repoUrl.replace(/^[a-z]+:\/\//i, '')}`).searchParams;
  } catch {
    throw badInput('TEMPLATE_INPUT_INVALID', `repoUrl "${repoUrl}" is not <host>?owner=<org>&repo=<name>`, { repoUrl });
  }
  const org = params.get('owner') ?? params.get('organization') ?? params.get('workspace') ?? params.get('project');
  const repo = params.get('repo');
  if (!org || !repo) throw badInput('TEMPLATE_INPUT_INVALID', `repoUrl "${repoUrl}" needs owner and repo: <host>?owner=<org>&repo=<name>`, { repoUrl });
  const trim = (v: string) => v.replace(/^\/+|\/+$/g, '').toLowerCase();
  GitRepos.checkName(trim(org), trim(repo));
  return { org: trim(org), name: trim(repo) };
}

const PUBLISH_INPUT = {
  type: 'object',
  required: ['repoUrl'],
  properties: {
    repoUrl: { type: 'string', title: 'Repository location', description: 'As RepoUrlPicker writes it: <host>?owner=<org>&repo=<name>' },
    description: { type: 'string', title: 'Repository description' },
    defaultBranch: { type: 'string', title: 'Default branch', default: 'main' },
    sourcePath: { type: 'string', title: 'Folder of the workspace to publish', description: 'Relative to the workspace; the whole workspace by default' },
    gitCommitMessage: { type: 'string', title: 'Commit message', default: 'initial commit' },
    gitAuthorName: { type: 'string', title: 'Commit author name' },
    gitAuthorEmail: { type: 'string', title: 'Commit author e-mail' },
    owner: { type: 'string', title: 'Owner', description: 'The group or user that may push (default: the person running the template)' },
  },
};
const PUBLISH_OUTPUT = {
  type: 'object',
  properties: {
    remoteUrl: { type: 'string', title: 'Clone URL' },
    repoContentsUrl: { type: 'string', title: 'Browse URL of the default branch' },
    commitHash: { type: 'string', title: 'The commit pushed' },
  },
};

/**
 * `publish:pave`: creates the repository on Pave's git server and pushes the workspace as its
 * first commit. Done once per task: a retried task reuses the repository it created.
 */
export function publishPave(deps: PaveActionDeps, id = 'publish:pave'): TemplateAction {
  return defineAction<Record<string, any>>({
    id,
    description:
      id === 'publish:pave'
        ? "Creates a repository on Pave's own git server and pushes the workspace to it"
        : `Backstage's ${id}, mapped onto Pave's own git server (scaffolder.publishTo: pave): the repository is created and pushed on Pave`,
    schema: { input: PUBLISH_INPUT, output: PUBLISH_OUTPUT },
    // Simulated in a dry-run by the handler itself (it answers the URLs it would create).
    supportsDryRun: true,
    examples: [
      {
        description: 'Publish the workspace as acme/payments',
        example: yaml.stringify({ steps: [{ id: 'publish', action: id, name: 'Publish', input: { repoUrl: 'pave?owner=acme&repo=payments', description: 'Takes payments' } }] }),
      },
    ],
    async handler(ctx: ActionContext<Record<string, any>>) {
      const { org, name } = paveRepoOf(ctx.input.repoUrl);
      const branch = ctx.input.defaultBranch ?? 'main';
      const base = deps.baseUrl().replace(/\/+$/, '');
      const remoteUrl = `${base}/git/${org}/${name}.git`;
      const repoContentsUrl = `${base}/git/${org}/${name}/blob/${branch}`;
      if (ctx.isDryRun) {
        ctx.log(`Dry run: would create ${org}/${name} and push the workspace to ${remoteUrl}`);
        ctx.output('remoteUrl', remoteUrl);
        ctx.output('repoContentsUrl', repoContentsUrl);
        ctx.output('commitHash', '0'.repeat(40));
        return;
      }
      const create = async () => {
        try {
          await deps.repos.create({ org, name, description: ctx.input.description, owner: ctx.input.owner ?? ctx.user.ref, createdBy: ctx.user.ref });
        } catch (e) {
          if (isPaveError(e) && e.code === 'GIT_REPO_EXISTS') throw conflict('GIT_REPO_EXISTS', `The repository ${org}/${name} already exists on this Pave; choose another name`, { org, name });
          throw e;
        }
        ctx.log(`Created repository ${org}/${name}`);
        return true;
      };
      await (ctx.checkpoint ? ctx.checkpoint(`publish:create:${org}/${name}`, create) : create());
      const { dir: work, commitHash } = await commitWorkspace(ctx, {
        sourcePath: ctx.input.sourcePath,
        branch,
        message: ctx.input.gitCommitMessage ?? 'initial commit',
        authorName: ctx.input.gitAuthorName,
        authorEmail: ctx.input.gitAuthorEmail,
      });
      await deps.repos.pushFrom(work, org, name, `HEAD:refs/heads/${branch}`, ctx.user.ref ?? 'scaffolder', { force: true });
      ctx.log(`Pushed ${commitHash.slice(0, 12)} to ${remoteUrl} (${branch})`);
      ctx.output('remoteUrl', remoteUrl);
      ctx.output('repoContentsUrl', repoContentsUrl);
      ctx.output('commitHash', commitHash);
    },
  });
}

const CHANGE_INPUT = {
  type: 'object',
  required: ['repoUrl', 'branchName', 'title', 'description'],
  properties: {
    repoUrl: { type: 'string', description: 'The repository: <host>?owner=<org>&repo=<name>' },
    branchName: { type: 'string', description: 'The branch the change is pushed to' },
    targetBranchName: { type: 'string', description: 'The branch it should be merged into (default: the default branch)' },
    title: { type: 'string' },
    description: { type: 'string' },
    sourcePath: { type: 'string', description: 'Folder of the workspace to apply (default: all of it)' },
    targetPath: { type: 'string', description: 'Folder of the repository the files go to (default: its root)' },
    commitMessage: { type: 'string' },
    gitAuthorName: { type: 'string' },
    gitAuthorEmail: { type: 'string' },
    draft: { type: 'boolean' },
    reviewers: { type: 'array', items: { type: 'string' } },
    removeSourceBranch: { type: 'boolean' },
    commitAction: { type: 'string', enum: ['create', 'update', 'delete', 'auto', 'skip'] },
    update: { type: 'boolean' },
    token: { type: 'string' },
  },
};

/**
 * `publish:github:pull-request` and `publish:gitlab:merge-request` on Pave's own git server: the
 * workspace is committed onto a branch of an existing repository and a change request is opened.
 */
export function publishChangeRequest(deps: PaveActionDeps, id: 'publish:github:pull-request' | 'publish:gitlab:merge-request'): TemplateAction {
  const gitlab = id === 'publish:gitlab:merge-request';
  return defineAction<Record<string, any>>({
    id,
    description: `Backstage's ${id}, on Pave's own git server (scaffolder.publishTo: pave): commits the workspace to a branch and opens a change request`,
    supportsDryRun: true,
    schema: {
      input: CHANGE_INPUT,
      output: gitlab
        ? { type: 'object', properties: { mergeRequestUrl: { type: 'string' }, projectPath: { type: 'string' }, projectid: { type: 'string' }, targetBranchName: { type: 'string' } } }
        : { type: 'object', properties: { remoteUrl: { type: 'string' }, pullRequestNumber: { type: 'number' }, targetBranchName: { type: 'string' } } },
    },
    examples: [
      {
        description: 'Propose the workspace as a change to acme/payments',
        example: yaml.stringify({ steps: [{ id: 'pr', action: id, name: 'Open a change request', input: { repoUrl: 'pave?owner=acme&repo=payments', branchName: 'add-docs', title: 'Add docs', description: 'Made by a template' } }] }),
      },
    ],
    async handler(ctx) {
      const { org, name } = paveRepoOf(ctx.input.repoUrl);
      const repo = await deps.repos.get(org, name);
      const target = ctx.input.targetBranchName ?? repo.defaultBranch;
      const base = deps.baseUrl().replace(/\/+$/, '');
      const report = (number: number) => {
        const url = `${base}/api/git/repos/${org}/${name}/changes/${number}`;
        if (gitlab) {
          ctx.output('mergeRequestUrl', url);
          ctx.output('projectPath', `${org}/${name}`);
          ctx.output('projectid', `${org}/${name}`);
        } else {
          ctx.output('remoteUrl', url);
          ctx.output('pullRequestNumber', number);
        }
        ctx.output('targetBranchName', target);
      };
      if (ctx.isDryRun) {
        ctx.log(`Dry run: would push the workspace to ${org}/${name} branch ${ctx.input.branchName} and open a change request into ${target}`);
        report(0);
        return;
      }
      const work = await ctx.createTemporaryDirectory();
      await run(work, ['clone', '--quiet', '--branch', target, deps.repos.dirOf(org, name), '.']);
      await run(work, ['checkout', '--quiet', '-B', ctx.input.branchName]);
      await applyWorkspace(ctx, work, { sourcePath: ctx.input.sourcePath, targetPath: ctx.input.targetPath });
      await run(work, ['add', '--all']);
      await run(work, ['commit', '--quiet', '--allow-empty', '-m', ctx.input.commitMessage ?? ctx.input.title], commitAuthor(ctx.input.gitAuthorName, ctx.input.gitAuthorEmail));
      await deps.repos.pushFrom(work, org, name, `HEAD:refs/heads/${ctx.input.branchName}`, ctx.user.ref ?? 'scaffolder', { force: true });
      const existing = (await deps.changes.list(org, name, 'open')).find((c) => c.sourceBranch === ctx.input.branchName && c.targetBranch === target);
      const change = existing ?? (await deps.changes.open(org, name, { title: ctx.input.title, description: ctx.input.description, sourceBranch: ctx.input.branchName, targetBranch: target, author: ctx.user.ref }));
      ctx.log(`${existing ? 'Updated' : 'Opened'} change request #${change.number} from ${ctx.input.branchName} into ${target}`);
      report(change.number);
    },
  });
}

/** `catalog:register`: registers a catalog file (by URL) as a location; on Pave's git server, read from disk. */
export function catalogRegister(deps: PaveActionDeps): TemplateAction {
  return defineAction<Record<string, any>>({
    id: 'catalog:register',
    description: 'Registers entities from a catalog descriptor file in the software catalog',
    supportsDryRun: true,
    schema: {
      input: {
        oneOf: [
          { type: 'object', required: ['catalogInfoUrl'], properties: { catalogInfoUrl: { type: 'string' }, optional: { type: 'boolean' } } },
          { type: 'object', required: ['repoContentsUrl'], properties: { repoContentsUrl: { type: 'string' }, catalogInfoPath: { type: 'string' }, optional: { type: 'boolean' } } },
        ],
      },
      output: { type: 'object', properties: { entityRef: { type: 'string' }, catalogInfoUrl: { type: 'string' } } },
    },
    examples: [
      { description: 'Register the catalog file of a published repository', example: yaml.stringify({ steps: [{ id: 'register', action: 'catalog:register', name: 'Register', input: { repoContentsUrl: '${{ steps.publish.output.repoContentsUrl }}', catalogInfoPath: '/catalog-info.yaml' } }] }) },
    ],
    async handler(ctx) {
      const url: string = ctx.input.catalogInfoUrl ?? `${String(ctx.input.repoContentsUrl).replace(/\/+$/, '')}/${String(ctx.input.catalogInfoPath ?? '/catalog-info.yaml').replace(/^\/+/, '')}`;
      if (ctx.isDryRun) {
        ctx.log(`Dry run: would register ${url}`);
        ctx.output('catalogInfoUrl', url);
        return;
      }
      try {
        const result = await deps.catalog.addLocation({ type: 'url', target: url }, { onConflict: 'refresh', createdBy: ctx.user.ref, waitMs: 10_000 });
        const entities = result.entities as { kind: string; metadata: { name: string; namespace?: string } }[];
        const main = entities.find((e) => e.kind !== 'Location') ?? entities[0];
        ctx.log(`Registered ${url}${main ? ` (${refOf(main)})` : ''}`);
        ctx.output('catalogInfoUrl', url);
        if (main) {
          ctx.output('entityRef', refOf(main));
          // The repository belongs to the entity its catalog file describes.
          const m = /\/git\/([^/]+)\/([^/]+?)(?:\.git)?\/blob\//.exec(new URL(url).pathname);
          if (m) await deps.repos.setEntity(m[1], m[2], refOf(main));
        }
      } catch (e) {
        if (ctx.input.optional) {
          ctx.log(`Not registered (optional): ${(e as Error).message}`);
          return;
        }
        throw e;
      }
    },
  });
}

/** `catalog:write`: writes an entity as catalog-info.yaml into the workspace. */
export const catalogWrite = defineAction<{ filePath?: string; entity: Record<string, unknown> }>({
  id: 'catalog:write',
  description: 'Writes the catalog descriptor file (catalog-info.yaml) into the workspace',
  supportsDryRun: true,
  schema: {
    input: { type: 'object', required: ['entity'], properties: { filePath: { type: 'string', description: 'Defaults to catalog-info.yaml' }, entity: { type: 'object', description: 'The entity to write' } } },
  },
  examples: [
    {
      description: 'Write a component',
      example: yaml.stringify({ steps: [{ id: 'write', action: 'catalog:write', name: 'Write catalog file', input: { entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: 'payments' }, spec: { type: 'service', lifecycle: 'experimental', owner: 'team-a' } } } }] }),
    },
  ],
  async handler(ctx) {
    const file = path.resolve(ctx.workspacePath, ctx.input.filePath ?? 'catalog-info.yaml');
    if (!file.startsWith(ctx.workspacePath + path.sep)) throw badInput('TEMPLATE_INPUT_INVALID', `filePath "${ctx.input.filePath}" leaves the workspace`, {});
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, yaml.stringify(ctx.input.entity));
    ctx.log(`Wrote ${path.relative(ctx.workspacePath, file)}`);
  },
});

/** `catalog:fetch`: reads entities from the catalog into the step's output. */
export function catalogFetch(deps: PaveActionDeps): TemplateAction {
  return defineAction<Record<string, any>>({
    id: 'catalog:fetch',
    description: 'Returns entities from the catalog by ref',
    supportsDryRun: true,
    schema: {
      input: {
        type: 'object',
        properties: {
          entityRef: { type: 'string' },
          entityRefs: { type: 'array', items: { type: 'string' } },
          optional: { type: 'boolean' },
          defaultKind: { type: 'string' },
          defaultNamespace: { type: 'string' },
        },
      },
      output: { type: 'object', properties: { entity: { type: 'object' }, entities: { type: 'array' } } },
    },
    examples: [{ description: 'Fetch the owner group', example: yaml.stringify({ steps: [{ id: 'owner', action: 'catalog:fetch', name: 'Fetch owner', input: { entityRef: 'group:default/team-a' } }] }) }],
    async handler(ctx) {
      const opts = { defaultKind: ctx.input.defaultKind, defaultNamespace: ctx.input.defaultNamespace };
      const fetchOne = async (ref: string) => {
        const { kind, namespace, name } = parseEntityRef(ref, opts);
        try {
          return await deps.catalog.byName(kind, namespace, name);
        } catch (e) {
          if (isPaveError(e) && e.status === 404 && ctx.input.optional) return null;
          throw e;
        }
      };
      if (ctx.input.entityRef) ctx.output('entity', await fetchOne(ctx.input.entityRef));
      if (ctx.input.entityRefs) ctx.output('entities', await Promise.all((ctx.input.entityRefs as string[]).map(fetchOne)));
    },
  });
}
