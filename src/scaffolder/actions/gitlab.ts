import yaml from 'yaml';
import { badInput, conflict, errorMessage, notFound } from '../../core/errors.ts';
import { defineAction, type ActionContext, type TemplateAction } from '../action.ts';
import type { NativePublishDeps } from './github.ts';
import {
  applyWorkspace,
  cloneToPropose,
  commitAuthor,
  failedTo,
  once,
  pushWithToken,
  pushWorkspaceOnce,
  requireScmToken,
  ScmApi,
  scmStatusOf,
  scmTargetOf,
  scmTokenOf,
  stageAll,
  workspaceGit,
  type ScmTarget,
  type ScmToken,
} from './scm.ts';

interface GitlabInput {
  repoUrl: string;
  repoVisibility?: 'private' | 'internal' | 'public';
  defaultBranch?: string;
  gitCommitMessage?: string;
  gitAuthorName?: string;
  gitAuthorEmail?: string;
  signCommit?: boolean;
  sourcePath?: string | boolean;
  skipExisting?: boolean;
  token?: string;
  setUserAsOwner?: boolean;
  topics?: string[];
  settings?: Record<string, unknown> & { path?: string };
  branches?: { name: string; protect?: boolean; create?: boolean; ref?: string }[];
  projectVariables?: {
    key: string;
    value: string;
    description?: string;
    variable_type?: 'env_var' | 'file';
    protected?: boolean;
    masked?: boolean;
    raw?: boolean;
    environment_scope?: string;
  }[];
}

interface GitlabProject {
  id: number;
  path: string;
  http_url_to_repo: string;
  default_branch?: string | null;
}

const ID = 'publish:gitlab';

/** Backstage's input names and defaults (`plugins/scaffolder-backend-module-gitlab`). */
const INPUT = {
  type: 'object',
  required: ['repoUrl'],
  properties: {
    repoUrl: { type: 'string', title: 'Repository location', description: 'As RepoUrlPicker writes it: gitlab.com?owner=<group, group/subgroup or user>&repo=<name>' },
    repoVisibility: { type: 'string', enum: ['private', 'internal', 'public'], title: 'Visibility', description: 'Deprecated in Backstage for settings.visibility, which wins', default: 'private' },
    defaultBranch: { type: 'string', title: 'Default branch', default: 'master' },
    gitCommitMessage: { type: 'string', title: 'Commit message', default: 'initial commit' },
    gitAuthorName: { type: 'string', title: 'Commit author name', description: 'Pave by default' },
    gitAuthorEmail: { type: 'string', title: 'Commit author e-mail' },
    signCommit: { type: 'boolean', title: 'Sign the commit (not supported by Pave)', description: 'Refused when true: Pave has no commit signing key' },
    sourcePath: {
      type: ['string', 'boolean'],
      title: 'Folder of the workspace to publish',
      description: 'Relative to the workspace; the whole workspace when absent or true; false creates an empty project',
    },
    skipExisting: { type: 'boolean', title: 'Reuse an existing project of that path instead of failing', default: false },
    token: { type: 'string', title: 'Token', description: "A user's OAuth token used instead of the integration's (e.g. ${{ secrets.USER_OAUTH_TOKEN }})" },
    setUserAsOwner: {
      type: 'boolean',
      title: 'Make the token user owner of the project',
      description: "With the token input: the integration's token adds that user as Owner (it needs the right to)",
      default: false,
    },
    topics: { type: 'array', items: { type: 'string' }, title: 'Topics', description: 'Deprecated in Backstage for settings.topics' },
    settings: {
      type: 'object',
      title: 'Project settings',
      description: "Any attribute of GitLab's create-project call, sent as given",
      properties: {
        path: { type: 'string', description: 'The project path (from the name by default)' },
        auto_devops_enabled: { type: 'boolean' },
        ci_config_path: { type: 'string' },
        description: { type: 'string' },
        merge_method: { type: 'string', enum: ['merge', 'rebase_merge', 'ff'] },
        squash_option: { type: 'string', enum: ['default_off', 'default_on', 'never', 'always'] },
        topics: { type: 'array', items: { type: 'string' } },
        visibility: { type: 'string', enum: ['private', 'internal', 'public'] },
        only_allow_merge_if_all_discussions_are_resolved: { type: 'boolean' },
        only_allow_merge_if_pipeline_succeeds: { type: 'boolean' },
        allow_merge_on_skipped_pipeline: { type: 'boolean' },
      },
    },
    branches: {
      type: 'array',
      title: 'Branches to create or protect once the workspace is pushed',
      items: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string' },
          protect: { type: 'boolean', default: false },
          create: { type: 'boolean', default: false },
          ref: { type: 'string', description: 'What a created branch starts from (the default branch by default)' },
        },
      },
    },
    projectVariables: {
      type: 'array',
      title: 'CI/CD variables of the project',
      items: {
        type: 'object',
        required: ['key', 'value'],
        properties: {
          key: { type: 'string', description: 'Letters, digits and _, at most 255' },
          value: { type: 'string' },
          description: { type: 'string' },
          variable_type: { type: 'string', enum: ['env_var', 'file'], default: 'env_var' },
          protected: { type: 'boolean', default: false },
          masked: { type: 'boolean', default: false },
          raw: { type: 'boolean', default: false },
          environment_scope: { type: 'string', default: '*' },
        },
      },
    },
  },
};

const OUTPUT = {
  type: 'object',
  properties: {
    remoteUrl: { type: 'string', title: 'The project URL' },
    repoContentsUrl: { type: 'string', title: 'Browse URL of the default branch' },
    projectId: { type: 'number', title: 'The project id' },
    commitHash: { type: 'string', title: 'The commit pushed' },
    created: { type: 'boolean', title: 'False when skipExisting found the project already there' },
  },
};

const example = (input: Record<string, unknown>) => yaml.stringify({ steps: [{ id: 'publish', action: ID, name: 'Publish to GitLab', input }] });
const enc = encodeURIComponent;

/**
 * `publish:gitlab` against GitLab's REST API (scaffolder.publishTo: native), as Backstage does it:
 * the project is created in the owner's namespace, the workspace pushed as its first commit, then
 * branches are created or protected and CI/CD variables added.
 */
export function publishGitlab(deps: NativePublishDeps): TemplateAction<GitlabInput> {
  return defineAction<GitlabInput>({
    id: ID,
    description: "Creates a project on GitLab and pushes the workspace to it (scaffolder.publishTo: native), as Backstage's publish:gitlab",
    schema: { input: INPUT, output: OUTPUT },
    // Simulated in a dry-run by the handler itself: no call is made, the URLs it would create are answered.
    supportsDryRun: true,
    examples: [
      { description: 'Publish the workspace as a private project of a group', example: example({ repoUrl: 'gitlab.com?owner=acme&repo=payments' }) },
      {
        description: 'An internal project in a subgroup, on main, with settings, a protected develop branch and a CI/CD variable',
        example: example({
          repoUrl: 'gitlab.com?owner=acme/platform&repo=ledger',
          defaultBranch: 'main',
          settings: { visibility: 'internal', description: 'Keeps the books', topics: ['payments'], merge_method: 'ff' },
          branches: [{ name: 'develop', create: true, ref: 'main', protect: true }],
          projectVariables: [{ key: 'DEPLOY_ENV', value: 'staging' }],
        }),
      },
      {
        description: 'Reuse the project if a previous run made it already',
        example: example({ repoUrl: 'gitlab.com?owner=acme&repo=payments', skipExisting: true }),
      },
    ],
    async handler(ctx) {
      const input = ctx.input;
      if (input.signCommit) {
        throw badInput('ACTION_INPUT_UNSUPPORTED', `${ID}: signCommit is not supported by Pave (it has no commit signing key); remove it, or sign commits in a later step`, { field: 'signCommit' });
      }
      const target = scmTargetOf('gitlab', ID, input.repoUrl, deps.integrations);
      const { host, owner, repo } = target;
      const branch = input.defaultBranch ?? 'master';
      if (ctx.isDryRun) {
        const web = `${target.webBaseUrl}/${owner}/${input.settings?.path ?? repo}`;
        ctx.log(`Dry run: would create the project ${owner}/${repo} on ${host} and push the workspace to its ${branch} branch`);
        if (!scmTokenOf(target, input.token, ID)) ctx.log(`Dry run: no token for ${host}: a real run needs integrations.gitlab[].token for host ${host} in pave.yaml, or the token input`);
        ctx.output('remoteUrl', web);
        ctx.output('repoContentsUrl', `${web}/-/blob/${branch}`);
        ctx.output('projectId', 0);
        ctx.output('commitHash', '0'.repeat(40));
        ctx.output('created', true);
        return;
      }
      const token = requireScmToken(target, input.token, ID);
      const api = gitlabApi(target, token, ctx.signal);
      const project = await once(ctx, `${ID}:create:${host}/${owner}/${repo}`, () => createProject(api, target, input));
      const remoteUrl = project.http_url_to_repo.replace(/\.git$/, '');
      ctx.output('remoteUrl', remoteUrl);
      ctx.output('projectId', project.id);
      if (!project.created) {
        ctx.log(`The project ${owner}/${project.path} exists on ${host} already: kept as it is (skipExisting)`);
        ctx.output('repoContentsUrl', `${remoteUrl}/-/blob/${project.default_branch ?? branch}`);
        ctx.output('created', false);
        return;
      }
      ctx.log(`Created the project ${owner}/${project.path} (id ${project.id}) on ${host}`);
      if (input.setUserAsOwner) await setUserAsOwner(ctx, api, target, project.id);
      if (input.sourcePath !== false) {
        const commitHash = await pushWorkspaceOnce(ctx, `${ID}:push:${host}/${project.id}`, {
          sourcePath: typeof input.sourcePath === 'string' ? input.sourcePath : undefined,
          branch,
          message: input.gitCommitMessage ?? 'initial commit',
          authorName: input.gitAuthorName,
          authorEmail: input.gitAuthorEmail,
          remote: { remoteUrl: project.http_url_to_repo, username: 'oauth2', token, target },
        });
        ctx.output('commitHash', commitHash);
        for (const b of input.branches ?? []) {
          const ref = b.ref ?? branch;
          if (b.create) {
            await once(ctx, `${ID}:branch:${host}/${project.id}:${b.name}`, () =>
              api.request('POST', `/projects/${project.id}/repository/branches`, { branch: b.name, ref }).then(
                () => true,
                (e) => Promise.reject(failedTo(`Creating the branch ${b.name} from ${ref}`, e)),
              ),
            );
            ctx.log(`Created the branch ${b.name} from ${ref}`);
          }
          if (b.protect) {
            await once(ctx, `${ID}:protect:${host}/${project.id}:${b.name}`, () =>
              api.request('POST', `/projects/${project.id}/protected_branches`, { name: b.name }).then(
                () => true,
                (e) => Promise.reject(failedTo(`Protecting the branch ${b.name}`, e)),
              ),
            );
            ctx.log(`Protected the branch ${b.name}`);
          }
        }
      }
      for (const v of input.projectVariables ?? []) {
        const scope = v.environment_scope ?? '*';
        const body = {
          key: v.key,
          value: v.value,
          description: v.description,
          variable_type: v.variable_type ?? 'env_var',
          protected: v.protected ?? false,
          masked: v.masked ?? false,
          raw: v.raw ?? false,
          environment_scope: scope,
        };
        // Remembered as done, never with its value: a variable may hold a secret.
        await once(ctx, `${ID}:variable:${host}/${project.id}:${v.key}@${scope}`, () =>
          api.request('POST', `/projects/${project.id}/variables`, body).then(
            () => true,
            (e) => Promise.reject(failedTo(`Creating the project variable ${v.key} (scope ${scope})`, e)),
          ),
        );
        ctx.log(`Added the project variable ${v.key} (scope ${scope})`);
      }
      ctx.output('repoContentsUrl', `${remoteUrl}/-/blob/${branch}`);
      ctx.output('created', true);
    },
  });
}

/** A token from the action's input is a user's OAuth token (Bearer); the integration's a personal or group token (PRIVATE-TOKEN), as Backstage's client sends them. */
function gitlabApi(target: ScmTarget, token: ScmToken, signal?: AbortSignal): ScmApi {
  return new ScmApi(target, token, token.fromInput ? { authorization: `Bearer ${token.value}` } : { 'private-token': token.value }, signal);
}

/** Creates the project in the owner's namespace (or, with skipExisting, finds the one there). */
async function createProject(api: ScmApi, target: ScmTarget, input: GitlabInput): Promise<GitlabProject & { created: boolean }> {
  const { host, owner, repo } = target;
  const namespace = await api.request<{ id: number; kind: string }>('GET', `/namespaces/${enc(owner)}`, undefined, {
    notFound: () => notFound('SCM_OWNER_NOT_FOUND', `GitLab ${host} has no group or user "${owner}" the token can see (the owner in repoUrl "${input.repoUrl}")`, { host, owner }),
  });
  const pick = (p: GitlabProject) => ({ id: p.id, path: p.path, http_url_to_repo: p.http_url_to_repo, default_branch: p.default_branch ?? null });
  if (input.skipExisting) {
    const listed = await api.request<GitlabProject[]>('GET', `/${namespace.kind === 'user' ? 'users' : 'groups'}/${enc(owner)}/projects?search=${enc(repo)}`);
    const existing = listed.find((p) => p.path === (input.settings?.path ?? repo));
    if (existing) return { ...pick(existing), created: false };
  }
  const topics = input.topics ?? [];
  try {
    const created = await api.request<GitlabProject>('POST', '/projects', {
      namespace_id: namespace.id,
      name: repo,
      visibility: input.repoVisibility ?? 'private',
      ...(topics.length ? { topics } : {}),
      ...input.settings,
    });
    return { ...pick(created), created: true };
  } catch (e) {
    if (scmStatusOf(e) === 400 && /has already been taken/i.test(errorMessage(e))) {
      throw conflict('GIT_REPO_EXISTS', `The project ${owner}/${input.settings?.path ?? repo} already exists on ${host}; choose another name, or set skipExisting to reuse it`, { host, owner, repo });
    }
    throw e;
  }
}

/**
 * A user's OAuth token may create a project yet not push its protected default branch: the
 * integration's token then adds that user as Owner (access level 50), as Backstage does.
 */
async function setUserAsOwner(ctx: ActionContext<unknown>, api: ScmApi, target: ScmTarget, projectId: number): Promise<void> {
  const admin = scmTokenOf(target, undefined, ID);
  if (!api.token.fromInput || !admin) {
    ctx.log(
      api.token.fromInput
        ? `setUserAsOwner skipped: no token for ${target.host} in integrations.gitlab to add the owner with`
        : "setUserAsOwner skipped: the project was made with the integration's token, not a user's (pass the user's token as the token input)",
    );
    return;
  }
  const user = await api.request<{ id: number; username: string }>('GET', '/user');
  await once(ctx, `${ID}:owner:${target.host}/${projectId}:${user.id}`, () =>
    gitlabApi(target, admin, ctx.signal)
      .request('POST', `/projects/${projectId}/members`, { user_id: user.id, access_level: 50 })
      .then(
        () => true,
        (e) => Promise.reject(failedTo(`Making ${user.username} owner of the project`, e)),
      ),
  );
  ctx.log(`Made ${user.username} owner of the project`);
}

interface MergeRequestInput {
  repoUrl: string;
  title: string;
  description?: string;
  branchName: string;
  targetBranchName?: string;
  sourcePath?: string;
  targetPath?: string;
  token?: string;
  commitAction?: 'create' | 'update' | 'delete' | 'auto' | 'skip';
  projectid?: string;
  removeSourceBranch?: boolean;
  assignee?: string;
  reviewers?: string[];
  assignReviewersFromApprovalRules?: boolean;
}

const MR_ID = 'publish:gitlab:merge-request';

/**
 * `publish:gitlab:merge-request` against GitLab (scaffolder.publishTo: native): the workspace is
 * committed onto a new branch of an existing project (cloned and pushed with the real git client)
 * and a merge request is opened. As in Backstage, an existing branch is used as it is when the
 * workspace changes nothing, and refused when it would.
 */
export function publishGitlabMergeRequest(deps: NativePublishDeps): TemplateAction<MergeRequestInput> {
  return defineAction<MergeRequestInput>({
    id: MR_ID,
    description: "Commits the workspace to a branch of a GitLab project and opens a merge request (scaffolder.publishTo: native), as Backstage's publish:gitlab:merge-request",
    supportsDryRun: true,
    schema: {
      input: {
        type: 'object',
        required: ['repoUrl', 'branchName'],
        properties: {
          repoUrl: { type: 'string', title: 'Repository location', description: 'gitlab.com?owner=<group or user>&repo=<project> of an existing project' },
          projectid: { type: 'string', title: 'Project id or path', description: 'Deprecated in Backstage: the project of repoUrl is used' },
          title: { type: 'string', title: 'Merge request title (and commit message)' },
          description: { type: 'string', title: 'Merge request description' },
          branchName: { type: 'string', title: 'Branch the change is pushed to' },
          targetBranchName: { type: 'string', title: 'Branch to merge into', description: "The project's default branch by default" },
          sourcePath: { type: 'string', title: 'Folder of the workspace to propose', description: 'targetPath when absent (as Backstage, for compatibility), else the whole workspace; "." for the whole workspace' },
          targetPath: { type: 'string', title: 'Folder of the repository the files go to', description: 'Its root by default' },
          token: { type: 'string', title: 'Token', description: "A user's OAuth token used instead of the integration's" },
          commitAction: {
            type: 'string',
            enum: ['create', 'update', 'delete', 'auto', 'skip'],
            title: 'What the commit does with the files',
            description: 'delete removes the workspace files from the repository; skip commits nothing; the others write them',
          },
          removeSourceBranch: { type: 'boolean', title: 'Delete the branch once merged', default: false },
          assignee: { type: 'string', title: 'Username of the assignee' },
          reviewers: { type: 'array', items: { type: 'string' }, title: 'Usernames of the reviewers' },
          assignReviewersFromApprovalRules: { type: 'boolean', title: 'Reviewers from approval rules (not supported by Pave: skipped, saying so)' },
        },
      },
      output: {
        type: 'object',
        properties: {
          targetBranchName: { type: 'string', title: 'The branch it merges into' },
          projectid: { type: 'string', title: 'The project path' },
          projectPath: { type: 'string', title: 'The project path' },
          mergeRequestUrl: { type: 'string', title: 'The merge request URL' },
        },
      },
    },
    examples: [
      {
        description: 'Propose the workspace as a change to acme/payments',
        example: yaml.stringify({
          steps: [{ id: 'mr', action: MR_ID, name: 'Open a merge request', input: { repoUrl: 'gitlab.com?owner=acme&repo=payments', branchName: 'add-docs', title: 'Add docs', description: 'Made by a template' } }],
        }),
      },
      {
        description: 'Put the workspace into a folder of a subgroup project, assigned to ada with grace reviewing, the branch removed once merged',
        example: yaml.stringify({
          steps: [
            {
              id: 'mr',
              action: MR_ID,
              name: 'Open a merge request',
              input: {
                repoUrl: 'gitlab.com?owner=acme/platform&repo=ledger',
                branchName: 'add-service',
                title: 'Add the ledger service',
                sourcePath: '.',
                targetPath: 'services/ledger',
                assignee: 'ada',
                reviewers: ['grace'],
                removeSourceBranch: true,
              },
            },
          ],
        }),
      },
    ],
    async handler(ctx) {
      const input = ctx.input;
      const target = scmTargetOf('gitlab', MR_ID, input.repoUrl, deps.integrations);
      const { host, owner, repo } = target;
      const projectPath = `${owner}/${repo}`;
      const title = input.title ?? `Changes from ${input.branchName}`;
      if (ctx.isDryRun) {
        ctx.log(`Dry run: would push the workspace to ${projectPath} branch ${input.branchName} on ${host} and open a merge request into ${input.targetBranchName ?? 'the default branch'}`);
        ctx.output('projectid', projectPath);
        ctx.output('projectPath', projectPath);
        ctx.output('mergeRequestUrl', `${target.webBaseUrl}/${projectPath}/-/merge_requests/0`);
        // The default branch is known only by asking GitLab, which a dry-run does not.
        if (input.targetBranchName) ctx.output('targetBranchName', input.targetBranchName);
        return;
      }
      const token = requireScmToken(target, input.token, MR_ID);
      const api = gitlabApi(target, token, ctx.signal);
      const project = await api.request<{ id: number; default_branch?: string | null; http_url_to_repo: string; web_url: string }>('GET', `/projects/${enc(projectPath)}`, undefined, {
        notFound: () => notFound('SCM_REPO_NOT_FOUND', `GitLab ${host} has no project ${projectPath} the token can see (repoUrl "${input.repoUrl}")`, { host, owner, repo }),
      });
      const targetBranch = input.targetBranchName ?? project.default_branch;
      if (!targetBranch) throw badInput('SCM_BRANCH_UNKNOWN', `The project ${projectPath} on ${host} has no default branch (is it empty?): set targetBranchName`, { host, projectPath });
      const userId = async (username: string) => {
        try {
          const [user] = await api.request<{ id: number }[]>('GET', `/users?username=${enc(username)}`);
          if (user) return user.id;
          ctx.log(`No GitLab user ${username} on ${host}: left out of the merge request`);
        } catch (e) {
          ctx.log(`No GitLab user id for ${username}: ${errorMessage(e)}; left out of the merge request`);
        }
        return undefined;
      };
      const assigneeId = input.assignee === undefined ? undefined : await userId(input.assignee);
      const reviewerIds = input.reviewers === undefined ? undefined : (await Promise.all(input.reviewers.map(userId))).filter((id): id is number => id !== undefined);
      await once(ctx, `${MR_ID}:push:${host}/${projectPath}:${input.branchName}`, async () => {
        const remote = { remoteUrl: project.http_url_to_repo, username: 'oauth2', token, target };
        const { dir, branchExists: exists } = await cloneToPropose(ctx, remote, targetBranch, input.branchName);
        await workspaceGit(dir, ['checkout', '--quiet', '-B', input.branchName]);
        const action = input.commitAction ?? 'auto';
        if (action !== 'skip') await applyWorkspace(ctx, dir, { sourcePath: input.sourcePath || input.targetPath, targetPath: input.targetPath, remove: action === 'delete' });
        const changed = action !== 'skip' && (await stageAll(dir));
        if (exists && changed) {
          const [open] = await api.request<{ web_url: string }[]>('GET', `/projects/${project.id}/merge_requests?state=opened&source_branch=${enc(input.branchName)}`);
          throw conflict(
            'SCM_BRANCH_EXISTS',
            `The branch ${input.branchName} exists in ${projectPath} on ${host} already${open ? `, with the merge request ${open.web_url}` : ''}: choose another branchName`,
            { host, projectPath, branch: input.branchName },
          );
        }
        if (exists) {
          ctx.log(`Using the existing branch ${input.branchName} as it is`);
          return true;
        }
        if (changed) await workspaceGit(dir, ['commit', '--quiet', '-m', title], commitAuthor());
        await pushWithToken({ ...remote, dir, branch: input.branchName });
        ctx.log(`Pushed ${changed ? 'the workspace' : 'an unchanged copy of the target branch'} to ${projectPath} branch ${input.branchName} (from ${targetBranch})`);
        return true;
      });
      const mergeRequest = await once(ctx, `${MR_ID}:open:${host}/${projectPath}:${input.branchName}`, async () => {
        const answer = await api
          .request<{ iid: number; web_url: string }>('POST', `/projects/${project.id}/merge_requests`, {
            source_branch: input.branchName,
            target_branch: targetBranch,
            title,
            description: input.description,
            remove_source_branch: input.removeSourceBranch ?? false,
            assignee_id: assigneeId,
            reviewer_ids: reviewerIds,
          })
          .catch((e) => Promise.reject(failedTo('Opening the merge request', e)));
        ctx.log(`Opened merge request !${answer.iid}: ${answer.web_url}`);
        return { iid: answer.iid, url: answer.web_url };
      });
      if (input.assignReviewersFromApprovalRules) ctx.log('assignReviewersFromApprovalRules is not supported by Pave: reviewers from approval rules were not added');
      ctx.output('projectid', projectPath);
      ctx.output('projectPath', projectPath);
      ctx.output('targetBranchName', targetBranch);
      ctx.output('mergeRequestUrl', mergeRequest.url);
    },
  });
}
