// Browser test of change requests (pull requests) on a repository Pave hosts: branches pushed with
// the real git client; a change request opened from the repository page, its commit, file, diff
// and comments read, then merged into main; a conflicting one cannot be merged, and is closed.
//
// Run: node scripts/test.js test/e2e/portal-changes.test.ts
// Every assert.ok here carries a message: without one, node:assert reads and re-parses the
// transpiled source to describe the failed expression, which can block the process for minutes.
// Needs Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium) and git.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { adminPortal, requireChromium } from '../../src/testing/browser.ts';
import { startTestPave, TEST_ADMIN_PASSWORD, type TestPave } from '../../src/testing/pave.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCREENSHOT_DIR = process.env.PAVE_SCREENSHOT_DIR ?? '/tmp';
const STEP_TIMEOUT = 20_000;
const TEST_TIMEOUT = { timeout: 60_000 };

let pave: TestPave;
let browser: Browser;
let context: BrowserContext;
let work: string;
let clone: string;

// ---------------------------------------------------------------- helpers

async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent({ timeout: STEP_TIMEOUT })) ?? '').trim();
}

async function newPage(): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on('pageerror', (err) => console.error('[browser pageerror]', err.message));
  return page;
}

/** The real git client, asynchronously: the server answering it runs in this process. */
function git(cwd: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(
      'git',
      ['-c', 'user.name=Alice', '-c', 'user.email=alice@example.com', '-c', 'init.defaultBranch=main', ...args],
      { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' } },
      (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }),
    ),
  );
}

async function gitOk(cwd: string, ...args: string[]): Promise<string> {
  const res = await git(cwd, ...args);
  assert.equal(res.code, 0, `git ${args.join(' ')}: ${res.out}`);
  return res.out.trim();
}

/** Writes files and commits them on the branch that is checked out. */
async function commit(files: Record<string, string>, message: string): Promise<string> {
  for (const [file, content] of Object.entries(files)) await writeFile(path.join(clone, file), content);
  await gitOk(clone, 'add', '-A');
  await gitOk(clone, 'commit', '-qm', message);
  return gitOk(clone, 'rev-parse', 'HEAD');
}

// ---------------------------------------------------------------- setup: acme/shop with three branches

before(async () => {
  requireChromium();
  work = await mkdtemp(path.join(tmpdir(), 'pave-e2e-changes-'));
  pave = await startTestPave();
  const created = await pave.api('POST', '/api/git/repos', { org: 'acme', name: 'shop', description: 'The shop', owner: 'user:default/admin' });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  // main: a README and the app; feature/x: one more line of the app;
  // feature/conflict and main then both change the README's first line.
  clone = path.join(work, 'shop');
  await gitOk(work, 'init', '-q', '-b', 'main', clone);
  await gitOk(clone, 'remote', 'add', 'origin', `${pave.url}/git/acme/shop.git`.replace('http://', `http://pave:${encodeURIComponent(pave.token)}@`));
  await commit({ 'README.md': '# shop\n', 'app.txt': 'hello main\n' }, 'Start the shop');
  await gitOk(clone, 'push', '-q', 'origin', 'main');
  await gitOk(clone, 'checkout', '-qb', 'feature/x');
  await commit({ 'app.txt': 'hello main\nhello feature\n' }, 'Say hello from the feature');
  await gitOk(clone, 'push', '-q', 'origin', 'feature/x');
  await gitOk(clone, 'checkout', '-qb', 'feature/conflict', 'main');
  await commit({ 'README.md': '# the conflicting shop\n' }, 'Rename the shop one way');
  await gitOk(clone, 'push', '-q', 'origin', 'feature/conflict');
  await gitOk(clone, 'checkout', '-q', 'main');
  await commit({ 'README.md': '# the main shop\n' }, 'Rename the shop another way');
  await gitOk(clone, 'push', '-q', 'origin', 'main');

  ({ browser, context } = await adminPortal(ROOT, pave.url, TEST_ADMIN_PASSWORD));
});

after(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await pave?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------- tests

test('a change request is opened from the repository page, reviewed, commented on and merged into main', TEST_TIMEOUT, async () => {
  const page = await newPage();
  await page.goto('/repos/acme/shop');
  await page.getByTestId('repo-title').waitFor();
  assert.equal(await text(page.getByTestId('repo-changes-open')), '0', 'no change request is open yet');
  await page.getByTestId('repo-changes').click();
  await page.waitForURL('**/repos/acme/shop/changes');
  await page.getByTestId('change-empty').waitFor();

  // The form: from feature/x into the default branch.
  await page.getByTestId('change-new').click();
  await page.getByRole('combobox', { name: 'Merge changes from' }).click();
  await page.getByRole('option', { name: 'feature/x', exact: true }).click();
  assert.equal(await page.getByRole('combobox', { name: 'Into' }).inputValue(), 'main', 'the target is the default branch');
  await page.getByTestId('change-title').fill('Say hello from the feature');
  await page.getByTestId('change-description').fill('One more <b>line</b>.');
  await page.getByTestId('change-submit').click();
  await page.waitForURL('**/repos/acme/shop/changes/1');

  // What it brings: its commit, its file, the added line in the diff; the description as text.
  await page.locator('[data-testid="change-status"][data-status="open"]').waitFor();
  assert.equal(await text(page.getByTestId('change-heading')), 'Say hello from the feature #1', 'the title and number');
  assert.equal(await text(page.getByTestId('change-source-branch')), 'feature/x', 'the source branch');
  assert.equal(await text(page.getByTestId('change-target-branch')), 'main', 'the target branch');
  assert.equal(await text(page.getByTestId('change-description-text')), 'One more <b>line</b>.', 'the description is text, never HTML');
  const commits = page.getByTestId('change-commit');
  assert.equal(await commits.count(), 1, 'one commit');
  assert.ok((await text(commits.first())).includes('Say hello from the feature'), 'the commit subject is listed');
  const file = page.locator('[data-testid="change-file"][data-path="app.txt"]');
  assert.ok((await text(file)).includes('+1'), `the file with its additions: ${await text(file)}`);
  assert.equal(await page.getByTestId('change-file').count(), 1, 'only app.txt changed');
  const added = page.locator('[data-testid="change-diff"] [data-testid="change-diff-file"][data-path="app.txt"] tr[data-kind="add"]');
  await added.first().waitFor();
  assert.equal(await added.count(), 1, 'one added line');
  assert.ok((await text(added)).includes('hello feature'), `the added line is shown: ${await text(added)}`);
  assert.equal(await page.locator('[data-testid="change-diff"] tr[data-kind="del"]').count(), 0, 'nothing removed');
  assert.equal(await page.getByTestId('change-conflicts').count(), 0, 'no conflicts');

  // A comment.
  await page.getByTestId('change-comment-input').fill('Looks good to me');
  await page.getByTestId('change-comment-submit').click();
  await page.getByTestId('change-comment').filter({ hasText: 'Looks good to me' }).waitFor();
  assert.equal(await page.getByTestId('change-comment-input').inputValue(), '', 'the comment box is emptied');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-change-open.png'), fullPage: true });

  // Merge.
  const merge = page.getByTestId('change-merge');
  assert.ok(await merge.isEnabled(), 'the owner can merge a clean change');
  await merge.click();
  await page.locator('[data-testid="change-status"][data-status="merged"]').waitFor();
  assert.equal(await page.getByTestId('change-merge').count(), 0, 'a merged change has no Merge button');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-change-merged.png'), fullPage: true });

  // main's newest commit is the merge, with both parents.
  const change = (await pave.api('GET', '/api/git/repos/acme/shop/changes/1')).body;
  assert.equal(change.status, 'merged', 'the API says merged');
  assert.ok(typeof change.mergeSha === 'string' && change.mergeSha.length === 40, `a merge commit is recorded: ${change.mergeSha}`);
  const latest = (await pave.api('GET', '/api/git/repos/acme/shop/commits?ref=main&limit=1')).body.items[0];
  assert.equal(latest.sha, change.mergeSha, 'main points at the merge commit');
  assert.ok(latest.subject.startsWith('Merge change request #1 from feature/x'), `the merge commit names the change: ${latest.subject}`);
  await gitOk(clone, 'fetch', '-q', 'origin');
  const parents = (await gitOk(clone, 'rev-list', '--parents', '-n', '1', 'origin/main')).split(' ');
  assert.equal(parents.length, 3, `the merge has two parents: ${parents.join(' ')}`);
  assert.equal(parents[2], await gitOk(clone, 'rev-parse', 'origin/feature/x'), 'its second parent is feature/x');

  // The list: under Merged, not under Open.
  await page.getByRole('link', { name: 'Change requests', exact: true }).click();
  await page.waitForURL('**/repos/acme/shop/changes');
  await page.getByTestId('change-empty').waitFor();
  await page.locator('[data-testid="change-tab"][data-status="merged"]').click();
  await page.locator('[data-testid="change-row"][data-number="1"][data-status="merged"]').waitFor();
  await page.close();
});

test('a change request with conflicts lists them and cannot be merged; it is closed', TEST_TIMEOUT, async () => {
  const opened = await pave.api('POST', '/api/git/repos/acme/shop/changes', { title: 'Rename the shop', sourceBranch: 'feature/conflict' });
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  const number = opened.body.number as number;

  const page = await newPage();
  await page.goto('/repos/acme/shop');
  assert.equal(await text(page.getByTestId('repo-changes-open')), '1', 'the repository page counts the open change request');
  await page.getByTestId('repo-changes').click();
  await page.locator(`[data-testid="change-row"][data-number="${number}"]`).getByRole('link', { name: 'Rename the shop' }).click();
  await page.waitForURL(`**/repos/acme/shop/changes/${number}`);

  const conflicts = page.getByTestId('change-conflicts');
  await conflicts.waitFor();
  assert.ok((await text(conflicts)).includes('README.md'), `the conflicting file is named: ${await text(conflicts)}`);
  assert.ok(await page.getByTestId('change-merge').isDisabled(), 'Merge is disabled');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-change-conflicts.png'), fullPage: true });

  await page.getByTestId('change-close').click();
  await page.locator('[data-testid="change-status"][data-status="closed"]').waitFor();
  assert.equal(await page.getByTestId('change-merge').count(), 0, 'a closed change has no Merge button');
  assert.equal((await pave.api('GET', `/api/git/repos/acme/shop/changes/${number}`)).body.status, 'closed', 'the API says closed');
  await page.close();
});
