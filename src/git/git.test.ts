import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, startTestPave, type TestPave } from '../testing/pave.ts';
import { orgYaml } from '../testing/org.ts';

const ORG = orgYaml(['team-a', 'team-b'], { alice: ['team-a'] });

let pave: TestPave;
let work: string;
let alice: string;

/** The real git client, never asking on a terminal, with no user configuration. */
function git(cwd: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', ...args],
      { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_ASKPASS: '' } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as any).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** A clone URL with a token as the password, as a developer would paste it. */
const withToken = (cloneUrl: string, token: string) => cloneUrl.replace('http://', `http://pave:${encodeURIComponent(token)}@`);

before(async () => {
  pave = await startTestPave();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-git-'));
  fs.writeFileSync(path.join(work, 'org.yaml'), ORG);
  assert.equal((await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(work, 'org.yaml') })).status, 201, 'org registered');
  await eventually(async () => ((await pave.api('GET', '/api/catalog/entities/by-name/user/default/alice')).status === 200 ? true : undefined), 10_000, 'alice in the catalog');
  alice = await pave.tokenFor('user:default/alice', ['write']);
});

after(async () => {
  await pave.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test('a repository is created, cloned, pushed to and browsed with the real git client over HTTP', async () => {
  const created = await pave.api('POST', '/api/git/repos', { org: 'acme', name: 'payments', owner: 'group:default/team-a', description: 'Takes payments' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const cloneUrl: string = created.body.cloneUrl;
  assert.equal(cloneUrl, `${pave.url}/git/acme/payments.git`, 'clone URL');

  const anonymous = await git(work, 'clone', cloneUrl, 'anon');
  assert.notEqual(anonymous.code, 0, 'an anonymous clone is refused');
  assert.match(anonymous.out, /Authentication failed|could not read Username|401/i, anonymous.out);

  const clone = await git(work, 'clone', withToken(cloneUrl, alice), 'payments');
  assert.equal(clone.code, 0, clone.out);
  const dir = path.join(work, 'payments');
  fs.writeFileSync(path.join(dir, 'README.md'), '# Payments\n');
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src', 'index.ts'), 'export const ok = true;\n');
  await git(dir, 'add', '.');
  assert.equal((await git(dir, 'commit', '-qm', 'First commit')).code, 0, 'committed');
  const push = await git(dir, 'push', '-q', 'origin', 'main');
  assert.equal(push.code, 0, push.out);

  const head = (await git(dir, 'rev-parse', 'HEAD')).out.trim();
  const pushed = await eventually(async () => {
    const events = (await pave.api('GET', '/api/events?type=git.pushed&subject=git:acme/payments')).body.items;
    return events.length ? events : undefined;
  }, 10_000, 'the push event');
  assert.deepEqual(
    { ...pushed[0].payload, files: [...pushed[0].payload.files].sort() },
    { ref: 'refs/heads/main', before: '0'.repeat(40), after: head, files: ['README.md', 'src/index.ts'], pusher: 'user:default/alice' },
    'the push is an event with before/after and the changed files',
  );

  // A second push on a branch, with a tag: only what changed is listed.
  await git(dir, 'checkout', '-qb', 'feature/retry');
  fs.writeFileSync(path.join(dir, 'src', 'retry.ts'), 'export const attempts = 3;\n');
  await git(dir, 'add', '.');
  await git(dir, 'commit', '-qm', 'Retry charges');
  await git(dir, 'tag', 'v0.1.0');
  assert.equal((await git(dir, 'push', '-q', 'origin', 'feature/retry', '--tags')).code, 0, 'branch and tag pushed');
  const branchPush = await eventually(async () => {
    const events = (await pave.api('GET', '/api/events?type=git.pushed&subject=git:acme/payments')).body.items;
    return events.find((e: any) => e.payload.ref === 'refs/heads/feature/retry');
  }, 10_000, 'the branch push event');
  assert.deepEqual(branchPush.payload.files, ['src/retry.ts'], 'a new branch lists what it adds to main');

  const repo = (await pave.api('GET', '/api/git/repos/acme/payments')).body;
  assert.deepEqual(repo.branches.map((b: any) => b.name).sort(), ['feature/retry', 'main'], 'branches');
  assert.deepEqual(repo.tags.map((t: any) => t.name), ['v0.1.0'], 'tags');
  const tree = (await pave.api('GET', '/api/git/repos/acme/payments/tree?ref=feature/retry&path=src')).body;
  assert.deepEqual(tree.entries.map((e: any) => e.name), ['index.ts', 'retry.ts'], 'a folder at a branch');
  const blob = await fetch(`${pave.url}/api/git/repos/acme/payments/blob?path=README.md`, { headers: { authorization: `Bearer ${pave.token}` } });
  assert.equal(await blob.text(), '# Payments\n', 'a file at the default branch');
  const commits = (await pave.api('GET', '/api/git/repos/acme/payments/commits?ref=feature/retry')).body.items;
  assert.deepEqual(commits.map((c: any) => c.subject), ['Retry charges', 'First commit'], 'commits newest first');

  const again = await git(work, 'clone', '-q', '--branch', 'v0.1.0', withToken(cloneUrl, pave.token), 'again');
  assert.equal(again.code, 0, again.out);
  assert.equal(fs.readFileSync(path.join(work, 'again', 'src', 'retry.ts'), 'utf8'), 'export const attempts = 3;\n', 'a fresh clone has what was pushed');
});

test('only owners push; names are checked; a taken name is a clear conflict', async () => {
  const other = await pave.api('POST', '/api/git/repos', { org: 'acme', name: 'ledger', owner: 'group:default/team-b' });
  assert.equal(other.status, 201, JSON.stringify(other.body));
  const dir = path.join(work, 'ledger');
  assert.equal((await git(work, 'clone', '-q', withToken(other.body.cloneUrl, alice), 'ledger')).code, 0, 'members may clone any repository');
  fs.writeFileSync(path.join(dir, 'a.txt'), 'a\n');
  await git(dir, 'add', '.');
  await git(dir, 'commit', '-qm', 'not mine');
  const refused = await git(dir, 'push', 'origin', 'main');
  assert.notEqual(refused.code, 0, 'alice may not push to team-b’s repository');
  assert.match(refused.out, /403/, refused.out);
  const readOnly = await pave.tokenFor('user:default/alice', ['read']);
  const own = path.join(work, 'payments');
  fs.writeFileSync(path.join(own, 'b.txt'), 'b\n');
  await git(own, 'add', '.');
  await git(own, 'commit', '-qm', 'with a read token');
  const scoped = await git(own, 'push', withToken(`${pave.url}/git/acme/payments.git`, readOnly), 'HEAD:main');
  assert.notEqual(scoped.code, 0, 'a read-scoped token cannot push');

  assert.equal((await pave.api('POST', '/api/git/repos', { org: 'acme', name: 'ledger' })).body.error.code, 'GIT_REPO_EXISTS', 'taken');
  for (const name of ['Bad Name', '../escape', 'x.git', '-x']) {
    const res = await pave.api('POST', '/api/git/repos', { org: 'acme', name });
    assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, 'GIT_REPO_NAME_INVALID', name);
  }
  assert.equal((await pave.api('GET', '/api/git/repos/acme/nope')).body.error.code, 'GIT_REPO_NOT_FOUND', 'unknown repository');
  assert.equal((await pave.api('GET', '/api/git/repos/acme/payments/tree?ref=nope')).body.error.code, 'GIT_REF_NOT_FOUND', 'unknown ref');
  assert.equal((await pave.api('GET', '/api/git/repos/acme/payments/blob?path=../../etc/passwd')).body.error.code, 'GIT_PATH_INVALID', 'no way out of the repository');

  const aliceApi = pave.apiAs(alice);
  assert.equal((await aliceApi('DELETE', '/api/git/repos/acme/ledger')).status, 403, 'alice may not delete team-b’s repository');
  assert.equal((await pave.api('DELETE', '/api/git/repos/acme/ledger')).status, 204, 'an admin may');
  assert.equal((await pave.api('GET', '/api/git/repos/acme/ledger')).status, 404, 'gone');
});
