import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, startTestPave, type TestPave } from '../testing/pave.ts';
import { orgYaml } from '../testing/org.ts';

const ORG = orgYaml(['team-a', 'team-b'], { alice: ['team-a'], bob: ['team-b'] });

let pave: TestPave;
let work: string;
let dir: string;
let alice: string;
let bob: string;

/** The real git client, asynchronously (the server answering it runs in this process). */
function git(cwd: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('git', ['-c', 'user.name=Alice', '-c', 'user.email=alice@example.com', ...args], { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_GLOBAL: '/dev/null' } }, (err, stdout, stderr) =>
      err ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    ),
  );
}

async function commit(file: string, content: string, message: string) {
  fs.writeFileSync(path.join(dir, file), content);
  await git(dir, 'add', '.');
  await git(dir, 'commit', '-qm', message);
}

const events = async (type: string) => (await pave.api('GET', `/api/events?type=${type}&limit=100`)).body.items as any[];

before(async () => {
  pave = await startTestPave();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-changes-'));
  fs.writeFileSync(path.join(work, 'org.yaml'), ORG);
  await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(work, 'org.yaml') });
  await eventually(async () => ((await pave.api('GET', '/api/catalog/entities/by-name/user/default/bob')).status === 200 ? true : undefined), 10_000, 'the org');
  alice = await pave.tokenFor('user:default/alice', ['write']);
  bob = await pave.tokenFor('user:default/bob', ['write']);
  const repo = await pave.api('POST', '/api/git/repos', { org: 'acme', name: 'shop', owner: 'group:default/team-a' });
  assert.equal(repo.status, 201, JSON.stringify(repo.body));
  dir = path.join(work, 'shop');
  await git(work, 'clone', '-q', repo.body.cloneUrl.replace('http://', `http://pave:${encodeURIComponent(alice)}@`), 'shop');
  await commit('a.txt', 'one\ntwo\nthree\n', 'First');
  await git(dir, 'push', '-q', 'origin', 'HEAD:main');
});

after(async () => {
  await pave.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test('open from a branch, see commits, files and diff, comment, follow pushes, merge', async () => {
  await git(dir, 'checkout', '-qb', 'feature/discounts');
  await commit('b.txt', 'discounts\n', 'Add discounts');
  await git(dir, 'push', '-q', 'origin', 'feature/discounts');
  const as = pave.apiAs(alice);
  const opened = await as('POST', '/api/git/repos/acme/shop/changes', { title: 'Discounts', description: 'Ten percent off', sourceBranch: 'feature/discounts' });
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  assert.deepEqual({ number: opened.body.number, status: opened.body.status, target: opened.body.targetBranch, author: opened.body.author }, { number: 1, status: 'open', target: 'main', author: 'user:default/alice' }, 'opened into the default branch');
  assert.equal((await as('POST', '/api/git/repos/acme/shop/changes', { title: 'Again', sourceBranch: 'feature/discounts' })).body.error.code, 'CHANGE_EXISTS', 'one open change per branch pair');
  assert.equal((await as('POST', '/api/git/repos/acme/shop/changes', { title: 'Nope', sourceBranch: 'no-such-branch' })).body.error.code, 'GIT_BRANCH_NOT_FOUND', 'an unknown branch');

  const details = (await as('GET', '/api/git/repos/acme/shop/changes/1')).body;
  assert.deepEqual(details.commits.map((c: any) => c.subject), ['Add discounts'], 'its commits');
  assert.deepEqual(details.files, [{ path: 'b.txt', additions: 1, deletions: 0 }], 'its files');
  assert.equal(details.mergeable, true, 'merges cleanly');
  const diff = await fetch(`${pave.url}/api/git/repos/acme/shop/changes/1/diff`, { headers: { authorization: `Bearer ${alice}` } });
  assert.match(await diff.text(), /\+\+\+ b\/b\.txt\n@@ .* @@\n\+discounts/, 'the unified diff');
  assert.equal((await pave.apiAs(bob)('POST', '/api/git/repos/acme/shop/changes/1/comments', { body: 'Looks good' })).status, 201, 'anyone may comment');

  await commit('b.txt', 'discounts\nten percent\n', 'Ten percent');
  await git(dir, 'push', '-q', 'origin', 'feature/discounts');
  await eventually(async () => ((await events('git.change.updated')).some((e) => e.payload.number === 1) ? true : undefined), 10_000, 'the updated event');

  assert.equal((await pave.apiAs(bob)('POST', '/api/git/repos/acme/shop/changes/1/merge')).status, 403, 'only owners merge');
  const merged = await as('POST', '/api/git/repos/acme/shop/changes/1/merge');
  assert.equal(merged.status, 200, JSON.stringify(merged.body));
  assert.equal(merged.body.status, 'merged', 'merged');
  const main = (await as('GET', '/api/git/repos/acme/shop/commits?ref=main')).body.items;
  assert.match(main[0].subject, /^Merge change request #1 from feature\/discounts/, 'a merge commit on main');
  assert.deepEqual(main[0].parents.length, 2, 'with both parents');
  const after = (await as('GET', '/api/git/repos/acme/shop/changes/1')).body;
  assert.deepEqual(after.commits.map((c: any) => c.subject), ['Ten percent', 'Add discounts'], 'a merged change still shows what it brought');
  assert.equal(after.comments[0].body, 'Looks good', 'and its comments');
  const types = ['git.change.opened', 'git.change.merged'];
  for (const type of types) assert.ok((await events(type)).some((e) => e.subject === 'git:acme/shop#1'), `${type} event`);
  assert.ok((await events('git.pushed')).some((e) => e.payload.ref === 'refs/heads/main' && e.payload.after === merged.body.mergeSha), 'the merge is a push to main');
  assert.equal((await as('POST', '/api/git/repos/acme/shop/changes/1/merge')).body.error.code, 'CHANGE_NOT_OPEN', 'merged once');
});

test('a conflicting change is refused with the files; its author closes it', async () => {
  await git(dir, 'fetch', '-q', 'origin');
  await git(dir, 'checkout', '-qB', 'main', 'origin/main');
  await git(dir, 'checkout', '-qb', 'feature/rename');
  await commit('a.txt', 'one\nTWO\nthree\n', 'Shout two');
  await git(dir, 'push', '-q', 'origin', 'feature/rename');
  await git(dir, 'checkout', '-q', 'main');
  await commit('a.txt', 'one\n2\nthree\n', 'Digit two');
  await git(dir, 'push', '-q', 'origin', 'main');
  const as = pave.apiAs(alice);
  const opened = await as('POST', '/api/git/repos/acme/shop/changes', { title: 'Rename', sourceBranch: 'feature/rename' });
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  const n = opened.body.number;
  const details = (await as('GET', `/api/git/repos/acme/shop/changes/${n}`)).body;
  assert.deepEqual({ mergeable: details.mergeable, conflicts: details.conflicts }, { mergeable: false, conflicts: ['a.txt'] }, 'the conflict is shown');
  const refused = await as('POST', `/api/git/repos/acme/shop/changes/${n}/merge`);
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, 'CHANGE_CONFLICTS', 'a stable code');
  assert.deepEqual(refused.body.error.details.files, ['a.txt'], 'naming the files');
  assert.equal((await pave.apiAs(bob)('POST', `/api/git/repos/acme/shop/changes/${n}/close`)).status, 403, 'a stranger may not close it');
  const closed = await as('POST', `/api/git/repos/acme/shop/changes/${n}/close`);
  assert.equal(closed.body.status, 'closed', 'its author may');
  assert.ok((await events('git.change.closed')).some((e) => e.subject === `git:acme/shop#${n}`), 'closed event');
  assert.deepEqual((await as('GET', '/api/git/repos/acme/shop/changes?status=open')).body.items, [], 'nothing open');
});
