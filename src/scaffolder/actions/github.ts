import yaml from 'yaml';
import sodium from 'libsodium-wrappers';
import type { IntegrationsConfig } from '../../core/config.ts';
import { badInput, conflict, errorMessage, notFound } from '../../core/errors.ts';
import { defineAction, type ActionContext, type TemplateAction } from '../action.ts';
import {
  applyWorkspace,
  cloneToPropose,
  commitAuthor,
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

/** What the native publish actions need: the SCM services of pave.yaml's `integrations`. */
export interface NativePublishDeps {
  integrations: IntegrationsConfig;
}

type Collaborator = { user: string; access: string } | { team: string; access: string } | { username: string; access: string };

interface GithubInput {
  repoUrl: string;
  description?: string;
  homepage?: string;
  access?: string;
  repoVisibility?: 'private' | 'internal' | 'public';
  defaultBranch?: string;
  protectDefaultBranch?: boolean;
  protectEnforceAdmins?: boolean;
  requireCodeOwnerReviews?: boolean;
  dismissStaleReviews?: boolean;
  requiredApprovingReviewCount?: number;
  requiredStatusCheckContexts?: string[];
  requireBranchesToBeUpToDate?: boolean;
  requiredConversationResolution?: boolean;
  requireLastPushApproval?: boolean;
  requiredCommitSigning?: boolean;
  requiredLinearHistory?: boolean;
  bypassPullRequestAllowances?: { users?: string[]; teams?: string[]; apps?: string[] };
  restrictions?: { users: string[]; teams: string[]; apps?: string[] };
  deleteBranchOnMerge?: boolean;
  allowMergeCommit?: boolean;
  allowSquashMerge?: boolean;
  squashMergeCommitTitle?: 'PR_TITLE' | 'COMMIT_OR_PR_TITLE';
  squashMergeCommitMessage?: 'PR_BODY' | 'COMMIT_MESSAGES' | 'BLANK';
  allowRebaseMerge?: boolean;
  allowAutoMerge?: boolean;
  allowUpdateBranch?: boolean;
  sourcePath?: string;
  collaborators?: Collaborator[];
  hasProjects?: boolean;
  hasWiki?: boolean;
  hasIssues?: boolean;
  topics?: string[];
  repoVariables?: Record<string, string>;
  secrets?: Record<string, string>;
  oidcCustomization?: { useDefault: boolean; includeClaimKeys?: string[] };
  customProperties?: Record<string, string | string[]>;
  subscribe?: boolean;
  gitCommitMessage?: string;
  gitAuthorName?: string;
  gitAuthorEmail?: string;
  token?: string;
}

const ID = 'publish:github';
const strings = { type: 'array', items: { type: 'string' } };

/** Backstage's input names and defaults (`plugins/scaffolder-backend-module-github`). */
const INPUT = {
  type: 'object',
  required: ['repoUrl'],
  properties: {
    repoUrl: { type: 'string', title: 'Repository location', description: 'As RepoUrlPicker writes it: github.com?owner=<organization or user>&repo=<name>' },
    description: { type: 'string', title: 'Repository description' },
    homepage: { type: 'string', title: 'Repository homepage' },
    access: { type: 'string', title: 'Admin access', description: 'A user other than the owner, or a team as <owner>/<team-slug>, made admin of the repository' },
    repoVisibility: { type: 'string', enum: ['private', 'internal', 'public'], title: 'Visibility', default: 'private' },
    defaultBranch: { type: 'string', title: 'Default branch', default: 'master' },
    protectDefaultBranch: { type: 'boolean', title: 'Protect the default branch', default: true },
    protectEnforceAdmins: { type: 'boolean', title: 'Admins follow the branch protection too', default: true },
    requireCodeOwnerReviews: { type: 'boolean', title: 'Changes to owned files need a code owner review', default: false },
    dismissStaleReviews: { type: 'boolean', title: 'A new commit dismisses earlier approvals', default: false },
    requiredApprovingReviewCount: { type: 'number', title: 'Approvals a pull request needs', description: '0 to 6', default: 1 },
    requiredStatusCheckContexts: { ...strings, title: 'Status checks that must pass before merging', default: [] },
    requireBranchesToBeUpToDate: { type: 'boolean', title: 'Branches must be up to date before merging', default: true },
    requiredConversationResolution: { type: 'boolean', title: 'Review conversations must be resolved before merging', default: false },
    requireLastPushApproval: { type: 'boolean', title: 'The last push must be approved by someone other than its pusher', default: false },
    requiredCommitSigning: { type: 'boolean', title: 'Commits to the default branch must be signed', default: false },
    requiredLinearHistory: { type: 'boolean', title: 'No merge commits on the default branch', default: false },
    bypassPullRequestAllowances: {
      type: 'object',
      title: 'Who may skip the pull request rules',
      properties: { users: strings, teams: strings, apps: strings },
    },
    restrictions: {
      type: 'object',
      title: 'Who may push to the default branch (organization repositories)',
      required: ['users', 'teams'],
      properties: { users: strings, teams: strings, apps: strings },
    },
    deleteBranchOnMerge: { type: 'boolean', title: 'Delete a branch once its pull request is merged', default: false },
    allowMergeCommit: { type: 'boolean', title: 'Allow merge commits', default: true },
    allowSquashMerge: { type: 'boolean', title: 'Allow squash merges', default: true },
    squashMergeCommitTitle: { type: 'string', enum: ['PR_TITLE', 'COMMIT_OR_PR_TITLE'], title: 'Title of a squash merge commit', default: 'COMMIT_OR_PR_TITLE' },
    squashMergeCommitMessage: { type: 'string', enum: ['PR_BODY', 'COMMIT_MESSAGES', 'BLANK'], title: 'Message of a squash merge commit', default: 'COMMIT_MESSAGES' },
    allowRebaseMerge: { type: 'boolean', title: 'Allow rebase merges', default: true },
    allowAutoMerge: { type: 'boolean', title: 'Allow auto-merge', default: false },
    allowUpdateBranch: { type: 'boolean', title: 'Offer to update a pull request branch', default: false },
    sourcePath: { type: 'string', title: 'Folder of the workspace to publish', description: 'Relative to the workspace; the whole workspace by default' },
    collaborators: {
      type: 'array',
      title: 'More users and teams with access',
      items: {
        type: 'object',
        required: ['access'],
        properties: {
          access: { type: 'string', description: 'pull, triage, push, maintain, admin, or a custom role' },
          user: { type: 'string', description: 'A user login or user entity ref (its name is used)' },
          team: { type: 'string', description: 'A team slug or group entity ref (its name is used)' },
          username: { type: 'string', description: 'Deprecated: a team, as team' },
        },
      },
    },
    hasProjects: { type: 'boolean', title: 'Enable projects' },
    hasWiki: { type: 'boolean', title: 'Enable the wiki' },
    hasIssues: { type: 'boolean', title: 'Enable issues' },
    topics: { ...strings, title: 'Topics', description: 'Lower-cased, as GitHub wants them' },
    repoVariables: { type: 'object', additionalProperties: { type: 'string' }, title: 'GitHub Actions variables of the repository' },
    secrets: {
      type: 'object',
      additionalProperties: { type: 'string' },
      title: 'GitHub Actions secrets of the repository',
      description: "Sealed with the repository's public key before they leave Pave, as GitHub requires",
    },
    oidcCustomization: {
      type: 'object',
      title: 'The OIDC subject claim of GitHub Actions tokens',
      required: ['useDefault'],
      properties: { useDefault: { type: 'boolean' }, includeClaimKeys: strings },
    },
    customProperties: { type: 'object', title: 'Custom properties (organization repositories)' },
    subscribe: { type: 'boolean', title: 'Watch the repository with the token user' },
    gitCommitMessage: { type: 'string', title: 'Commit message', default: 'initial commit' },
    gitAuthorName: { type: 'string', title: 'Commit author name', description: 'Pave by default' },
    gitAuthorEmail: { type: 'string', title: 'Commit author e-mail' },
    token: { type: 'string', title: 'Token', description: "Used instead of the integration's token (e.g. ${{ secrets.USER_OAUTH_TOKEN }})" },
  },
};

const OUTPUT = {
  type: 'object',
  properties: {
    remoteUrl: { type: 'string', title: 'Clone URL' },
    repoContentsUrl: { type: 'string', title: 'Browse URL of the default branch' },
    commitHash: { type: 'string', title: 'The commit pushed' },
  },
};

const example = (input: Record<string, unknown>) => yaml.stringify({ steps: [{ id: 'publish', action: ID, name: 'Publish to GitHub', input }] });

/** `team-a` from `group:default/team-a` or `acme/team-a`, as Backstage names collaborators. */
const nameOf = (ref: string) => ref.replace(/^.*[:/]/, '');

const enc = encodeURIComponent;

/**
 * `publish:github` against GitHub's REST API (scaffolder.publishTo: native), as Backstage does it:
 * the repository is created in the organization or for the token's user, access and topics are
 * set, the workspace is pushed as its first commit, and the default branch is protected.
 */
export function publishGithub(deps: NativePublishDeps): TemplateAction<GithubInput> {
  return defineAction<GithubInput>({
    id: ID,
    description: "Creates a repository on GitHub and pushes the workspace to it (scaffolder.publishTo: native), as Backstage's publish:github",
    schema: { input: INPUT, output: OUTPUT },
    // Simulated in a dry-run by the handler itself: no call is made, the URLs it would create are answered.
    supportsDryRun: true,
    examples: [
      { description: 'Publish the workspace as a private repository of an organization', example: example({ repoUrl: 'github.com?owner=acme&repo=payments', description: 'Takes payments' }) },
      {
        description: 'A public repository on main with topics, a team and a collaborator, whose main branch needs two approvals and a passing build',
        example: example({
          repoUrl: 'github.com?owner=acme&repo=ledger',
          repoVisibility: 'public',
          defaultBranch: 'main',
          topics: ['payments', 'backend'],
          collaborators: [
            { team: 'group:default/platform', access: 'push' },
            { user: 'user:default/ada', access: 'admin' },
          ],
          requiredApprovingReviewCount: 2,
          requiredStatusCheckContexts: ['ci/build'],
          deleteBranchOnMerge: true,
        }),
      },
      {
        description: "A personal repository made with the user's own token, from a folder of the workspace, with its own commit message and author",
        example: example({
          repoUrl: 'github.com?owner=ada&repo=notes',
          token: '${{ secrets.USER_OAUTH_TOKEN }}',
          sourcePath: 'site',
          protectDefaultBranch: false,
          gitCommitMessage: 'First notes',
          gitAuthorName: 'Ada Lovelace',
          gitAuthorEmail: 'ada@example.com',
        }),
      },
    ],
    async handler(ctx) {
      const input = ctx.input;
      const target = scmTargetOf('github', ID, input.repoUrl, deps.integrations);
      const { host, owner, repo } = target;
      const branch = input.defaultBranch ?? 'master';
      const visibility = input.repoVisibility ?? 'private';
      const protect = input.protectDefaultBranch ?? true;
      if (ctx.isDryRun) {
        const web = `${target.webBaseUrl}/${owner}/${repo}`;
        ctx.log(`Dry run: would create the ${visibility} repository ${owner}/${repo} on ${host}, push the workspace to its ${branch} branch${protect ? ' and protect that branch' : ''}`);
        if (!scmTokenOf(target, input.token, ID)) ctx.log(`Dry run: no token for ${host}: a real run needs integrations.github[].token for host ${host} in pave.yaml, or the token input`);
        ctx.output('remoteUrl', `${web}.git`);
        ctx.output('repoContentsUrl', `${web}/blob/${branch}`);
        ctx.output('commitHash', '0'.repeat(40));
        return;
      }
      const token = requireScmToken(target, input.token, ID);
      const api = githubApi(target, token, ctx.signal);
      const repoPath = `/repos/${enc(owner)}/${enc(repo)}`;
      const created = await once(ctx, `${ID}:create:${host}/${owner}/${repo}`, () => createRepository(ctx, api, target, input));
      await grantAccess(ctx, api, target, input);
      if (input.topics) {
        try {
          await api.request('PUT', `${repoPath}/topics`, { names: input.topics.map((t) => t.toLowerCase()) });
        } catch (e) {
          ctx.log(`Skipping topics ${input.topics.join(' ')}: ${errorMessage(e)}`);
        }
      }
      for (const [name, value] of Object.entries(input.repoVariables ?? {})) {
        // Remembered as done, never with its value.
        await once(ctx, `${ID}:variable:${host}/${owner}/${repo}:${name}`, () => api.request('POST', `${repoPath}/actions/variables`, { name, value }).then(() => true));
      }
      const secretNames = Object.keys(input.secrets ?? {});
      if (secretNames.length > 0) {
        // Sealed (libsodium's crypto_box_seal) with the repository's own key: only GitHub can open them.
        const { key_id: keyId, key } = await api.request<{ key_id: string; key: string }>('GET', `${repoPath}/actions/secrets/public-key`);
        await sodium.ready;
        for (const name of secretNames) {
          // Remembered as done, never with its value.
          await once(ctx, `${ID}:secret:${host}/${owner}/${repo}:${name}`, async () => {
            const sealed = sodium.crypto_box_seal(Buffer.from(input.secrets![name], 'utf8'), Buffer.from(key, 'base64'));
            await api.request('PUT', `${repoPath}/actions/secrets/${enc(name)}`, { encrypted_value: Buffer.from(sealed).toString('base64'), key_id: keyId });
            return true;
          });
        }
        ctx.log(`Set the Actions secrets ${secretNames.join(', ')}`);
      }
      if (input.oidcCustomization) {
        await api.request('PUT', `${repoPath}/actions/oidc/customization/sub`, { use_default: input.oidcCustomization.useDefault, include_claim_keys: input.oidcCustomization.includeClaimKeys });
      }
      if (input.subscribe) await api.request('PUT', `${repoPath}/subscription`, { subscribed: true, ignored: false });
      const commitHash = await pushWorkspaceOnce(ctx, `${ID}:push:${host}/${owner}/${repo}`, {
        sourcePath: input.sourcePath,
        branch,
        message: input.gitCommitMessage ?? 'initial commit',
        authorName: input.gitAuthorName,
        authorEmail: input.gitAuthorEmail,
        remote: { remoteUrl: created.cloneUrl, username: 'x-access-token', token, target },
      });
      if (protect) await protectBranch(ctx, api, target, branch, input);
      ctx.output('remoteUrl', created.cloneUrl);
      ctx.output('repoContentsUrl', `${created.htmlUrl}/blob/${branch}`);
      ctx.output('commitHash', commitHash);
    },
  });
}

/** GitHub's REST API with a token, as Octokit sends it. */
function githubApi(target: ScmTarget, token: ScmToken, signal?: AbortSignal): ScmApi {
  return new ScmApi(target, token, { authorization: `token ${token.value}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'pave-scaffolder' }, signal);
}

/** Creates the repository in the owner's organization, or for the token's user when the owner is a user. */
async function createRepository(ctx: ActionContext<GithubInput>, api: ScmApi, target: ScmTarget, input: GithubInput): Promise<{ cloneUrl: string; htmlUrl: string }> {
  const { host, owner, repo } = target;
  const account = await api.request<{ type: string }>('GET', `/users/${enc(owner)}`, undefined, {
    notFound: () => notFound('SCM_OWNER_NOT_FOUND', `GitHub ${host} has no organization or user "${owner}" (the owner in repoUrl "${input.repoUrl}")`, { host, owner }),
  });
  const team = teamOf(input.access, owner);
  if (team) {
    await api.request('GET', `/orgs/${enc(owner)}/teams/${enc(team)}`, undefined, {
      notFound: () => notFound('SCM_TEAM_NOT_FOUND', `GitHub ${host} has no team "${team}" in the organization ${owner} (access "${input.access}")`, { host, owner, team }),
    });
  }
  const org = account.type === 'Organization';
  const visibility = input.repoVisibility ?? 'private';
  const settings = {
    name: repo,
    private: visibility === 'private',
    description: input.description,
    homepage: input.homepage,
    delete_branch_on_merge: input.deleteBranchOnMerge ?? false,
    allow_merge_commit: input.allowMergeCommit ?? true,
    allow_squash_merge: input.allowSquashMerge ?? true,
    squash_merge_commit_title: input.squashMergeCommitTitle ?? 'COMMIT_OR_PR_TITLE',
    squash_merge_commit_message: input.squashMergeCommitMessage ?? 'COMMIT_MESSAGES',
    allow_rebase_merge: input.allowRebaseMerge ?? true,
    allow_auto_merge: input.allowAutoMerge ?? false,
    allow_update_branch: input.allowUpdateBranch ?? false,
    has_projects: input.hasProjects,
    has_wiki: input.hasWiki,
    has_issues: input.hasIssues,
  };
  let created: { clone_url: string; html_url: string };
  try {
    // Visibility (internal) and custom properties exist for organization repositories only.
    created = org
      ? await api.request('POST', `/orgs/${enc(owner)}/repos`, { ...settings, visibility, custom_properties: input.customProperties })
      : await api.request('POST', '/user/repos', settings);
  } catch (e) {
    if (scmStatusOf(e) === 422 && /already exists/i.test(errorMessage(e))) {
      throw conflict('GIT_REPO_EXISTS', `The repository ${owner}/${repo} already exists on ${host}; choose another name`, { host, owner, repo });
    }
    throw e;
  }
  ctx.log(`Created the ${visibility} ${org ? 'organization' : 'personal'} repository ${owner}/${repo} on ${host}`);
  return { cloneUrl: created.clone_url, htmlUrl: created.html_url };
}

/** The team slug of `access` when it names one of the owner's teams (`acme/platform`). */
const teamOf = (access: string | undefined, owner: string) => (access?.startsWith(`${owner}/`) ? access.slice(owner.length + 1) : undefined);

/** `access` becomes admin; each collaborator gets its access, or is skipped with a log line saying why (as Backstage). */
async function grantAccess(ctx: ActionContext<GithubInput>, api: ScmApi, target: ScmTarget, input: GithubInput): Promise<void> {
  const { owner, repo } = target;
  const repoPath = `/repos/${enc(owner)}/${enc(repo)}`;
  const teamPath = (team: string) => `/orgs/${enc(owner)}/teams/${enc(team)}/repos/${enc(owner)}/${enc(repo)}`;
  const team = teamOf(input.access, owner);
  if (team) await api.request('PUT', teamPath(team), { permission: 'admin' });
  // The owner of a personal repository has every right already.
  else if (input.access && input.access !== owner) await api.request('PUT', `${repoPath}/collaborators/${enc(input.access)}`, { permission: 'admin' });
  for (const c of input.collaborators ?? []) {
    const who = 'user' in c ? c.user : 'team' in c ? c.team : c.username;
    try {
      if ('user' in c) await api.request('PUT', `${repoPath}/collaborators/${enc(nameOf(c.user))}`, { permission: c.access });
      else await api.request('PUT', teamPath(nameOf(who)), { permission: c.access });
    } catch (e) {
      ctx.log(`Skipping ${c.access} access for ${who}: ${errorMessage(e)}`);
    }
  }
}

/** Branch protection of the default branch; where GitHub refuses it, the run goes on and says so (as Backstage). */
async function protectBranch(ctx: ActionContext<GithubInput>, api: ScmApi, target: ScmTarget, branch: string, input: GithubInput): Promise<void> {
  const protection = `/repos/${enc(target.owner)}/${enc(target.repo)}/branches/${enc(branch)}/protection`;
  const body = {
    required_status_checks: { strict: input.requireBranchesToBeUpToDate ?? true, contexts: input.requiredStatusCheckContexts ?? [] },
    restrictions: input.restrictions ?? null,
    enforce_admins: input.protectEnforceAdmins ?? true,
    required_pull_request_reviews: {
      required_approving_review_count: input.requiredApprovingReviewCount ?? 1,
      require_code_owner_reviews: input.requireCodeOwnerReviews ?? false,
      dismiss_stale_reviews: input.dismissStaleReviews ?? false,
      require_last_push_approval: input.requireLastPushApproval ?? false,
      bypass_pull_request_allowances: input.bypassPullRequestAllowances,
    },
    required_conversation_resolution: input.requiredConversationResolution ?? false,
    required_linear_history: input.requiredLinearHistory ?? false,
  };
  // The preview media type lets the review count be set on older GitHub Enterprise servers.
  const protectOnce = async () => {
    await api.request('PUT', protection, body, { accept: 'application/vnd.github.luke-cage-preview+json' });
    if (input.requiredCommitSigning) await api.request('POST', `${protection}/required_signatures`);
  };
  try {
    try {
      await protectOnce();
    } catch (e) {
      // A branch just pushed may not be visible to the API yet: one more try, a moment later.
      if (!/branch not found/i.test(errorMessage(e))) throw e;
      await new Promise((resolve) => setTimeout(resolve, 600));
      await protectOnce();
    }
    ctx.log(`Protected ${branch}: ${body.required_pull_request_reviews.required_approving_review_count} approval(s) needed${body.required_status_checks.contexts.length ? `, checks ${body.required_status_checks.contexts.join(', ')}` : ''}`);
  } catch (e) {
    const message = errorMessage(e);
    if (/upgrade to github pro/i.test(message)) ctx.log(`Branch protection was not enabled: GitHub protects the branches of a private repository on paid plans only (${message})`);
    else ctx.log(`Skipping protection of ${branch} on ${target.owner}/${target.repo}: ${message}`);
    ctx.logger.warn({ host: target.host, repo: `${target.owner}/${target.repo}`, branch, err: message }, 'default branch not protected');
  }
}

interface PullRequestInput {
  repoUrl: string;
  branchName: string;
  targetBranchName?: string;
  title: string;
  description: string;
  draft?: boolean;
  sourcePath?: string;
  targetPath?: string;
  token?: string;
  reviewers?: string[];
  teamReviewers?: string[];
  commitMessage?: string;
  gitAuthorName?: string;
  gitAuthorEmail?: string;
  update?: boolean;
  forceFork?: boolean;
}

const PR_ID = 'publish:github:pull-request';

/**
 * `publish:github:pull-request` against GitHub (scaffolder.publishTo: native): the workspace is
 * committed onto a branch of an existing repository (cloned and pushed with the real git client)
 * and a pull request is opened, or with `update`, the open one is updated.
 */
export function publishGithubPullRequest(deps: NativePublishDeps): TemplateAction<PullRequestInput> {
  return defineAction<PullRequestInput>({
    id: PR_ID,
    description: "Commits the workspace to a branch of a GitHub repository and opens a pull request (scaffolder.publishTo: native), as Backstage's publish:github:pull-request",
    supportsDryRun: true,
    schema: {
      input: {
        type: 'object',
        required: ['repoUrl', 'branchName', 'title', 'description'],
        properties: {
          repoUrl: { type: 'string', title: 'Repository location', description: 'github.com?owner=<owner>&repo=<name> of an existing repository' },
          branchName: { type: 'string', title: 'Branch the change is pushed to' },
          targetBranchName: { type: 'string', title: 'Branch to merge into', description: "The repository's default branch by default" },
          title: { type: 'string', title: 'Pull request title' },
          description: { type: 'string', title: 'Pull request description' },
          draft: { type: 'boolean', title: 'Open as a draft' },
          sourcePath: { type: 'string', title: 'Folder of the workspace to propose', description: 'The whole workspace by default' },
          targetPath: { type: 'string', title: 'Folder of the repository the files go to', description: 'Its root by default' },
          token: { type: 'string', title: 'Token', description: "Used instead of the integration's token" },
          reviewers: { type: 'array', items: { type: 'string' }, title: 'Users asked to review' },
          teamReviewers: { type: 'array', items: { type: 'string' }, title: 'Teams asked to review' },
          commitMessage: { type: 'string', title: 'Commit message', description: 'The title by default' },
          gitAuthorName: { type: 'string', title: 'Commit author name', description: 'Pave by default' },
          gitAuthorEmail: { type: 'string', title: 'Commit author e-mail' },
          update: { type: 'boolean', title: 'Update the open pull request of that branch instead of failing' },
          forceFork: { type: 'boolean', title: 'Propose from a fork (not supported by Pave)', description: 'Refused when true' },
        },
      },
      output: {
        type: 'object',
        properties: {
          remoteUrl: { type: 'string', title: 'The pull request URL' },
          pullRequestNumber: { type: 'number', title: 'The pull request number' },
          targetBranchName: { type: 'string', title: 'The branch it merges into' },
        },
      },
    },
    examples: [
      {
        description: 'Propose the workspace as a change to acme/payments, asking ada to review',
        example: yaml.stringify({
          steps: [{ id: 'pr', action: PR_ID, name: 'Open a pull request', input: { repoUrl: 'github.com?owner=acme&repo=payments', branchName: 'add-docs', title: 'Add docs', description: 'Made by a template', reviewers: ['ada'] } }],
        }),
      },
      {
        description: 'Put the workspace into a folder of the repository, as a draft, updating the pull request if it is open already',
        example: yaml.stringify({
          steps: [
            {
              id: 'pr',
              action: PR_ID,
              name: 'Open a pull request',
              input: { repoUrl: 'github.com?owner=acme&repo=payments', branchName: 'add-service', title: 'Add the ledger service', description: 'Made by a template', targetPath: 'services/ledger', draft: true, update: true },
            },
          ],
        }),
      },
    ],
    async handler(ctx) {
      const input = ctx.input;
      if (input.forceFork) throw badInput('ACTION_INPUT_UNSUPPORTED', `${PR_ID}: forceFork is not supported by Pave; push to a branch of the repository itself (leave forceFork out)`, { field: 'forceFork' });
      const target = scmTargetOf('github', PR_ID, input.repoUrl, deps.integrations);
      const { host, owner, repo } = target;
      if (ctx.isDryRun) {
        ctx.log(`Dry run: would push the workspace to ${owner}/${repo} branch ${input.branchName} on ${host} and open a pull request into ${input.targetBranchName ?? 'the default branch'}`);
        ctx.output('remoteUrl', `${target.webBaseUrl}/${owner}/${repo}/pull/0`);
        ctx.output('pullRequestNumber', 0);
        // The default branch is known only by asking GitHub, which a dry-run does not.
        if (input.targetBranchName) ctx.output('targetBranchName', input.targetBranchName);
        return;
      }
      const token = requireScmToken(target, input.token, PR_ID);
      const api = githubApi(target, token, ctx.signal);
      const repoPath = `/repos/${enc(owner)}/${enc(repo)}`;
      const info = await api.request<{ default_branch: string; clone_url: string }>('GET', repoPath, undefined, {
        notFound: () => notFound('SCM_REPO_NOT_FOUND', `GitHub ${host} has no repository ${owner}/${repo} the token can see (repoUrl "${input.repoUrl}")`, { host, owner, repo }),
      });
      const base = input.targetBranchName ?? info.default_branch;
      const openPull = async () => (await api.request<{ number: number; html_url: string }[]>('GET', `${repoPath}/pulls?state=open&head=${enc(`${owner}:${input.branchName}`)}`))[0];
      await once(ctx, `${PR_ID}:push:${host}/${owner}/${repo}:${input.branchName}`, async () => {
        const remote = { remoteUrl: info.clone_url, username: 'x-access-token', token, target };
        const { dir, branchExists } = await cloneToPropose(ctx, remote, base, input.branchName);
        if (branchExists && !input.update) {
          const pull = await openPull();
          throw conflict(
            'SCM_BRANCH_EXISTS',
            `The branch ${input.branchName} exists in ${owner}/${repo} on ${host} already${pull ? `, with the pull request ${pull.html_url}` : ''}: choose another branchName, or set update: true to replace it`,
            { host, owner, repo, branch: input.branchName },
          );
        }
        await workspaceGit(dir, ['checkout', '--quiet', '-B', input.branchName]);
        await applyWorkspace(ctx, dir, { sourcePath: input.sourcePath, targetPath: input.targetPath });
        if (!(await stageAll(dir))) {
          throw conflict('SCM_NOTHING_TO_PROPOSE', `The workspace changes nothing in ${owner}/${repo} (${base}${input.targetPath ? `, ${input.targetPath}` : ''}): there is no pull request to open`, { host, owner, repo, base });
        }
        await workspaceGit(dir, ['commit', '--quiet', '-m', input.commitMessage ?? input.title], commitAuthor(input.gitAuthorName, input.gitAuthorEmail));
        await pushWithToken({ ...remote, dir, branch: input.branchName });
        ctx.log(`Pushed the workspace to ${owner}/${repo} branch ${input.branchName} (from ${base})`);
        return true;
      });
      const pull = await once(ctx, `${PR_ID}:open:${host}/${owner}/${repo}:${input.branchName}`, async () => {
        const existing = input.update ? await openPull() : undefined;
        const answer = existing
          ? await api.request<{ number: number; html_url: string }>('PATCH', `${repoPath}/pulls/${existing.number}`, { title: input.title, body: input.description })
          : await api.request<{ number: number; html_url: string }>('POST', `${repoPath}/pulls`, { title: input.title, body: input.description, head: input.branchName, base, draft: input.draft });
        ctx.log(`${existing ? 'Updated' : 'Opened'} pull request #${answer.number}: ${answer.html_url}`);
        return { number: answer.number, url: answer.html_url };
      });
      if (input.reviewers?.length || input.teamReviewers?.length) {
        try {
          await api.request('POST', `${repoPath}/pulls/${pull.number}/requested_reviewers`, { reviewers: input.reviewers, team_reviewers: input.teamReviewers ? [...new Set(input.teamReviewers)] : undefined });
          ctx.log(`Asked ${[...(input.reviewers ?? []), ...(input.teamReviewers ?? [])].join(', ')} to review`);
        } catch (e) {
          ctx.log(`Reviewers not added to pull request #${pull.number}: ${errorMessage(e)}`);
        }
      }
      ctx.output('remoteUrl', pull.url);
      ctx.output('pullRequestNumber', pull.number);
      ctx.output('targetBranchName', base);
    },
  });
}
