// Browser test of the portal's golden paths: a template is run from its form (EntityNamePicker,
// OwnerPicker, a Secret), the run is followed live to its output, the new component opens in the
// catalog, its repository is browsed, cloned and pushed to with the real git client; a taken
// name is refused; the template editor dry-runs a template written in the page.
//
// Run: node scripts/test.js test/e2e/portal-create.test.ts
// Every assert.ok here carries a message: without one, node:assert reads and re-parses the
// transpiled source to describe the failed expression, which can block the process for minutes.
// Needs Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium) and git.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { adminPortal, requireChromium, untilPasses } from '../../src/testing/browser.ts';
import { eventually, startTestPave, TEST_ADMIN_PASSWORD, type TestPave } from '../../src/testing/pave.ts';
import { NODE_SERVICE_SKELETON, NODE_SERVICE_TEMPLATE } from './fixtures/node-service.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCREENSHOT_DIR = process.env.PAVE_SCREENSHOT_DIR ?? '/tmp';
const STEP_TIMEOUT = 20_000;
const RUN_TIMEOUT = 60_000;
const TEST_TIMEOUT = { timeout: 90_000 };
const SECRET = 'sk-very-secret-123';

let pave: TestPave;
let browser: Browser;
let context: BrowserContext;
let work: string;

// ---------------------------------------------------------------- fixture: a team and a template

const ORG = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-a, title: Team A }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: alice }
spec: { memberOf: [team-a] }
`;

const TEMPLATE = NODE_SERVICE_TEMPLATE;

const SKELETON = NODE_SERVICE_SKELETON;

/** What the editor test writes in the page: one field, one skeleton file. */
const EDITOR_TEMPLATE = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: greeting
spec:
  parameters:
    - title: Greeting
      required: [who]
      properties:
        who: { type: string, title: Who }
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
        values: { who: '\${{ parameters.who }}' }
`;

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

function git(cwd: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile('git', args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' } }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, out: stdout + stderr }),
    ),
  );
}

/** Picks `label` in a Mantine select (the pickers): opens it, types, clicks the option. */
async function pick(page: Page, input: Locator, typed: string, option: string) {
  await input.click();
  await input.fill(typed);
  await page.getByRole('option').filter({ hasText: option }).first().click();
}

/** Fills the first page of the template's form. */
async function fillAbout(page: Page, name: string) {
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
  await pick(page, page.getByRole('combobox', { name: 'Owner', exact: true }), 'team', 'team-a');
}

// ---------------------------------------------------------------- setup

before(async () => {
  requireChromium();
  work = await mkdtemp(path.join(tmpdir(), 'pave-e2e-create-'));
  await writeFile(path.join(work, 'org.yaml'), ORG);
  await writeFile(path.join(work, 'template.yaml'), TEMPLATE);
  for (const [file, content] of Object.entries(SKELETON)) {
    await mkdir(path.dirname(path.join(work, 'skeleton', file)), { recursive: true });
    await writeFile(path.join(work, 'skeleton', file), content);
  }
  pave = await startTestPave();
  for (const file of ['org.yaml', 'template.yaml']) {
    const res = await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(work, file) });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  await eventually(async () => ((await pave.api('GET', '/api/catalog/entities/by-name/template/default/node-service')).status === 200 ? true : undefined), STEP_TIMEOUT, 'the template');
  await eventually(async () => ((await pave.api('GET', '/api/catalog/entities/by-name/group/default/team-a')).status === 200 ? true : undefined), STEP_TIMEOUT, 'the team');

  ({ browser, context } = await adminPortal(ROOT, pave.url, TEST_ADMIN_PASSWORD));
});

after(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await pave?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------- tests

test('a template runs from its form; the run is followed live to the new component, and its repository is cloned and pushed to', TEST_TIMEOUT, async () => {
  const page = await newPage();

  // The Create page: the template's card, from the navigation.
  await page.goto('/catalog');
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: /Create/ }).click();
  await page.waitForURL('**/create');
  const card = page.locator('[data-testid="template-card"][data-template="default/node-service"]');
  await card.waitFor();
  const cardText = await text(card);
  for (const part of ['Node service', 'A small HTTP service', 'node', 'team-a', 'service']) assert.ok(cardText.includes(part), `the card shows ${part}: ${cardText}`);
  await card.getByRole('link', { name: 'Choose Node service' }).click();
  await page.waitForURL('**/create/templates/default/node-service');
  await page.getByTestId('template-title').waitFor();

  // Page 1: the form's own checks first, then valid values.
  await page.getByTestId('form-next').click();
  const nameError = page.locator('[data-field="name"] [data-testid="field-error"]');
  assert.ok((await text(nameError)).includes('is required'), 'a missing name is refused beside the field');
  assert.ok((await text(page.locator('[data-field="owner"] [data-testid="field-error"]'))).includes('is required'), 'so is a missing owner');
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Not Valid!');
  await page.getByTestId('form-next').click();
  await untilPasses(async () => assert.ok((await text(nameError)).includes('must'), `the name's pattern is checked: ${await text(nameError)}`));
  await fillAbout(page, 'payments');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-create-form.png') });
  await page.getByTestId('form-next').click();

  // Page 2: the secret, then the review, where it is masked.
  await page.getByLabel('API key').fill(SECRET);
  await page.getByTestId('form-next').click();
  const review = page.getByTestId('review');
  await review.waitFor();
  assert.equal(await text(review.locator('[data-field="name"] td').first()), 'payments', 'the review lists the name');
  assert.equal(await text(review.locator('[data-field="owner"] td').first()), 'group:default/team-a', 'and the owner, as a full ref');
  const reviewed = await text(review);
  assert.ok(!reviewed.includes(SECRET) && reviewed.includes('••••'), `the secret is masked in the review: ${reviewed}`);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-create-review.png') });
  await page.getByTestId('form-create').click();

  // The run, live: every step's status and log, then the output.
  await page.waitForURL(/\/create\/tasks\/[0-9a-f-]{36}$/);
  const taskId = page.url().split('/').pop()!;
  await page.locator('[data-testid="task-status"][data-status="completed"]').waitFor({ timeout: RUN_TIMEOUT });
  for (const step of ['fetch', 'log', 'publish', 'register']) {
    assert.equal(await page.locator(`[data-testid="task-step"][data-step-id="${step}"]`).getAttribute('data-status'), 'completed', `step ${step} completed`);
    assert.ok((await text(page.locator(`[data-testid="task-log"][data-step-id="${step}"]`))).includes('Finished step'), `step ${step} shows its log`);
  }
  assert.equal(await page.locator('[data-testid="task-step"][data-step-id="wait"]').getAttribute('data-status'), 'skipped', 'the wait step was skipped by its if');
  assert.ok((await text(page.locator('[data-testid="task-log"][data-step-id="log"]'))).includes('Key is *** for payments'), 'the secret reached the run, masked in its log');
  assert.ok(!(await page.content()).includes(SECRET), 'the secret is nowhere on the page');
  const task = (await pave.api('GET', `/api/scaffolder/v2/tasks/${taskId}`)).body;
  assert.ok(!JSON.stringify(task).includes(SECRET), 'nor in the stored task');
  const repoLink = page.locator('[data-testid="task-output-link"][data-url$="/git/acme/payments.git"]');
  assert.equal(await repoLink.getAttribute('href'), '/repos/acme/payments', "a url link to this Pave's git server opens the repository's page");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-create-task.png'), fullPage: true });

  // "My runs" lists it.
  await page.goto('/create/tasks');
  assert.equal(await page.locator(`[data-testid="task-row"][data-task-id="${taskId}"]`).getAttribute('data-status'), 'completed', 'my runs list the run');
  await page.goBack();

  // The output link opens the new component; its repository is linked from there.
  await page.locator('[data-testid="task-output-link"][data-entity-ref="component:default/payments"]').click();
  await page.waitForURL('**/catalog/default/component/payments');
  assert.equal(await text(page.getByTestId('entity-title')), 'payments', 'the new component is in the catalog');
  await page.getByTestId('entity-repository').click();
  await page.waitForURL('**/repos/acme/payments');

  // The repository: clone URL, files, README, a folder and a file.
  const tree = page.getByTestId('repo-tree');
  await tree.locator('[data-testid="repo-entry"][data-path="catalog-info.yaml"]').waitFor();
  await tree.locator('[data-testid="repo-entry"][data-path="src"][data-type="tree"]').waitFor();
  const readme = page.getByTestId('repo-readme');
  await readme.getByRole('heading', { name: 'payments' }).waitFor();
  assert.ok((await text(readme)).includes('Owned by group:default/team-a.'), 'the README is rendered');
  const cloneUrl = await page.getByLabel('Clone over HTTP').inputValue();
  assert.equal(cloneUrl, `${pave.url}/git/acme/payments.git`, 'the clone URL is shown');
  await tree.getByRole('link', { name: 'src' }).click();
  await tree.getByRole('link', { name: 'index.ts' }).click();
  assert.equal(await text(page.getByTestId('repo-file')), "export const name = 'payments';", 'a file is shown as text');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-repo.png'), fullPage: true });

  // The real git client: clone with a token, commit, push.
  const clone = path.join(work, 'payments-clone');
  const cloned = await git(work, 'clone', '-q', cloneUrl.replace('http://', `http://pave:${encodeURIComponent(pave.token)}@`), clone);
  assert.equal(cloned.code, 0, cloned.out);
  const readmeFile = path.join(clone, 'README.md');
  await writeFile(readmeFile, `${await readFile(readmeFile, 'utf8')}\nPushed from the browser test.\n`);
  const committed = await git(clone, '-c', 'user.name=Alice', '-c', 'user.email=alice@example.com', 'commit', '-qam', 'Say where it came from');
  assert.equal(committed.code, 0, committed.out);
  const pushed = await git(clone, 'push', '-q', 'origin', 'HEAD:main');
  assert.equal(pushed.code, 0, pushed.out);
  const sha = (await git(clone, 'rev-parse', 'HEAD')).out.trim();
  await eventually(async () => {
    const events = (await pave.api('GET', '/api/events?type=git.pushed&subject=git:acme/payments')).body.items as Array<{ payload: { after: string; files: string[] } }>;
    return events.find((e) => e.payload.after === sha && e.payload.files.includes('README.md'));
  }, STEP_TIMEOUT, 'the git.pushed event');

  await page.goto('/repos/acme/payments');
  const latest = page.getByTestId('repo-commit').first();
  await untilPasses(async () => assert.equal(await latest.getAttribute('data-sha'), sha, 'the new commit is listed first'));
  assert.ok((await text(latest)).includes('Say where it came from'), 'with its subject');
  assert.ok((await text(page.getByTestId('repo-readme'))).includes('Pushed from the browser test.'), 'the README shows the pushed change');
  await page.close();
});

test('a taken repository name is refused before anything runs, beside the name', TEST_TIMEOUT, async () => {
  await eventually(async () => ((await pave.api('GET', '/api/git/repos/acme/payments')).status === 200 ? true : undefined), STEP_TIMEOUT, 'acme/payments');
  const page = await newPage();
  await page.goto('/create/templates/default/node-service');
  await fillAbout(page, 'payments');
  await page.getByTestId('form-next').click();
  await page.getByTestId('form-next').click();
  await page.getByTestId('form-create').click();
  const error = page.getByTestId('create-error');
  await error.waitFor();
  assert.equal(await error.getAttribute('data-code'), 'GIT_REPO_EXISTS', 'the conflict is named');
  assert.ok((await text(error)).includes('acme/payments already exists'), `it says which repository: ${await text(error)}`);
  assert.ok((await text(page.locator('[data-field="name"] [data-testid="field-error"]'))).includes('already exists'), 'the name field says so, on the first page');
  assert.ok(/\/create\/templates\//.test(page.url()), 'no run was opened');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-create-conflict.png') });
  await page.close();
});

test('a running run is cancelled from its page, and retried', TEST_TIMEOUT, async () => {
  const page = await newPage();
  await page.goto('/create/templates/default/node-service');
  await fillAbout(page, 'slow');
  await page.getByTestId('form-next').click();
  await page.getByRole('spinbutton', { name: 'Seconds to wait' }).fill('30');
  await page.getByTestId('form-next').click();
  await page.getByTestId('form-create').click();
  await page.waitForURL(/\/create\/tasks\/[0-9a-f-]{36}$/);
  const wait = page.locator('[data-testid="task-step"][data-step-id="wait"]');
  await page.locator('[data-testid="task-step"][data-step-id="wait"][data-status="processing"]').waitFor();
  await page.getByTestId('task-cancel').click();
  await page.locator('[data-testid="task-status"][data-status="cancelled"]').waitFor();
  await untilPasses(async () => assert.equal(await wait.getAttribute('data-status'), 'cancelled', 'the running step stops'));
  assert.equal(await page.locator('[data-testid="task-step"][data-step-id="publish"]').getAttribute('data-status'), 'open', 'later steps never ran');

  await page.getByTestId('task-retry').click();
  await page.locator('[data-testid="task-step"][data-step-id="wait"][data-status="processing"]').waitFor();
  assert.equal(await page.getByTestId('task-status').getAttribute('data-status'), 'processing', 'the run is running again');
  await page.getByTestId('task-cancel').click();
  await page.locator('[data-testid="task-status"][data-status="cancelled"]').waitFor();
  await page.close();
});

test('the template editor previews the form of pasted YAML and dry-runs it with files written in the page', TEST_TIMEOUT, async () => {
  const page = await newPage();
  await page.goto('/create/edit');
  await page.getByRole('textbox', { name: 'template.yaml' }).fill(EDITOR_TEMPLATE);
  const preview = page.getByTestId('editor-preview');
  await preview.getByRole('textbox', { name: 'Who', exact: true }).fill('world');

  // The sample skeleton is replaced by one file of this test.
  const file = page.getByTestId('editor-file').first();
  await file.getByLabel('Path').fill('skeleton/hello.txt');
  await file.getByRole('textbox', { name: /^Content of/ }).fill('Hello, ${{ values.who }}!');
  await page.getByTestId('editor-dry-run').click();

  const result = page.getByTestId('dry-run-result');
  await result.waitFor();
  assert.equal(await result.getAttribute('data-failed'), 'false', `the dry run succeeds: ${await text(page.getByTestId('dry-run-log'))}`);
  await result.locator('[data-testid="dry-run-file"][data-path="hello.txt"]').click();
  assert.equal(await text(page.locator('[data-testid="dry-run-file-content"][data-path="hello.txt"]')), 'Hello, world!', 'the produced file is rendered');
  assert.ok((await text(page.getByTestId('dry-run-log'))).includes('fetch'), 'the log names the step');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-template-editor.png'), fullPage: true });
  await page.close();
});

test("Pave's built-in golden path runs from the portal: a Python service with a requested PostgreSQL database, its docs built, its repository cloned and pushed to", TEST_TIMEOUT, async () => {
  const added = await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(ROOT, 'templates/production-microservice/template.yaml') });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  await eventually(async () => ((await pave.api('GET', '/api/catalog/entities/by-name/template/default/production-microservice')).status === 200 ? true : undefined), STEP_TIMEOUT, 'the built-in template');
  // The owner: the test org's group (registered in before()).
  assert.equal((await pave.api('GET', '/api/catalog/entities/by-name/group/default/team-a')).status, 200, 'the group that will own the service is in the catalog');

  const page = await newPage();
  await page.goto('/create');
  const card = page.locator('[data-testid="template-card"][data-template="default/production-microservice"]');
  await card.getByRole('link', { name: 'Choose Production microservice' }).click();
  await page.waitForURL('**/create/templates/default/production-microservice');
  assert.equal(await text(page.getByTestId('template-title')), 'Production microservice', 'the form of the built-in template opens');

  // Page 1, Service: name, description, owner (the optional system is left empty).
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('orders-api');
  await page.getByRole('textbox', { name: 'Description', exact: true }).fill('Takes and tracks orders');
  await pick(page, page.getByRole('combobox', { name: 'Owner', exact: true }), 'team', 'team-a');
  await page.getByTestId('form-next').click();

  // Page 2, Technology: Python and a PostgreSQL database.
  await page.getByRole('heading', { name: 'Technology' }).waitFor();
  await page.getByRole('combobox', { name: 'Language', exact: true }).click();
  await page.getByRole('option', { name: 'Python', exact: true }).click();
  await page.getByRole('combobox', { name: 'Database', exact: true }).click();
  await page.getByRole('option', { name: /^PostgreSQL/ }).click();
  await page.getByTestId('form-next').click();

  // Page 3, Repository: the RepoUrlPicker's owner and name on this Pave.
  const picker = page.getByTestId('repo-url-picker');
  await picker.getByRole('textbox', { name: 'Owner' }).fill('acme');
  await picker.getByRole('textbox', { name: 'Repository' }).fill('orders-api');
  await picker.getByText('/git/acme/orders-api.git').waitFor();
  await page.getByTestId('form-next').click();

  // The review, then Create.
  const review = page.getByTestId('review');
  await review.waitFor();
  const reviewed = async (field: string) => text(review.locator(`[data-field="${field}"] td`).first());
  assert.equal(await reviewed('name'), 'orders-api', 'the review lists the name');
  assert.equal(await reviewed('owner'), 'group:default/team-a', 'the owner, as a full ref');
  assert.equal(await reviewed('language'), 'python', 'the language');
  assert.equal(await reviewed('database'), 'postgresql', 'the database');
  assert.ok((await reviewed('repoUrl')).endsWith('?owner=acme&repo=orders-api'), `and the repository: ${await reviewed('repoUrl')}`);
  await page.getByTestId('form-create').click();

  // The run, to its end; its output opens the new component.
  await page.waitForURL(/\/create\/tasks\/[0-9a-f-]{36}$/);
  await page.locator('[data-testid="task-status"][data-status="completed"]').waitFor({ timeout: RUN_TIMEOUT });
  for (const step of ['fetch-base', 'fetch-language', 'publish', 'register']) {
    assert.equal(await page.locator(`[data-testid="task-step"][data-step-id="${step}"]`).getAttribute('data-status'), 'completed', `step ${step} completed`);
  }
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-golden-path-task.png'), fullPage: true });
  await page.locator('[data-testid="task-output-link"][data-entity-ref="component:default/orders-api"]').click();
  await page.waitForURL('**/catalog/default/component/orders-api');
  assert.equal(await text(page.getByTestId('entity-title')), 'orders-api', 'the new component is in the catalog');
  await page.close();

  // The catalog: the component depends on the database it requested, recorded as a Resource.
  const component = (await pave.api('GET', '/api/catalog/entities/by-name/component/default/orders-api')).body;
  assert.equal(component.spec.owner, 'group:default/team-a', 'the component is owned by the group');
  const dependsOn = (component.spec.dependsOn ?? []) as string[];
  assert.ok(dependsOn.some((r) => ['resource:orders-api-db', 'resource:default/orders-api-db'].includes(r)), `the component depends on its database: ${JSON.stringify(dependsOn)}`);
  const db = await eventually(async () => {
    const res = await pave.api('GET', '/api/catalog/entities/by-name/resource/default/orders-api-db');
    return res.status === 200 ? res.body : undefined;
  }, STEP_TIMEOUT, 'the requested database');
  assert.equal(db.spec.type, 'database', 'the resource is a database');
  assert.equal(db.metadata.annotations?.['pave.dev/provisioning'], 'requested', 'recorded as requested from the platform');

  // The real git client: the generated files are there; a change to the docs is pushed.
  const clone = path.join(work, 'orders-api-clone');
  const cloned = await git(work, 'clone', '-q', `${pave.url}/git/acme/orders-api.git`.replace('http://', `http://pave:${encodeURIComponent(pave.token)}@`), clone);
  assert.equal(cloned.code, 0, cloned.out);
  const files = (await git(clone, 'ls-files')).out.split('\n').filter(Boolean);
  for (const file of ['catalog-info.yaml', '.pave/pipeline.yaml', 'mkdocs.yml', 'docs/index.md', 'Dockerfile', 'orders_api/__init__.py', 'orders_api/server.py', 'tests/test_server.py']) {
    assert.ok(files.includes(file), `the repository has ${file}: ${files.join(', ')}`);
  }
  assert.ok(!files.some((f) => f.endsWith('.ts') || f === 'go.mod' || f === 'Cargo.toml'), `and no other language's files: ${files.join(', ')}`);
  const docsFile = path.join(clone, 'docs/index.md');
  await writeFile(docsFile, `${await readFile(docsFile, 'utf8')}\nPushed by the golden path test.\n`);
  const committed = await git(clone, '-c', 'user.name=Alice', '-c', 'user.email=alice@example.com', 'commit', '-qam', 'Document where it came from');
  assert.equal(committed.code, 0, committed.out);
  const pushed = await git(clone, 'push', '-q', 'origin', 'HEAD:main');
  assert.equal(pushed.code, 0, pushed.out);
  const sha = (await git(clone, 'rev-parse', 'HEAD')).out.trim();
  const event = await eventually(async () => {
    const events = (await pave.api('GET', '/api/events?type=git.pushed&subject=git:acme/orders-api')).body.items as Array<{ payload: { ref: string; after: string; files: string[] } }>;
    return events.find((e) => e.payload.after === sha);
  }, STEP_TIMEOUT, 'the git.pushed event');
  assert.ok(['main', 'refs/heads/main'].includes(event.payload.ref), `the push went to main: ${event.payload.ref}`);
  assert.deepEqual(event.payload.files, ['docs/index.md'], 'the event lists the changed file');

  // The docs of the new component are built, with the pushed change.
  const docs = await eventually(async () => {
    const res = await pave.api('GET', '/api/docs/default/component/orders-api');
    return res.status === 200 && res.body.status === 'ready' ? res.body : undefined;
  }, 30_000, 'the docs of orders-api');
  assert.ok((docs.pages as Array<{ slug: string }>).some((p) => p.slug === ''), `the docs have a home page: ${JSON.stringify(docs.pages)}`);
  await eventually(async () => {
    const res = await pave.api('GET', '/api/docs/default/component/orders-api/pages/');
    return res.status === 200 && String(res.body.html).includes('Pushed by the golden path test.') ? true : undefined;
  }, 30_000, 'the docs rebuilt with the pushed change');
});
