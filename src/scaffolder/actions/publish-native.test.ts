// publish:github and publish:gitlab with scaffolder.publishTo: native, over real HTTP and real
// git, against the LOCAL STAND-IN for GitHub's and GitLab's REST APIs (src/testing/scm-standin.ts):
// what each run asked of the API, what a `git clone` of the pushed repository holds, and that no
// token leaks into a log line or an error.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import fg from 'fast-glob';
import { pino } from 'pino';
import yaml from 'yaml';
import { loadConfig, type IntegrationsConfig } from '../../core/config.ts';
import { isPaveError, type PaveError } from '../../core/errors.ts';
import { git } from '../../git/index.ts';
import { eventually, startTestPave } from '../../testing/pave.ts';
import { ScmStandIn } from '../../testing/scm-standin.ts';
import type { ActionContext, TemplateAction } from '../action.ts';
import { renderValue } from '../expressions.ts';
import { publishGithub, publishGithubPullRequest } from './github.ts';
import { publishGitlab, publishGitlabMergeRequest } from './gitlab.ts';
import { pushWithToken, scmTargetOf } from './scm.ts';

let root: string;
let scm: ScmStandIn;
let counter = 0;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'pave-publish-native-'));
  scm = await startStandIn();
});
after(async () => {
  await scm.close();
  await rm(root, { recursive: true, force: true });
});

/** A stand-in with the accounts the tests and examples use: GitHub org acme (team platform), users ada and grace; GitLab groups acme and acme/platform. */
async function startStandIn(): Promise<ScmStandIn> {
  const s = await ScmStandIn.start();
  s.addGithubOrg('acme', ['platform']);
  s.addUser('ada');
  s.addUser('grace');
  s.addGitlabGroup('acme');
  s.addGitlabGroup('acme/platform');
  return s;
}

/** github.com and gitlab.com, pointed at the stand-in, with the bot's token (GitLab's API address derived from baseUrl). */
function integrationsOf(s: ScmStandIn, token: string | null = s.bot.token): IntegrationsConfig {
  return {
    github: [{ host: 'github.com', apiBaseUrl: s.githubApiBaseUrl, ...(token ? { token } : {}) }],
    gitlab: [{ host: 'gitlab.com', baseUrl: s.gitlabBaseUrl, ...(token ? { token } : {}) }],
  };
}

async function tempDir(name: string): Promise<string> {
  counter += 1;
  const dir = path.join(root, `${name}-${counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

const SKELETON = { 'README.md': '# Payments\n', 'catalog-info.yaml': 'kind: Component\n', 'src/index.ts': 'export const name = "payments";\n' };
/** The workspace the examples run in: the skeleton and a site folder (example publish:github#2 publishes that alone). */
const EXAMPLE_WORKSPACE = { ...SKELETON, 'site/index.md': '# Notes\n' };

interface RunResult {
  logs: string[];
  /** What the action wrote to its pino logger, as JSON lines. */
  logger: string[];
  outputs: Record<string, unknown>;
  error?: PaveError;
}

interface RunOptions {
  files?: Record<string, string>;
  dryRun?: boolean;
  /** A task's remembered side effects, kept across runs to act as a retry. */
  checkpoints?: Map<string, unknown>;
}

async function run<I>(action: TemplateAction<I>, input: I, o: RunOptions = {}): Promise<RunResult> {
  const workspace = await tempDir('workspace');
  for (const [file, content] of Object.entries(o.files ?? SKELETON)) {
    await mkdir(path.dirname(path.join(workspace, file)), { recursive: true });
    await writeFile(path.join(workspace, file), content);
  }
  const result: RunResult = { logs: [], logger: [], outputs: {} };
  const sink = new Writable({
    write(chunk, _enc, done) {
      result.logger.push(String(chunk));
      done();
    },
  });
  const checkpoints = o.checkpoints;
  const ctx: ActionContext<I> = {
    input,
    workspacePath: workspace,
    templateInfo: { baseUrl: workspace },
    logger: pino({ level: 'trace' }, sink),
    log: (m) => result.logs.push(m),
    output: (name, value) => (result.outputs[name] = value),
    createTemporaryDirectory: () => tempDir('tmp'),
    secrets: {},
    user: { ref: 'user:default/ada' },
    isDryRun: o.dryRun ?? false,
    signal: new AbortController().signal,
    task: { id: 'task-1' },
    step: { id: 'publish', name: 'Publish' },
    ...(checkpoints
      ? {
          checkpoint: async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
            if (checkpoints.has(key)) return checkpoints.get(key) as T;
            const value = await fn();
            // Stored as the task stores it: JSON.
            checkpoints.set(key, JSON.parse(JSON.stringify(value ?? null)));
            return value;
          },
        }
      : {}),
  };
  try {
    await action.handler(ctx);
  } catch (e) {
    assert.ok(isPaveError(e), `expected a PaveError, got ${String(e)}`);
    result.error = e;
  }
  return result;
}

/** The files of a fresh clone of `url` at `branch` (without .git), and its last commit. */
async function cloneOf(url: string, branch: string) {
  const dir = await tempDir('clone');
  await git(dir, ['clone', '--quiet', '--branch', branch, url, '.']);
  const files: Record<string, string> = {};
  for (const f of (await fg('**/*', { cwd: dir, dot: true, ignore: ['.git/**'] })).sort()) files[f] = await readFile(path.join(dir, f), 'utf8');
  const [hash, author, email, subject] = (await git(dir, ['log', '-1', '--format=%H%n%an%n%ae%n%s'])).trim().split('\n');
  const count = Number((await git(dir, ['rev-list', '--count', 'HEAD'])).trim());
  return { files, commit: { hash, author, email, subject }, count };
}

/** No token of the stand-in in any log line, logger line, output or error message. */
function assertNoToken(r: RunResult, ...tokens: string[]): void {
  const text = JSON.stringify([r.logs, r.logger, r.outputs, r.error?.message, r.error?.details]);
  for (const token of tokens) assert.ok(!text.includes(token), `the token ${token.slice(0, 12)}… leaked: ${text}`);
}

const callsAfter = (s: ScmStandIn, from: number) => s.calls.slice(from);

describe('publish:github', () => {
  test('publishes to an organization: creates the repository, grants access, sets topics, pushes the workspace, protects the branch', async () => {
    const action = publishGithub({ integrations: integrationsOf(scm) });
    const from = scm.calls.length;
    const r = await run(action, {
      repoUrl: 'github.com?owner=acme&repo=payments',
      description: 'Takes payments',
      homepage: 'https://payments.example.com',
      repoVisibility: 'internal',
      defaultBranch: 'main',
      access: 'acme/platform',
      collaborators: [
        { user: 'user:default/ada', access: 'push' },
        { team: 'group:default/platform', access: 'maintain' },
        { user: 'nobody', access: 'pull' },
      ],
      topics: ['Payments', 'backend'],
      requiredApprovingReviewCount: 2,
      requiredStatusCheckContexts: ['ci/build'],
      requireCodeOwnerReviews: true,
      gitCommitMessage: 'Scaffold payments',
      gitAuthorName: 'Ada Lovelace',
      gitAuthorEmail: 'ada@example.com',
    });
    assert.equal(r.error, undefined, r.error?.message);
    const calls = callsAfter(scm, from).filter((c) => c.kind === 'api');
    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.path}`),
      [
        'GET /users/acme',
        'GET /orgs/acme/teams/platform',
        'POST /orgs/acme/repos',
        'PUT /orgs/acme/teams/platform/repos/acme/payments',
        'PUT /repos/acme/payments/collaborators/ada',
        'PUT /orgs/acme/teams/platform/repos/acme/payments',
        'PUT /repos/acme/payments/collaborators/nobody',
        'PUT /repos/acme/payments/topics',
        'PUT /repos/acme/payments/branches/main/protection',
      ],
    );
    assert.ok(calls.every((c) => c.auth === 'token'), 'every call sends the token as GitHub wants it');
    assert.deepEqual(calls[2].body, {
      name: 'payments',
      private: false,
      visibility: 'internal',
      description: 'Takes payments',
      homepage: 'https://payments.example.com',
      delete_branch_on_merge: false,
      allow_merge_commit: true,
      allow_squash_merge: true,
      squash_merge_commit_title: 'COMMIT_OR_PR_TITLE',
      squash_merge_commit_message: 'COMMIT_MESSAGES',
      allow_rebase_merge: true,
      allow_auto_merge: false,
      allow_update_branch: false,
    });
    const repo = scm.github.repos.get('acme/payments')!;
    assert.deepEqual(repo.teams, { platform: 'maintain' }, 'access made the team admin, then its collaborator entry set maintain');
    assert.deepEqual(repo.collaborators, { ada: 'push' }, 'the user entity ref became its name');
    assert.deepEqual(repo.topics, ['payments', 'backend'], 'topics lower-cased');
    assert.deepEqual(repo.protection.main, {
      required_status_checks: { strict: true, contexts: ['ci/build'] },
      restrictions: null,
      enforce_admins: true,
      required_pull_request_reviews: { required_approving_review_count: 2, require_code_owner_reviews: true, dismiss_stale_reviews: false, require_last_push_approval: false },
      required_conversation_resolution: false,
      required_linear_history: false,
    });
    assert.ok(
      r.logs.some((l) => /^Skipping pull access for nobody: GitHub github\.com answered 404 to PUT \/repos\/acme\/payments\/collaborators\/nobody: Not Found$/.test(l)),
      `an unknown collaborator is skipped, saying why: ${r.logs.join(' | ')}`,
    );

    const pushes = callsAfter(scm, from).filter((c) => c.kind === 'git' && c.path.endsWith('git-receive-pack'));
    assert.ok(pushes.length > 0 && pushes.every((c) => c.auth === 'basic:x-access-token'), `pushed as x-access-token: ${JSON.stringify(pushes)}`);
    assert.deepEqual(r.outputs, {
      remoteUrl: `${scm.url}/github/acme/payments.git`,
      repoContentsUrl: `${scm.url}/github/acme/payments/blob/main`,
      commitHash: r.outputs.commitHash,
    });
    const clone = await cloneOf(String(r.outputs.remoteUrl), 'main');
    assert.deepEqual(clone.files, SKELETON, 'the workspace, as it was');
    assert.deepEqual(clone.commit, { hash: r.outputs.commitHash, author: 'Ada Lovelace', email: 'ada@example.com', subject: 'Scaffold payments' });
    assert.equal(clone.count, 1, 'one commit');
    assertNoToken(r, scm.bot.token);
  });

  test("publishes for the token's user with POST /user/repos and Backstage's defaults (private, master, protected)", async () => {
    const from = scm.calls.length;
    const r = await run(publishGithub({ integrations: integrationsOf(scm) }), { repoUrl: 'github.com?owner=pave-bot&repo=notes' });
    assert.equal(r.error, undefined, r.error?.message);
    const calls = callsAfter(scm, from).filter((c) => c.kind === 'api');
    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.path}`),
      ['GET /users/pave-bot', 'POST /user/repos', 'PUT /repos/pave-bot/notes/branches/master/protection'],
    );
    const body = calls[1].body as Record<string, unknown>;
    assert.equal(body.private, true, 'private by default');
    assert.ok(!('visibility' in body) && !('custom_properties' in body), 'no organization-only fields for a personal repository');
    assert.deepEqual(scm.github.repos.get('pave-bot/notes')!.protection.master, {
      required_status_checks: { strict: true, contexts: [] },
      restrictions: null,
      enforce_admins: true,
      required_pull_request_reviews: { required_approving_review_count: 1, require_code_owner_reviews: false, dismiss_stale_reviews: false, require_last_push_approval: false },
      required_conversation_resolution: false,
      required_linear_history: false,
    });
    const clone = await cloneOf(String(r.outputs.remoteUrl), 'master');
    assert.deepEqual(clone.commit.subject, 'initial commit');
    assert.deepEqual([clone.commit.author, clone.commit.email], ['Pave', 'scaffolder@pave.local']);
    assert.equal(r.outputs.repoContentsUrl, `${scm.url}/github/pave-bot/notes/blob/master`);
  });

  test('variables, the OIDC subject, a subscription and the stricter protection settings reach GitHub as asked', async () => {
    const r = await run(publishGithub({ integrations: integrationsOf(scm) }), {
      repoUrl: 'github.com?owner=acme&repo=strict',
      defaultBranch: 'main',
      repoVariables: { DEPLOY_ENV: 'staging' },
      oidcCustomization: { useDefault: false, includeClaimKeys: ['repo', 'context'] },
      subscribe: true,
      customProperties: { team: 'platform' },
      protectEnforceAdmins: false,
      dismissStaleReviews: true,
      requireLastPushApproval: true,
      requiredConversationResolution: true,
      requiredLinearHistory: true,
      requiredCommitSigning: true,
      requireBranchesToBeUpToDate: false,
      bypassPullRequestAllowances: { teams: ['platform'] },
      restrictions: { users: ['ada'], teams: ['platform'] },
    });
    assert.equal(r.error, undefined, r.error?.message);
    const repo = scm.github.repos.get('acme/strict')!;
    assert.deepEqual(repo.variables, { DEPLOY_ENV: 'staging' });
    assert.deepEqual(repo.oidcSubject, { use_default: false, include_claim_keys: ['repo', 'context'] });
    assert.equal(repo.subscribed, true);
    assert.deepEqual(repo.created.custom_properties, { team: 'platform' });
    assert.deepEqual(repo.protection.main, {
      required_status_checks: { strict: false, contexts: [] },
      restrictions: { users: ['ada'], teams: ['platform'] },
      enforce_admins: false,
      required_pull_request_reviews: { required_approving_review_count: 1, require_code_owner_reviews: false, dismiss_stale_reviews: true, require_last_push_approval: true, bypass_pull_request_allowances: { teams: ['platform'] } },
      required_conversation_resolution: true,
      required_linear_history: true,
    });
    assert.deepEqual(repo.requiredSignatures, ['main']);
  });

  test("Actions secrets are sealed with the repository's public key: GitHub opens them; their values are never logged nor remembered", async () => {
    const checkpoints = new Map<string, unknown>();
    const secrets = { NPM_TOKEN: 'npm_s3cr3t_value', DEPLOY_KEY: 'deploy-key-value' };
    const r = await run(publishGithub({ integrations: integrationsOf(scm) }), { repoUrl: 'github.com?owner=acme&repo=sealed', secrets }, { checkpoints });
    assert.equal(r.error, undefined, r.error?.message);
    const repo = scm.github.repos.get('acme/sealed')!;
    assert.deepEqual(repo.secrets, secrets, 'the stand-in opened each sealed value with the private key');
    const sent = scm.calls.filter((c) => c.method === 'PUT' && c.path.startsWith('/repos/acme/sealed/actions/secrets/'));
    assert.equal(sent.length, 2, 'one call per secret');
    const seen = JSON.stringify([sent.map((c) => c.body), r.logs, r.logger, [...checkpoints]]);
    for (const value of Object.values(secrets)) assert.ok(!seen.includes(value), `${value} never leaves Pave unsealed, nor reaches a log or a checkpoint`);
    assert.ok(r.logs.some((l) => l.includes('NPM_TOKEN') && l.includes('DEPLOY_KEY')), 'the log names the secrets it set');
  });

  test('a taken name is refused with GIT_REPO_EXISTS before anything is pushed', async () => {
    const action = publishGithub({ integrations: integrationsOf(scm) });
    const input = { repoUrl: 'github.com?owner=acme&repo=taken', protectDefaultBranch: false };
    assert.equal((await run(action, input)).error, undefined, 'the first run creates it');
    const from = scm.calls.length;
    const second = await run(action, input, { files: { 'other.txt': 'x' } });
    assert.equal(second.error?.code, 'GIT_REPO_EXISTS');
    assert.equal(second.error?.status, 409);
    assert.equal(second.error?.message, 'The repository acme/taken already exists on github.com; choose another name');
    assert.deepEqual(
      callsAfter(scm, from).map((c) => `${c.kind} ${c.method} ${c.path}`),
      ['api GET /users/acme', 'api POST /orgs/acme/repos'],
      'nothing after the refused creation, no push',
    );
    assert.deepEqual((await cloneOf(`${scm.url}/github/acme/taken.git`, 'master')).files, SKELETON, 'the first content stays');
  });

  test('a retried run does not fail on the repository it created: creation and push are remembered', async () => {
    const action = publishGithub({ integrations: integrationsOf(scm) });
    const checkpoints = new Map<string, unknown>();
    const input = { repoUrl: 'github.com?owner=acme&repo=retried', access: 'ada', protectDefaultBranch: false };
    scm.failNext('github', 'PUT', /\/collaborators\/ada$/, 502, { message: 'Server Error' });
    const first = await run(action, input, { checkpoints });
    assert.equal(first.error?.code, 'SCM_API_FAILED');
    assert.equal(first.error?.message, 'GitHub github.com answered 502 to PUT /repos/acme/retried/collaborators/ada: Server Error');
    const from = scm.calls.length;
    const retry = await run(action, input, { checkpoints });
    assert.equal(retry.error, undefined, retry.error?.message);
    assert.deepEqual(
      callsAfter(scm, from)
        .filter((c) => c.kind === 'api')
        .map((c) => `${c.method} ${c.path}`),
      ['PUT /repos/acme/retried/collaborators/ada'],
      'the retry picks up where the first run stopped',
    );
    assert.equal((await cloneOf(String(retry.outputs.remoteUrl), 'master')).commit.hash, retry.outputs.commitHash);
  });

  test('GitHub refusing branch protection is logged and the run goes on, as in Backstage', async () => {
    scm.failNext('github', 'PUT', /\/branches\/master\/protection$/, 403, { message: 'Upgrade to GitHub Pro or make this repository public to enable this feature.' });
    const r = await run(publishGithub({ integrations: integrationsOf(scm) }), { repoUrl: 'github.com?owner=acme&repo=unprotected' });
    assert.equal(r.error, undefined, r.error?.message);
    assert.ok(
      r.logs.some((l) => l.startsWith('Branch protection was not enabled: GitHub protects the branches of a private repository on paid plans only')),
      r.logs.join(' | '),
    );
    assert.deepEqual(scm.github.repos.get('acme/unprotected')!.protection, {});
  });

  test("a rejected token is SCM_AUTH_FAILED, naming where the token came from and never the token", async () => {
    const cases = [
      { integrations: integrationsOf(scm, 'ghp_wrongtoken_in_config'), token: undefined, source: 'the token of integrations.github for host github.com in pave.yaml' },
      { integrations: integrationsOf(scm), token: 'ghp_wrongtoken_in_input', source: 'the token input of publish:github' },
    ];
    for (const c of cases) {
      const r = await run(publishGithub({ integrations: c.integrations }), { repoUrl: 'github.com?owner=acme&repo=denied', token: c.token });
      assert.equal(r.error?.code, 'SCM_AUTH_FAILED', c.source);
      assert.equal(
        r.error?.message,
        `GitHub github.com refused GET /users/acme with 401 (Bad credentials): check ${c.source}; it must be valid and allowed to create and administer repositories of the owner`,
      );
      assertNoToken(r, 'ghp_wrongtoken_in_config', 'ghp_wrongtoken_in_input');
    }
  });

  test('a push git refuses is SCM_AUTH_FAILED too, without the token', async () => {
    await run(publishGithub({ integrations: integrationsOf(scm) }), { repoUrl: 'github.com?owner=acme&repo=pushed', protectDefaultBranch: false });
    const target = scmTargetOf('github', 'publish:github', 'github.com?owner=acme&repo=pushed', integrationsOf(scm));
    const dir = await tempDir('push');
    await git(dir, ['init', '--quiet', '--initial-branch=main']);
    await git(dir, ['commit', '--quiet', '--allow-empty', '-m', 'x']);
    const token = { value: 'ghp_not_a_real_token_42', fromInput: false, source: 'the token of integrations.github for host github.com in pave.yaml' };
    const remoteUrl = `${scm.url}/github/acme/pushed.git`;
    await assert.rejects(pushWithToken({ dir, remoteUrl, branch: 'main', username: 'x-access-token', token, target }), (e: PaveError) => {
      assert.equal(e.code, 'SCM_AUTH_FAILED');
      assert.match(e.message, /^GitHub github\.com refused to let x-access-token push to http:\/\/127\.0\.0\.1:\d+\/github\/acme\/pushed\.git \(.+\): check the token of integrations\.github for host github\.com in pave\.yaml; it needs write access to the repository$/);
      assert.ok(!e.message.includes(token.value) && !e.message.includes(Buffer.from(`x-access-token:${token.value}`).toString('base64')), e.message);
      return true;
    });
  });

  test('no token anywhere is SCM_TOKEN_MISSING, naming the setting; nothing is called', async () => {
    const from = scm.calls.length;
    const r = await run(publishGithub({ integrations: integrationsOf(scm, null) }), { repoUrl: 'github.com?owner=acme&repo=tokenless' });
    assert.equal(r.error?.code, 'SCM_TOKEN_MISSING');
    assert.equal(
      r.error?.message,
      'No token for github.com: set integrations.github[].token for host github.com in pave.yaml (a token with the repo scope (classic) or Administration and Contents write (fine-grained)), or pass the token input of publish:github',
    );
    assert.equal(scm.calls.length, from);
  });

  test('inputs it cannot act on are refused before anything is called', async () => {
    const action = publishGithub({ integrations: integrationsOf(scm) });
    const cases: { input: Record<string, unknown>; code: string; message: RegExp }[] = [
      { input: { repoUrl: 'example.com?owner=acme&repo=x' }, code: 'REPO_URL_UNKNOWN_HOST', message: /^No matching integration configuration for host example\.com/ },
      { input: { repoUrl: 'gitlab.com?owner=acme&repo=x' }, code: 'REPO_URL_UNKNOWN_HOST', message: /^publish:github publishes to GitHub, but the host gitlab\.com of repoUrl "gitlab\.com\?owner=acme&repo=x" is not a GitHub host: use one of github\.com/ },
      { input: { repoUrl: 'github.com?repo=x' }, code: 'REPO_URL_INVALID', message: /owner/ },
      { input: { repoUrl: 'github.com?owner=nobody-at-all&repo=x' }, code: 'SCM_OWNER_NOT_FOUND', message: /^GitHub github\.com has no organization or user "nobody-at-all"/ },
      { input: { repoUrl: 'github.com?owner=acme&repo=x', access: 'acme/ghosts' }, code: 'SCM_TEAM_NOT_FOUND', message: /^GitHub github\.com has no team "ghosts" in the organization acme/ },
    ];
    for (const c of cases) {
      const r = await run(action, c.input as never);
      assert.equal(r.error?.code, c.code, JSON.stringify(c.input));
      assert.match(r.error?.message ?? '', c.message);
    }
    assert.equal(scm.github.repos.has('acme/x'), false, 'nothing was created');
  });
});

describe('publish:gitlab', () => {
  test('publishes into a subgroup: namespace, project with settings, push, branches, variables', async () => {
    const from = scm.calls.length;
    const r = await run(publishGitlab({ integrations: integrationsOf(scm) }), {
      repoUrl: 'gitlab.com?owner=acme/platform&repo=ledger',
      defaultBranch: 'main',
      topics: ['books'],
      settings: { visibility: 'internal', description: 'Keeps the books', merge_method: 'ff' },
      branches: [{ name: 'develop', create: true, protect: true }, { name: 'main', protect: true }],
      projectVariables: [
        { key: 'DEPLOY_ENV', value: 'staging' },
        { key: 'API_KEY', value: 'very-secret-value', masked: true, protected: true, environment_scope: 'production' },
      ],
      gitAuthorName: 'Ada Lovelace',
      gitAuthorEmail: 'ada@example.com',
    });
    assert.equal(r.error, undefined, r.error?.message);
    const project = [...scm.gitlab.projects.values()].find((p) => p.path === 'ledger')!;
    const namespace = scm.gitlab.namespaces.get('acme/platform')!;
    const calls = callsAfter(scm, from).filter((c) => c.kind === 'api');
    // The namespace path travels URL-encoded (the stand-in, as GitLab, finds no namespace otherwise).
    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.path}`),
      [
        'GET /namespaces/acme/platform',
        'POST /projects',
        `POST /projects/${project.id}/repository/branches`,
        `POST /projects/${project.id}/protected_branches`,
        `POST /projects/${project.id}/protected_branches`,
        `POST /projects/${project.id}/variables`,
        `POST /projects/${project.id}/variables`,
      ],
    );
    assert.ok(calls.every((c) => c.auth === 'private-token'), "the integration's token travels as PRIVATE-TOKEN");
    assert.deepEqual(calls[1].body, { namespace_id: namespace.id, name: 'ledger', visibility: 'internal', topics: ['books'], description: 'Keeps the books', merge_method: 'ff' }, 'settings win over repoVisibility');
    assert.deepEqual(calls[2].body, { branch: 'develop', ref: 'main' }, 'a created branch starts from the default branch');
    assert.deepEqual(project.protectedBranches, ['develop', 'main']);
    assert.deepEqual(project.variables, {
      'DEPLOY_ENV@*': { key: 'DEPLOY_ENV', value: 'staging', variable_type: 'env_var', protected: false, masked: false, raw: false, environment_scope: '*' },
      'API_KEY@production': { key: 'API_KEY', value: 'very-secret-value', variable_type: 'env_var', protected: true, masked: true, raw: false, environment_scope: 'production' },
    });
    const pushes = callsAfter(scm, from).filter((c) => c.kind === 'git' && c.path.endsWith('git-receive-pack'));
    assert.ok(pushes.length > 0 && pushes.every((c) => c.auth === 'basic:oauth2'), `pushed as oauth2: ${JSON.stringify(pushes)}`);
    assert.deepEqual(r.outputs, {
      remoteUrl: `${scm.gitlabBaseUrl}/acme/platform/ledger`,
      projectId: project.id,
      commitHash: r.outputs.commitHash,
      repoContentsUrl: `${scm.gitlabBaseUrl}/acme/platform/ledger/-/blob/main`,
      created: true,
    });
    const clone = await cloneOf(`${r.outputs.remoteUrl}.git`, 'main');
    assert.deepEqual(clone.files, SKELETON);
    assert.deepEqual(clone.commit, { hash: r.outputs.commitHash, author: 'Ada Lovelace', email: 'ada@example.com', subject: 'initial commit' });
    assert.equal((await cloneOf(`${r.outputs.remoteUrl}.git`, 'develop')).commit.hash, r.outputs.commitHash, 'develop made from main');
    assertNoToken(r, scm.bot.token, 'very-secret-value');
  });

  test('a taken path is GIT_REPO_EXISTS before any push; with skipExisting the project is reused as it is', async () => {
    const action = publishGitlab({ integrations: integrationsOf(scm) });
    const first = await run(action, { repoUrl: 'gitlab.com?owner=acme&repo=books' });
    assert.equal(first.error, undefined, first.error?.message);
    let from = scm.calls.length;
    const taken = await run(action, { repoUrl: 'gitlab.com?owner=acme&repo=books' });
    assert.equal(taken.error?.code, 'GIT_REPO_EXISTS');
    assert.equal(taken.error?.message, 'The project acme/books already exists on gitlab.com; choose another name, or set skipExisting to reuse it');
    assert.deepEqual(
      callsAfter(scm, from).map((c) => `${c.kind} ${c.method} ${c.path}`),
      ['api GET /namespaces/acme', 'api POST /projects'],
      'no push',
    );
    from = scm.calls.length;
    const reused = await run(action, { repoUrl: 'gitlab.com?owner=acme&repo=books', skipExisting: true });
    assert.equal(reused.error, undefined, reused.error?.message);
    assert.deepEqual(
      callsAfter(scm, from).map((c) => `${c.kind} ${c.method} ${c.path}`),
      ['api GET /namespaces/acme', 'api GET /groups/acme/projects'],
    );
    assert.equal(callsAfter(scm, from)[1].query.search, 'books');
    assert.deepEqual(reused.outputs, { remoteUrl: first.outputs.remoteUrl, projectId: first.outputs.projectId, repoContentsUrl: `${first.outputs.remoteUrl}/-/blob/main`, created: false });
  });

  test("a user's token is sent as Bearer; setUserAsOwner makes that user Owner with the integration's token", async () => {
    const grace = scm.user('grace');
    const from = scm.calls.length;
    const r = await run(publishGitlab({ integrations: integrationsOf(scm) }), { repoUrl: 'gitlab.com?owner=acme&repo=owned', token: grace.token, setUserAsOwner: true });
    assert.equal(r.error, undefined, r.error?.message);
    const project = [...scm.gitlab.projects.values()].find((p) => p.path === 'owned')!;
    assert.deepEqual(
      callsAfter(scm, from)
        .filter((c) => c.kind === 'api')
        .map((c) => `${c.auth} ${c.method} ${c.path}`),
      ['bearer GET /namespaces/acme', 'bearer POST /projects', 'bearer GET /user', `private-token POST /projects/${project.id}/members`],
    );
    assert.deepEqual(project.members, { [grace.id]: 50 });
    assert.ok(r.logs.includes('Made grace owner of the project'), r.logs.join(' | '));
    assertNoToken(r, grace.token, scm.bot.token);
  });

  test('sourcePath false makes an empty project: nothing is pushed', async () => {
    const from = scm.calls.length;
    const r = await run(publishGitlab({ integrations: integrationsOf(scm) }), { repoUrl: 'gitlab.com?owner=acme&repo=empty', sourcePath: false });
    assert.equal(r.error, undefined, r.error?.message);
    assert.ok(!callsAfter(scm, from).some((c) => c.kind === 'git'), 'no git request');
    assert.equal(r.outputs.created, true);
    assert.ok(!('commitHash' in r.outputs), 'no commit');
  });

  test('refusals: a bad token, an unknown namespace, no token, a GitHub host, commit signing', async () => {
    const cases: { integrations: IntegrationsConfig; input: Record<string, unknown>; code: string; message: string | RegExp }[] = [
      {
        integrations: integrationsOf(scm, 'glpat-wrong-token'),
        input: { repoUrl: 'gitlab.com?owner=acme&repo=x' },
        code: 'SCM_AUTH_FAILED',
        message: 'GitLab gitlab.com refused GET /namespaces/acme with 401 (401 Unauthorized): check the token of integrations.gitlab for host gitlab.com in pave.yaml; it must be valid and allowed to create projects in the namespace',
      },
      {
        integrations: integrationsOf(scm),
        input: { repoUrl: 'gitlab.com?owner=nowhere/at-all&repo=x' },
        code: 'SCM_OWNER_NOT_FOUND',
        message: 'GitLab gitlab.com has no group or user "nowhere/at-all" the token can see (the owner in repoUrl "gitlab.com?owner=nowhere/at-all&repo=x")',
      },
      {
        integrations: integrationsOf(scm, null),
        input: { repoUrl: 'gitlab.com?owner=acme&repo=x' },
        code: 'SCM_TOKEN_MISSING',
        message: 'No token for gitlab.com: set integrations.gitlab[].token for host gitlab.com in pave.yaml (a token with the api scope), or pass the token input of publish:gitlab',
      },
      { integrations: integrationsOf(scm), input: { repoUrl: 'github.com?owner=acme&repo=x' }, code: 'REPO_URL_UNKNOWN_HOST', message: /is not a GitLab host: use one of gitlab\.com/ },
      { integrations: integrationsOf(scm), input: { repoUrl: 'gitlab.com?owner=acme&repo=x', signCommit: true }, code: 'ACTION_INPUT_UNSUPPORTED', message: /signCommit is not supported by Pave/ },
    ];
    for (const c of cases) {
      const r = await run(publishGitlab({ integrations: c.integrations }), c.input as never);
      assert.equal(r.error?.code, c.code, JSON.stringify(c.input));
      if (typeof c.message === 'string') assert.equal(r.error?.message, c.message);
      else assert.match(r.error?.message ?? '', c.message);
      assertNoToken(r, 'glpat-wrong-token', scm.bot.token);
    }
    assert.ok(![...scm.gitlab.projects.values()].some((p) => p.path === 'x'), 'nothing was created');
  });
});

describe('publish:github:pull-request', () => {
  test('commits the workspace onto a new branch of the repository and opens a pull request with reviewers', async () => {
    const integrations = integrationsOf(scm);
    const made = await run(publishGithub({ integrations }), { repoUrl: 'github.com?owner=acme&repo=service', defaultBranch: 'main', protectDefaultBranch: false });
    assert.equal(made.error, undefined, made.error?.message);
    const from = scm.calls.length;
    const r = await run(
      publishGithubPullRequest({ integrations }),
      { repoUrl: 'github.com?owner=acme&repo=service', branchName: 'add-docs', title: 'Add docs', description: 'Made by a template', reviewers: ['ada'], teamReviewers: ['platform', 'platform'], gitAuthorName: 'Ada Lovelace', gitAuthorEmail: 'ada@example.com' },
      { files: { 'README.md': '# Service\n', 'docs/index.md': '# Docs\n' } },
    );
    assert.equal(r.error, undefined, r.error?.message);
    const calls = callsAfter(scm, from);
    assert.deepEqual(
      calls.filter((c) => c.kind === 'api').map((c) => `${c.method} ${c.path}`),
      ['GET /repos/acme/service', 'POST /repos/acme/service/pulls', 'POST /repos/acme/service/pulls/1/requested_reviewers'],
    );
    assert.deepEqual(calls.find((c) => c.path.endsWith('/pulls'))?.body, { title: 'Add docs', body: 'Made by a template', head: 'add-docs', base: 'main' });
    assert.deepEqual(calls.find((c) => c.path.endsWith('/requested_reviewers'))?.body, { reviewers: ['ada'], team_reviewers: ['platform'] });
    assert.ok(
      calls.filter((c) => c.kind === 'git').every((c) => c.auth === 'basic:x-access-token'),
      'the clone and the push both authenticate as x-access-token',
    );
    assert.deepEqual(r.outputs, { remoteUrl: `${scm.url}/github/acme/service/pull/1`, pullRequestNumber: 1, targetBranchName: 'main' });
    const branch = await cloneOf(`${scm.url}/github/acme/service.git`, 'add-docs');
    assert.deepEqual(branch.files, { ...SKELETON, 'README.md': '# Service\n', 'docs/index.md': '# Docs\n' }, "the repository's files with the workspace's over them");
    assert.deepEqual([branch.commit.subject, branch.commit.author, branch.count], ['Add docs', 'Ada Lovelace', 2], 'one commit on top of main');
    assertNoToken(r, scm.bot.token);
  });

  test('an existing branch is refused unless update is set; with update the open pull request is updated', async () => {
    const action = publishGithubPullRequest({ integrations: integrationsOf(scm) });
    const input = { repoUrl: 'github.com?owner=acme&repo=service', branchName: 'add-docs', title: 'Add docs, again', description: 'Second try' };
    const refused = await run(action, input, { files: { 'README.md': '# Service v2\n' } });
    assert.equal(refused.error?.code, 'SCM_BRANCH_EXISTS');
    assert.equal(
      refused.error?.message,
      `The branch add-docs exists in acme/service on github.com already, with the pull request ${scm.url}/github/acme/service/pull/1: choose another branchName, or set update: true to replace it`,
    );
    const from = scm.calls.length;
    const updated = await run(action, { ...input, update: true }, { files: { 'README.md': '# Service v2\n' } });
    assert.equal(updated.error, undefined, updated.error?.message);
    assert.deepEqual(
      callsAfter(scm, from)
        .filter((c) => c.kind === 'api')
        .map((c) => `${c.method} ${c.path}`),
      ['GET /repos/acme/service', 'GET /repos/acme/service/pulls', 'PATCH /repos/acme/service/pulls/1'],
    );
    assert.equal(updated.outputs.pullRequestNumber, 1);
    assert.equal(scm.github.repos.get('acme/service')!.pulls[0].title, 'Add docs, again');
    assert.equal((await cloneOf(`${scm.url}/github/acme/service.git`, 'add-docs')).files['README.md'], '# Service v2\n', 'the branch was replaced');
  });

  test('refusals: nothing to propose, an unknown repository, forks; a dry-run calls nothing', async () => {
    const action = publishGithubPullRequest({ integrations: integrationsOf(scm) });
    const base = { branchName: 'same', title: 'Same', description: 'Nothing new' };
    const cases: { input: Record<string, unknown>; code: string; message: RegExp }[] = [
      { input: { ...base, repoUrl: 'github.com?owner=acme&repo=service' }, code: 'SCM_NOTHING_TO_PROPOSE', message: /^The workspace changes nothing in acme\/service \(main\): there is no pull request to open$/ },
      { input: { ...base, repoUrl: 'github.com?owner=acme&repo=nowhere' }, code: 'SCM_REPO_NOT_FOUND', message: /^GitHub github\.com has no repository acme\/nowhere the token can see/ },
      { input: { ...base, repoUrl: 'github.com?owner=acme&repo=service', forceFork: true }, code: 'ACTION_INPUT_UNSUPPORTED', message: /forceFork is not supported by Pave/ },
    ];
    for (const c of cases) {
      const r = await run(action, c.input as never);
      assert.equal(r.error?.code, c.code, JSON.stringify(c.input));
      assert.match(r.error?.message ?? '', c.message);
    }
    const from = scm.calls.length;
    const dry = await run(action, { ...base, repoUrl: 'github.com?owner=acme&repo=service' }, { dryRun: true });
    assert.deepEqual(dry.outputs, { remoteUrl: 'https://github.com/acme/service/pull/0', pullRequestNumber: 0 });
    assert.equal(scm.calls.length, from, 'no call');
  });
});

describe('publish:gitlab:merge-request', () => {
  test('commits the workspace into a folder of a new branch and opens a merge request with its assignee and reviewers', async () => {
    const integrations = integrationsOf(scm);
    const made = await run(publishGitlab({ integrations }), { repoUrl: 'gitlab.com?owner=acme/platform&repo=service', defaultBranch: 'main' });
    assert.equal(made.error, undefined, made.error?.message);
    const from = scm.calls.length;
    const r = await run(
      publishGitlabMergeRequest({ integrations }),
      {
        repoUrl: 'gitlab.com?owner=acme/platform&repo=service',
        branchName: 'add-ledger',
        title: 'Add the ledger',
        description: 'Made by a template',
        sourcePath: '.',
        targetPath: 'services/ledger',
        assignee: 'ada',
        reviewers: ['grace', 'ghost'],
        removeSourceBranch: true,
      },
      { files: { 'index.ts': 'export {};\n' } },
    );
    assert.equal(r.error, undefined, r.error?.message);
    const project = [...scm.gitlab.projects.values()].find((p) => p.path === 'service' && p.namespace.full_path === 'acme/platform')!;
    const calls = callsAfter(scm, from).filter((c) => c.kind === 'api');
    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.path} ${c.query.username ?? ''}`.trim()),
      ['GET /projects/acme/platform/service', 'GET /users ada', 'GET /users grace', 'GET /users ghost', `POST /projects/${project.id}/merge_requests`],
    );
    assert.deepEqual(calls.at(-1)?.body, {
      source_branch: 'add-ledger',
      target_branch: 'main',
      title: 'Add the ledger',
      description: 'Made by a template',
      remove_source_branch: true,
      assignee_id: scm.user('ada').id,
      reviewer_ids: [scm.user('grace').id],
    });
    assert.ok(r.logs.includes('No GitLab user ghost on gitlab.com: left out of the merge request'), r.logs.join(' | '));
    assert.deepEqual(r.outputs, {
      projectid: 'acme/platform/service',
      projectPath: 'acme/platform/service',
      targetBranchName: 'main',
      mergeRequestUrl: `${scm.gitlabBaseUrl}/acme/platform/service/-/merge_requests/1`,
    });
    const branch = await cloneOf(`${scm.gitlabBaseUrl}/acme/platform/service.git`, 'add-ledger');
    assert.deepEqual(branch.files, { ...SKELETON, 'services/ledger/index.ts': 'export {};\n' });
    assert.deepEqual([branch.commit.subject, branch.count], ['Add the ledger', 2]);
  });

  test('an existing branch the workspace would change is refused, naming its merge request; commitAction delete removes files', async () => {
    const action = publishGitlabMergeRequest({ integrations: integrationsOf(scm) });
    const refused = await run(action, { repoUrl: 'gitlab.com?owner=acme/platform&repo=service', branchName: 'add-ledger', title: 'Again' }, { files: { 'other.md': 'x' } });
    assert.equal(refused.error?.code, 'SCM_BRANCH_EXISTS');
    assert.equal(
      refused.error?.message,
      `The branch add-ledger exists in acme/platform/service on gitlab.com already, with the merge request ${scm.gitlabBaseUrl}/acme/platform/service/-/merge_requests/1: choose another branchName`,
    );
    const removed = await run(action, { repoUrl: 'gitlab.com?owner=acme/platform&repo=service', branchName: 'drop-src', title: 'Drop src', commitAction: 'delete' }, { files: { 'src/index.ts': '' } });
    assert.equal(removed.error, undefined, removed.error?.message);
    assert.deepEqual(Object.keys((await cloneOf(`${scm.gitlabBaseUrl}/acme/platform/service.git`, 'drop-src')).files), ['README.md', 'catalog-info.yaml']);
    const from = scm.calls.length;
    const dry = await run(action, { repoUrl: 'gitlab.com?owner=acme/platform&repo=service', branchName: 'x', title: 'X' }, { dryRun: true });
    assert.deepEqual(dry.outputs, { projectid: 'acme/platform/service', projectPath: 'acme/platform/service', mergeRequestUrl: `${scm.gitlabBaseUrl}/acme/platform/service/-/merge_requests/0` });
    assert.equal(scm.calls.length, from, 'a dry-run calls nothing');
  });
});

describe('both', () => {
  test('a dry-run calls nothing and answers the URLs it would create', async () => {
    const from = scm.calls.length;
    const noToken = integrationsOf(scm, null);
    const gh = await run(publishGithub({ integrations: noToken }), { repoUrl: 'github.com?owner=acme&repo=preview', defaultBranch: 'main' }, { dryRun: true });
    assert.equal(gh.error, undefined, gh.error?.message);
    assert.deepEqual(gh.outputs, { remoteUrl: 'https://github.com/acme/preview.git', repoContentsUrl: 'https://github.com/acme/preview/blob/main', commitHash: '0'.repeat(40) });
    assert.deepEqual(gh.logs, [
      'Dry run: would create the private repository acme/preview on github.com, push the workspace to its main branch and protect that branch',
      'Dry run: no token for github.com: a real run needs integrations.github[].token for host github.com in pave.yaml, or the token input',
    ]);
    const gl = await run(publishGitlab({ integrations: integrationsOf(scm) }), { repoUrl: 'gitlab.com?owner=acme/platform&repo=preview' }, { dryRun: true });
    assert.equal(gl.error, undefined, gl.error?.message);
    assert.deepEqual(gl.outputs, {
      remoteUrl: `${scm.gitlabBaseUrl}/acme/platform/preview`,
      repoContentsUrl: `${scm.gitlabBaseUrl}/acme/platform/preview/-/blob/master`,
      projectId: 0,
      commitHash: '0'.repeat(40),
      created: true,
    });
    assert.deepEqual(gl.logs, ['Dry run: would create the project acme/platform/preview on gitlab.com and push the workspace to its master branch']);
    assert.equal(scm.calls.length, from, 'no call to either service');
  });

  test('integrations in pave.yaml: known hosts need no entry; another GitHub host needs apiBaseUrl; unknown keys are refused', () => {
    const load = (integrations: unknown) => loadConfig({ file: '/dev/null', env: {}, overrides: { integrations } });
    assert.deepEqual(loadConfig({ file: '/dev/null', env: {} }).integrations, { github: [], gitlab: [] });
    const ok = { github: [{ host: 'github.com', token: 't' }, { host: 'ghe.example.com', apiBaseUrl: 'https://ghe.example.com/api/v3' }], gitlab: [{ host: 'gitlab.example.com', token: 't' }] };
    assert.deepEqual(load(ok).integrations, ok);
    const cases: { integrations: unknown; message: RegExp }[] = [
      { integrations: { github: [{ host: 'ghe.example.com', token: 't' }] }, message: /integrations\.github\.0\.apiBaseUrl = undefined \(from .+\) is invalid: add "integrations\.github\.0\.apiBaseUrl"/ },
      { integrations: { github: [{ host: 'github.com', tokn: 't' }] }, message: /remove "integrations\.github\.0\.tokn": it is not a Pave setting/ },
      { integrations: { bitbucket: [] }, message: /remove "integrations\.bitbucket"/ },
      { integrations: { gitlab: [{ host: 'gitlab.example.com', baseUrl: 'gitlab.example.com' }] }, message: /integrations\.gitlab\.0\.baseUrl .* matching \^https\?:\/\// },
    ];
    for (const c of cases) {
      assert.throws(() => load(c.integrations), (e: PaveError) => e.code === 'CONFIG_INVALID' && c.message.test(e.message), JSON.stringify(c.integrations));
    }
    const gitlab = scmTargetOf('gitlab', 'publish:gitlab', 'gitlab.example.com?owner=g&repo=r', load(ok).integrations);
    assert.deepEqual([gitlab.webBaseUrl, gitlab.apiBaseUrl], ['https://gitlab.example.com', 'https://gitlab.example.com/api/v4'], "GitLab's addresses derived from the host");
    const github = scmTargetOf('github', 'publish:github', 'github.com?owner=o&repo=r', { github: [], gitlab: [] });
    assert.equal(github.apiBaseUrl, 'https://api.github.com');
  });
});

/** What each example must find on the stand-in before it runs, and what it must have done. */
const githubRepo = (repo: string) => async (s: ScmStandIn) => {
  const made = await run(publishGithub({ integrations: integrationsOf(s) }), { repoUrl: `github.com?owner=acme&repo=${repo}`, defaultBranch: 'main', protectDefaultBranch: false }, { files: { 'README.md': '# Old\n' } });
  assert.equal(made.error, undefined, made.error?.message);
};
const gitlabProject = (owner: string, repo: string) => async (s: ScmStandIn) => {
  const made = await run(publishGitlab({ integrations: integrationsOf(s) }), { repoUrl: `gitlab.com?owner=${owner}&repo=${repo}`, defaultBranch: 'main' }, { files: { 'README.md': '# Old\n' } });
  assert.equal(made.error, undefined, made.error?.message);
};

const EXAMPLE_SETUP: Record<string, (s: ScmStandIn) => Promise<void>> = {
  'publish:gitlab#2': gitlabProject('acme', 'payments'),
  'publish:github:pull-request#0': githubRepo('payments'),
  'publish:github:pull-request#1': githubRepo('payments'),
  'publish:gitlab:merge-request#0': gitlabProject('acme', 'payments'),
  'publish:gitlab:merge-request#1': gitlabProject('acme/platform', 'ledger'),
};

const EXAMPLE_CHECKS: Record<string, (s: ScmStandIn, r: RunResult) => Promise<void>> = {
  'publish:github#0': async (s, r) => {
    assert.deepEqual(s.apiCalls('github'), ['GET /users/acme', 'POST /orgs/acme/repos', 'PUT /repos/acme/payments/branches/master/protection']);
    assert.deepEqual((await cloneOf(String(r.outputs.remoteUrl), 'master')).files, EXAMPLE_WORKSPACE);
  },
  'publish:github#1': async (s, r) => {
    const repo = s.github.repos.get('acme/ledger')!;
    assert.equal(repo.visibility, 'public');
    assert.deepEqual([repo.topics, repo.teams, repo.collaborators], [['payments', 'backend'], { platform: 'push' }, { ada: 'admin' }]);
    assert.deepEqual(repo.protection.main.required_status_checks, { strict: true, contexts: ['ci/build'] });
    assert.equal((repo.protection.main.required_pull_request_reviews as Record<string, unknown>).required_approving_review_count, 2);
    assert.equal(repo.created.delete_branch_on_merge, true);
    assert.equal(r.outputs.repoContentsUrl, `${s.url}/github/acme/ledger/blob/main`);
  },
  'publish:github#2': async (s, r) => {
    assert.ok(s.github.repos.has('ada/notes'), "made for the token's user");
    assert.deepEqual(s.apiCalls('github'), ['GET /users/ada', 'POST /user/repos'], 'no protection');
    const clone = await cloneOf(String(r.outputs.remoteUrl), 'master');
    assert.deepEqual(clone.files, { 'index.md': '# Notes\n' }, 'only the site folder');
    assert.deepEqual([clone.commit.author, clone.commit.email, clone.commit.subject], ['Ada Lovelace', 'ada@example.com', 'First notes']);
  },
  'publish:gitlab#0': async (s, r) => {
    assert.deepEqual(s.apiCalls('gitlab'), ['GET /namespaces/acme', 'POST /projects']);
    assert.equal((await cloneOf(`${r.outputs.remoteUrl}.git`, 'master')).commit.hash, r.outputs.commitHash);
  },
  'publish:gitlab#1': async (s, r) => {
    const project = s.gitlab.projects.get(Number(r.outputs.projectId))!;
    assert.equal(project.namespace.full_path, 'acme/platform');
    assert.deepEqual([project.created.visibility, project.protectedBranches, Object.keys(project.variables)], ['internal', ['develop'], ['DEPLOY_ENV@*']]);
    assert.equal((await cloneOf(`${r.outputs.remoteUrl}.git`, 'develop')).commit.hash, r.outputs.commitHash);
  },
  'publish:gitlab#2': async (_s, r) => {
    assert.equal(r.outputs.created, false);
    assert.equal(r.outputs.repoContentsUrl, `${r.outputs.remoteUrl}/-/blob/main`);
  },
  'publish:github:pull-request#0': async (s, r) => {
    const [pull] = s.github.repos.get('acme/payments')!.pulls;
    assert.deepEqual([pull.head, pull.base, pull.title, pull.reviewers], ['add-docs', 'main', 'Add docs', ['ada']]);
    assert.equal(r.outputs.remoteUrl, `${s.url}/github/acme/payments/pull/1`);
    assert.deepEqual((await cloneOf(`${s.url}/github/acme/payments.git`, 'add-docs')).files, EXAMPLE_WORKSPACE);
  },
  'publish:github:pull-request#1': async (s) => {
    const [pull] = s.github.repos.get('acme/payments')!.pulls;
    assert.deepEqual([pull.head, pull.draft], ['add-service', true]);
    const files = (await cloneOf(`${s.url}/github/acme/payments.git`, 'add-service')).files;
    assert.deepEqual(Object.keys(files), ['README.md', ...Object.keys(EXAMPLE_WORKSPACE).map((f) => `services/ledger/${f}`)].sort());
  },
  'publish:gitlab:merge-request#0': async (s, r) => {
    const project = [...s.gitlab.projects.values()].find((p) => p.path === 'payments')!;
    assert.deepEqual([project.mergeRequests[0].source_branch, project.mergeRequests[0].target_branch], ['add-docs', 'main']);
    assert.equal(r.outputs.mergeRequestUrl, `${s.gitlabBaseUrl}/acme/payments/-/merge_requests/1`);
  },
  'publish:gitlab:merge-request#1': async (s) => {
    const [mr] = [...s.gitlab.projects.values()].find((p) => p.path === 'ledger')!.mergeRequests;
    assert.deepEqual([mr.assignee_ids, mr.reviewer_ids, mr.remove_source_branch], [[s.user('ada').id], [s.user('grace').id], true]);
    const files = (await cloneOf(`${s.gitlabBaseUrl}/acme/platform/ledger.git`, 'add-service')).files;
    assert.equal(files['services/ledger/site/index.md'], '# Notes\n');
  },
};

describe('examples', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  /** Each native action, made for a stand-in's integrations. */
  const makers: ((integrations: IntegrationsConfig) => TemplateAction)[] = [
    (integrations) => publishGithub({ integrations }),
    (integrations) => publishGitlab({ integrations }),
    (integrations) => publishGithubPullRequest({ integrations }),
    (integrations) => publishGitlabMergeRequest({ integrations }),
  ];
  const none = { github: [], gitlab: [] };
  for (const make of makers) {
    const listed = make(none);
    listed.examples.forEach((example, index) => {
      const key = `${listed.id}#${index}`;
      test(`example ${key}: ${example.description}`, async () => {
        const steps = (yaml.parse(example.example) as { steps: { action: string; input: Record<string, unknown> }[] }).steps;
        assert.deepEqual(
          steps.map((s) => s.action),
          [listed.id],
          key,
        );
        const s = await startStandIn();
        try {
          const input = renderValue(steps[0].input, { parameters: {}, secrets: { USER_OAUTH_TOKEN: s.user('ada').token } }) as Record<string, unknown>;
          const validate = ajv.compile(listed.schema.input);
          assert.ok(validate(input), `${key} input matches the schema: ${ajv.errorsText(validate.errors)}`);
          const check = EXAMPLE_CHECKS[key];
          assert.ok(check, `${key} has a check`);
          await EXAMPLE_SETUP[key]?.(s);
          s.calls.length = 0;
          const r = await run(make(integrationsOf(s)), input, { files: EXAMPLE_WORKSPACE });
          assert.equal(r.error, undefined, r.error?.message);
          await check(s, r);
        } finally {
          await s.close();
        }
      });
    });
  }
});

describe('in Pave, with scaffolder.publishTo: native', () => {
  test('a template run publishes to both services; a failed run retried does not create twice', async () => {
    const s = await startStandIn();
    const pave = await startTestPave({ settings: { 'scaffolder.publishTo': 'native', integrations: integrationsOf(s) } });
    try {
      const actions = (await pave.api('GET', '/api/scaffolder/v2/actions')).body as { id: string; description: string }[];
      for (const id of ['publish:github', 'publish:gitlab', 'publish:github:pull-request', 'publish:gitlab:merge-request']) {
        assert.match(actions.find((a) => a.id === id)?.description ?? '', /scaffolder\.publishTo: native/, `${id} is the native one`);
      }
      const dir = await tempDir('template');
      await mkdir(path.join(dir, 'skeleton'));
      await writeFile(path.join(dir, 'skeleton', 'README.md'), '# ${{ values.name }}\n');
      await writeFile(
        path.join(dir, 'template.yaml'),
        yaml.stringify({
          apiVersion: 'scaffolder.backstage.io/v1beta3',
          kind: 'Template',
          metadata: { name: 'native-service' },
          spec: {
            owner: 'team-a',
            type: 'service',
            parameters: [{ properties: { name: { type: 'string' } } }],
            steps: [
              { id: 'fetch', name: 'Fetch', action: 'fetch:template', input: { url: './skeleton', values: { name: '${{ parameters.name }}' } } },
              { id: 'github', name: 'GitHub', action: 'publish:github', input: { repoUrl: 'github.com?owner=acme&repo=${{ parameters.name }}', access: 'ada', defaultBranch: 'main' } },
              { id: 'gitlab', name: 'GitLab', action: 'publish:gitlab', input: { repoUrl: 'gitlab.com?owner=acme&repo=${{ parameters.name }}', defaultBranch: 'main' } },
            ],
            output: { links: [{ title: 'GitHub', url: '${{ steps.github.output.remoteUrl }}' }, { title: 'GitLab', url: '${{ steps.gitlab.output.remoteUrl }}' }] },
          },
        }),
      );
      assert.equal((await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(dir, 'template.yaml') })).status, 201);
      await eventually(async () => ((await pave.api('GET', '/api/catalog/entities/by-name/template/default/native-service')).status === 200 ? true : undefined), 10_000, 'the template');
      // The first run fails after GitHub created the repository; its retry must not create it again.
      s.failNext('github', 'PUT', /\/collaborators\/ada$/, 500, { message: 'Server Error' });
      const created = await pave.api('POST', '/api/scaffolder/v2/tasks', { templateRef: 'template:default/native-service', values: { name: 'orders' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const taskId = created.body.id as string;
      const settled = (what: string) => eventually(async () => {
        const t = (await pave.api('GET', `/api/scaffolder/v2/tasks/${taskId}`)).body;
        return ['failed', 'completed'].includes(t.status) ? t : undefined;
      }, 30_000, what);
      assert.equal((await settled('the first run')).status, 'failed');
      assert.equal((await pave.api('POST', `/api/scaffolder/v2/tasks/${taskId}/retry`, {})).status < 300, true, 'retried');
      await eventually(async () => ((await pave.api('GET', `/api/scaffolder/v2/tasks/${taskId}`)).body.status !== 'failed' ? true : undefined), 10_000, 'the retry to start');
      const task = await settled('the retry');
      const events = (await pave.api('GET', `/api/scaffolder/v2/tasks/${taskId}/events`)).body as { body: { message?: string } }[];
      assert.equal(task.status, 'completed', JSON.stringify(events.map((e) => e.body.message)));
      assert.equal(s.apiCalls('github').filter((c) => c === 'POST /orgs/acme/repos').length, 1, 'created once');
      assert.deepEqual(s.github.repos.get('acme/orders')!.collaborators, { ada: 'admin' });
      assert.equal((await cloneOf(`${s.url}/github/acme/orders.git`, 'main')).files['README.md'], '# orders\n');
      assert.equal((await cloneOf(`${s.gitlabBaseUrl}/acme/orders.git`, 'main')).files['README.md'], '# orders\n');
      assert.equal((await pave.api('GET', '/api/git/repos/acme/orders')).status, 404, "nothing on Pave's own git server");
      assert.ok(!JSON.stringify(events).includes(s.bot.token), 'the token is in no event');
    } finally {
      await pave.close();
      await s.close();
    }
  });
});
