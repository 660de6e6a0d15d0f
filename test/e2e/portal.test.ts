// Browser test of the Pave portal: starts Pave in-process with the demo organisation, signs in
// as the admin, drives the built portal (dist/web) with headless Chromium and checks real behaviour.
//
// Run: node --import tsx --test test/e2e/portal.test.ts
// Every assert.ok here carries a message: without one, node:assert reads and re-parses the
// transpiled source to describe the failed expression, which can block the process for minutes.
// Needs Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { adminPortal, requireChromium, untilPasses } from '../../src/testing/browser.ts';
import { startTestPave, TEST_ADMIN_PASSWORD, type TestPave } from '../../src/testing/pave.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCREENSHOT_DIR = process.env.PAVE_SCREENSHOT_DIR ?? '/tmp';
const STEP_TIMEOUT = 20_000;
const TEST_TIMEOUT = { timeout: 120_000 };

let pave: TestPave;
let browser: Browser;
let context: BrowserContext;
let workDir: string;

// ---------------------------------------------------------------- helpers


async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent({ timeout: STEP_TIMEOUT })) ?? '').trim();
}

async function totalItems(page: Page): Promise<number> {
  const t = await text(page.getByTestId('total-items'));
  const n = Number(t.replace(/[^0-9]/g, ''));
  assert.ok(t !== '' && t !== '…' && Number.isFinite(n), `total items shown: "${t}"`);
  return n;
}

async function rowNames(page: Page): Promise<string[]> {
  return page
    .getByTestId('entity-row')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-entity-name') ?? ''));
}

/** Waits until the catalog table shows `expected` total items and the rows are settled. */
async function waitForTotal(page: Page, expected: number) {
  await untilPasses(
    async () => {
      assert.equal(await totalItems(page), expected);
      const rows = await page.getByTestId('entity-row').count();
      assert.equal(rows, Math.min(expected, 50));
    },
    STEP_TIMEOUT,
    `${expected} catalog items`,
  );
}

async function newPage(): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on('pageerror', (err) => console.error('[browser pageerror]', err.message));
  return page;
}

async function pickFacet(page: Page, label: string, option: RegExp) {
  const input = page.getByRole('combobox', { name: label, exact: true });
  await input.click();
  await page.getByRole('option', { name: option }).first().click();
  await page.keyboard.press('Escape');
}

interface DemoEntity {
  kind: string;
  metadata: { name: string; description?: string };
  spec?: { owner?: string; targets?: string[]; target?: string };
}

/** Reads the demo organisation the same way Pave does: from examples/all.yaml and its targets. */
async function readDemo(): Promise<DemoEntity[]> {
  const out: DemoEntity[] = [];
  const seen = new Set<string>();
  const visit = async (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const docs = parseAllDocuments(await readFile(file, 'utf8'));
    for (const doc of docs) {
      const e = doc.toJS() as DemoEntity | null;
      if (!e || typeof e !== 'object') continue;
      out.push(e);
      if (e.kind === 'Location') {
        for (const t of [...(e.spec?.targets ?? []), ...(e.spec?.target ? [e.spec.target] : [])]) {
          await visit(path.resolve(path.dirname(file), t));
        }
      }
    }
  };
  await visit(path.join(ROOT, 'examples/all.yaml'));
  return out;
}

function ownerName(owner: string | undefined): string {
  return (owner ?? '').replace(/^[^:]*:/, '').replace(/^[^/]*\//, '');
}

async function api<T>(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${pave.url}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${pave.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(STEP_TIMEOUT),
  });
  const txt = await res.text();
  return { status: res.status, body: (txt ? JSON.parse(txt) : undefined) as T };
}

// ---------------------------------------------------------------- setup

before(async () => {
  requireChromium();
  workDir = await mkdtemp(path.join(tmpdir(), 'pave-e2e-files-'));
  // A fresh store of the backend under test (npm test runs every file on PGlite, then on PostgreSQL).
  pave = await startTestPave({ demo: true, waitForCatalog: true });
  ({ browser, context } = await adminPortal(ROOT, pave.url, TEST_ADMIN_PASSWORD));
});

after(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await pave?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- tests

test('catalog table lists the demo entities with server-side facets, search and cursor paging', TEST_TIMEOUT, async () => {
  const demo = await readDemo();
  const components = demo.filter((e) => e.kind === 'Component');
  const paymentsComponents = components.filter((e) => ownerName(e.spec?.owner) === 'team-payments');
  assert.ok(components.length >= 10 && paymentsComponents.length >= 2, 'demo data has components to test with');

  const page = await newPage();
  await page.goto('/');
  await page.getByRole('heading', { name: 'Catalog', level: 2 }).waitFor();

  // The layout: header with the Pave name and the admin's menu, navigation with the pages an admin may use.
  await page.getByRole('heading', { name: 'Pave', level: 1 }).waitFor();
  assert.equal(await text(page.getByTestId('user-name')), 'admin', 'the header shows who is signed in');
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  const hrefs = await nav.getByRole('link').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  assert.deepEqual(hrefs, ['/catalog', '/docs', '/create', '/register', '/locations', '/audit']);

  // Everything in the demo organisation (plus any entity Pave creates for locations).
  const allTotal = await untilPasses(async () => {
    const n = await totalItems(page);
    assert.ok(n >= demo.length, `total ${n} >= ${demo.length} demo entities`);
    return n;
  });
  assert.equal(await page.getByTestId('entity-row').count(), Math.min(50, allTotal));
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-catalog.png') });

  // Cursor paging: next page shows the following rows, previous goes back.
  const firstPage = await rowNames(page);
  assert.deepEqual(firstPage, [...firstPage].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' })));
  await page.getByRole('button', { name: /Next page/ }).click();
  await untilPasses(async () => {
    const second = await rowNames(page);
    assert.equal(second.length, Math.min(50, allTotal - 50));
    assert.ok(!second.includes(firstPage[0]!), 'second page differs from the first');
    assert.ok(second[0]!.localeCompare(firstPage.at(-1)!, 'en', { sensitivity: 'base' }) >= 0, 'order continues');
  });
  assert.match(await text(page.getByTestId('page-range')), /Showing 51–/);
  assert.equal(await totalItems(page), allTotal);
  await page.getByRole('button', { name: /Previous page/ }).click();
  await untilPasses(async () => assert.deepEqual(await rowNames(page), firstPage));

  // Facet: kind = Component narrows rows and total.
  await pickFacet(page, 'Kind', /^Component \(\d+\)$/i);
  await waitForTotal(page, components.length);
  assert.match(page.url(), /[?&]kind=Component/i);

  // Facet: owner = team-payments narrows further; every row is owned by team-payments.
  await pickFacet(page, 'Owner', /team-payments \(\d+\)$/);
  await waitForTotal(page, paymentsComponents.length);
  assert.deepEqual(
    (await rowNames(page)).sort(),
    paymentsComponents.map((c) => c.metadata.name).sort(),
  );

  // Clearing goes back to everything.
  await page.getByRole('button', { name: 'Clear all filters' }).first().click();
  await untilPasses(async () => assert.equal(await totalItems(page), allTotal));

  // Search box (debounced, fullTextFilterTerm) finds a component by part of its description.
  const target =
    components.find((c) => c.metadata.name === 'ledger-service') ??
    components.find((c) => (c.metadata.description ?? '').split(' ').length > 4)!;
  const words = target.metadata.description!.split(/\s+/);
  const term = words.slice(1, 4).join(' ').replace(/[^\w\s-]/g, '');
  await page.getByRole('searchbox', { name: 'Search' }).fill(term);
  await untilPasses(async () => {
    const names = await rowNames(page);
    assert.ok(names.includes(target.metadata.name), `search "${term}" finds ${target.metadata.name}: ${names}`);
    const n = await totalItems(page);
    assert.ok(n < allTotal, `search narrows the total: ${n} < ${allTotal}`);
  });
  assert.match(page.url(), /[?&]q=/);
  await page.close();
});

test('entity page shows about, relations, dependency graph and raw YAML', TEST_TIMEOUT, async () => {
  const demo = await readDemo();
  const comp =
    demo.find((e) => e.kind === 'Component' && e.metadata.name === 'payments-api') ??
    demo.find((e) => e.kind === 'Component' && e.spec?.owner)!;
  const owner = ownerName(comp.spec!.owner);
  const ownerRef = `group:default/${owner}`;

  const page = await newPage();
  await page.goto('/catalog?kind=component');
  await page.locator(`[data-testid="entity-row"][data-entity-name="${comp.metadata.name}"] a`).first().click();
  await page.waitForURL(`**/catalog/default/component/${comp.metadata.name}`);

  // About
  await page.getByTestId('entity-title').waitFor();
  const about = page.getByRole('region', { name: 'About' });
  assert.equal(await text(page.getByTestId('entity-description')), comp.metadata.description);
  assert.ok((await text(about)).includes(owner), 'about shows the owner');
  await about.getByRole('link', { name: new RegExp(owner) }).first().waitFor();

  // Relations grouped by type, resolved targets.
  await page.getByRole('tab', { name: /Relations/ }).click();
  const ownedBy = page.locator('[data-testid="relation-group"][data-relation-type="ownedBy"]');
  await ownedBy.waitFor();
  const ownerItem = ownedBy.locator(`[data-testid="relation-item"]`).first();
  assert.equal(await ownerItem.getAttribute('data-target-ref'), ownerRef);
  await untilPasses(async () => assert.equal(await ownerItem.getAttribute('data-unresolved'), 'false'));
  assert.equal(await page.locator('[data-testid="relation-item"][data-unresolved="true"]').count(), 0);

  // Dependency graph (xyflow): the entity in the middle and at least its owner around it.
  await page.getByRole('tab', { name: 'Dependency graph' }).click();
  const ownerNode = page.locator(`.react-flow__node[data-id="${ownerRef}"]`);
  await ownerNode.waitFor();
  await page.locator(`.react-flow__node[data-id="component:default/${comp.metadata.name}"]`).waitFor();
  assert.ok((await page.locator('.react-flow__node').count()) >= 3, 'graph shows related entities');
  await untilPasses(async () => assert.ok((await page.locator('.react-flow__edge').count()) >= 2, 'graph has edges'));
  assert.ok((await text(page.getByTestId('entity-graph'))).includes('ownedBy'), 'edges are labelled');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-entity-graph.png') });

  // Raw YAML
  await page.getByRole('tab', { name: 'Raw YAML' }).click();
  const yamlText = await text(page.getByTestId('raw-yaml'));
  assert.match(yamlText, new RegExp(`name: ${comp.metadata.name}`));
  assert.match(yamlText, /kind: Component/);
  assert.match(yamlText, /relations:/);

  // No processing errors on demo data: no banner.
  assert.equal(await page.getByTestId('errors-banner').count(), 0);

  // Graph nodes open their entity: by keyboard (focus + Enter) and by click.
  await page.getByRole('tab', { name: 'Dependency graph' }).click();
  await ownerNode.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(`**/catalog/default/group/${owner}**`);
  await page.getByTestId('entity-title').waitFor();
  await page.goBack();
  await page.waitForURL(`**/catalog/default/component/${comp.metadata.name}?tab=graph`);
  await ownerNode.click();
  await page.waitForURL(`**/catalog/default/group/${owner}**`);
  await untilPasses(async () => assert.ok((await text(page.getByTestId('entity-title'))).length > 0, 'owner page has a title'));
  await page.close();
});

test('unknown entity shows a friendly not-found page', TEST_TIMEOUT, async () => {
  const page = await newPage();
  await page.goto('/catalog/default/component/does-not-exist-anywhere');
  await page.getByRole('heading', { name: 'Entity not found' }).waitFor();
  assert.ok((await text(page.locator('main'))).includes('does-not-exist-anywhere'), 'not-found page names the entity');
  await page.close();
});

test('register page: analyze (dry run) previews, import registers, unresolved relation is marked', TEST_TIMEOUT, async () => {
  const folder = path.join(workDir, 'new-service');
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, 'catalog-info.yaml');
  await writeFile(
    file,
    [
      'apiVersion: backstage.io/v1alpha1',
      'kind: Component',
      'metadata:',
      '  name: e2e-new-service',
      '  description: Registered by the portal browser test.',
      'spec:',
      '  type: service',
      '  lifecycle: experimental',
      '  owner: group:default/nobody-yet',
      '',
    ].join('\n'),
  );

  const page = await newPage();
  await page.goto('/register');
  const input = page.getByRole('textbox', { name: 'Repository URL or local path' });

  // An error from the API is shown with its code and message.
  await input.fill(path.join(workDir, 'missing', 'catalog-info.yaml'));
  await page.getByRole('button', { name: 'Analyze' }).click();
  const errCode = page.getByTestId('error-code');
  await errCode.waitFor();
  assert.ok((await text(errCode)).length > 0, 'error code shown');
  assert.ok((await text(page.getByTestId('error-message'))).length > 0, 'error message shown');

  // Dry run preview.
  await input.fill(file);
  assert.equal(await text(page.getByTestId('location-type')), 'file');
  await page.getByRole('button', { name: 'Analyze' }).click();
  const previewRows = page.getByTestId('preview-row');
  await previewRows.first().waitFor();
  const preview = await previewRows.evaluateAll((rows) =>
    rows.map((r) => [...r.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim()).join(' ')),
  );
  // The component; Pave may also list the Location entity it generates for the file.
  assert.ok(preview.includes('Component e2e-new-service default'), `preview: ${JSON.stringify(preview)}`);
  assert.ok(preview.every((row) => /^(Component|Location) /.test(row)), `preview: ${JSON.stringify(preview)}`);
  // A dry run registers nothing.
  const before = await api<unknown>('GET', '/api/catalog/entities/by-name/component/default/e2e-new-service');
  assert.equal(before.status, 404);

  // Import.
  await page.getByRole('button', { name: 'Import' }).click();
  const success = page.getByTestId('import-success');
  await success.waitFor();
  const link = success.getByRole('link', { name: 'component:default/e2e-new-service' });
  await link.waitFor();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-register.png') });

  // The entity appears in the catalog (processing may be asynchronous).
  await untilPasses(async () => {
    const r = await api<unknown>('GET', '/api/catalog/entities/by-name/component/default/e2e-new-service');
    assert.equal(r.status, 200);
  });
  await link.click();
  await page.waitForURL('**/catalog/default/component/e2e-new-service');
  await page.getByTestId('entity-title').waitFor();
  assert.equal(await text(page.getByTestId('entity-description')), 'Registered by the portal browser test.');

  // Its owner does not exist yet: the relation is shown as unresolved.
  await page.getByRole('tab', { name: /Relations/ }).click();
  const item = page.locator('[data-testid="relation-item"][data-target-ref="group:default/nobody-yet"]');
  await item.waitFor();
  await untilPasses(async () => assert.equal(await item.getAttribute('data-unresolved'), 'true'));
  assert.ok((await text(item)).includes('unresolved'), 'relation marked unresolved');

  // And in the graph, as a node marked unresolved.
  await page.getByRole('tab', { name: 'Dependency graph' }).click();
  const node = page.locator('.react-flow__node[data-id="group:default/nobody-yet"]');
  await node.waitFor();
  assert.ok((await text(node)).includes('unresolved'), 'graph node marked unresolved');

  // The catalog search finds it too.
  await page.goto('/catalog?q=e2e-new-service');
  await untilPasses(async () => {
    const names = await rowNames(page);
    assert.ok(names.includes('e2e-new-service'), `catalog search finds e2e-new-service: ${names}`);
  });
  await page.close();
});

test('locations page shows a broken YAML file with its error and line, refresh and remove work', TEST_TIMEOUT, async () => {
  const file = path.join(workDir, 'broken', 'catalog-info.yaml');
  await mkdir(path.dirname(file), { recursive: true });
  const valid = [
    'apiVersion: backstage.io/v1alpha1',
    'kind: Component',
    'metadata:',
    '  name: e2e-broken-later',
    'spec:',
    '  type: service',
    '  lifecycle: experimental',
    '  owner: group:default/team-payments',
    '',
  ].join('\n');
  await writeFile(file, valid);
  const added = await api<{ location: { id: string } }>('POST', '/api/catalog/locations', { type: 'file', target: file });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  const id = added.body.location.id;

  // Break the YAML (unclosed flow sequence on line 4) and ask Pave to read it again.
  await writeFile(
    file,
    ['apiVersion: backstage.io/v1alpha1', 'kind: Component', 'metadata:', '  name: [e2e-broken-later', 'spec:', '  type: service', ''].join('\n'),
  );

  const page = await newPage();
  await page.goto('/locations');
  const card = page.locator(`[data-testid="location"][data-location-id="${id}"]`);
  await card.waitFor();
  await card.getByRole('button', { name: /^Refresh / }).click();

  await untilPasses(
    async () => {
      await page.reload();
      await card.waitFor();
      assert.equal(await card.getAttribute('data-state'), 'failed');
      const where = await text(card.getByTestId('location-error-position').first());
      assert.match(where, /broken[\\/]catalog-info\.yaml:\d+(:\d+)?$/);
      const line = Number(where.split(':').at(where.match(/:\d+:\d+$/) ? -2 : -1));
      assert.ok(line >= 4 && line <= 7, `error line ${line} points near the broken line`);
    },
    30_000,
    'the broken location to fail',
  );
  assert.ok((await text(card.getByTestId('location-error').first())).length > 10, 'error row has a message');
  // The demo location reads fine.
  assert.ok((await page.locator('[data-testid="location"][data-state="ok"]').count()) >= 1, 'the demo location is ok');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-locations.png'), fullPage: true });

  // Remove (with confirmation).
  await card.getByRole('button', { name: /^Remove / }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove location' }).click();
  await card.waitFor({ state: 'detached' });
  const list = await api<Array<{ data: { id: string } }>>('GET', '/api/catalog/locations');
  assert.ok(!list.body.some((l) => l.data.id === id), 'location removed on the server');
  await page.close();
});
