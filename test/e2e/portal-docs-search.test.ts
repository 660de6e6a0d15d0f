// Browser test of the portal's docs and search: a component with an MkDocs site in a local folder
// is registered, Pave builds its docs, and headless Chromium reads them (admonition, Mermaid
// diagram, navigation, table of contents, links between pages, the entity page's Docs tab) and
// searches with Ctrl-K (a misspelt name, a word of a docs page) and on the search page.
//
// Run: node scripts/test.js test/e2e/portal-docs-search.test.ts
// Every assert.ok here carries a message: without one, node:assert reads and re-parses the
// transpiled source to describe the failed expression, which can block the process for minutes.
// Needs Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { adminPortal, requireChromium, untilPasses } from '../../src/testing/browser.ts';
import { startTestPave, TEST_ADMIN_PASSWORD, type TestPave } from '../../src/testing/pave.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCREENSHOT_DIR = process.env.PAVE_SCREENSHOT_DIR ?? '/tmp';
const STEP_TIMEOUT = 20_000;
const TEST_TIMEOUT = { timeout: 60_000 };
const HOME = '/docs/default/component/payments/';
const RETRIES = '/docs/default/component/payments/guides/retries/';
const ENTITY = '/catalog/default/component/payments';

let pave: TestPave;
let browser: Browser;
let context: BrowserContext;
let fixture: string;

// ---------------------------------------------------------------- fixture: payments, with docs

const FILES: Record<string, string> = {
  'catalog-info.yaml': [
    'apiVersion: backstage.io/v1alpha1',
    'kind: Component',
    'metadata:',
    '  name: payments',
    '  description: Takes card payments.',
    '  annotations:',
    '    backstage.io/techdocs-ref: dir:.',
    'spec:',
    '  type: service',
    '  lifecycle: production',
    '  owner: team-a',
    '---',
    'apiVersion: backstage.io/v1alpha1',
    'kind: Group',
    'metadata:',
    '  name: team-a',
    'spec:',
    '  type: team',
    '  children: []',
    '',
  ].join('\n'),
  'mkdocs.yml': ['site_name: Payments', 'nav:', '  - Home: index.md', '  - Retries: guides/retries.md', ''].join('\n'),
  'docs/index.md': [
    '# Payments',
    '',
    'How the payments service takes money.',
    '',
    '!!! warning "Careful"',
    '    Every call moves real money.',
    '',
    '## Flow',
    '',
    '```mermaid',
    'graph TD; A-->B',
    '```',
    '',
    '## Failures',
    '',
    'Read about [retries](guides/retries.md) before calling twice.',
    '',
    // Enough text that the heading above can be scrolled to the top.
    ...Array.from({ length: 40 }, (_, i) => `Failure ${i + 1} is described here.\n`),
  ].join('\n'),
  // The link to a page that does not exist is a warning of the build, not a failure.
  'docs/guides/retries.md': ['# Retries', '', 'Every request carries an idempotency key.', '', '## Keys', '', 'A key is kept for a day, as [the old guide](old-guide.md) said.', ''].join('\n'),
};

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

/** Polls the API until `check` passes (the docs build and the search index work in the background). */
async function untilApi<T>(urlPath: string, check: (body: T, status: number) => void, what: string): Promise<T> {
  return untilPasses(
    async () => {
      const res = await pave.api<T>('GET', urlPath);
      check(res.body, res.status);
      return res.body;
    },
    STEP_TIMEOUT,
    what,
  );
}

/** Opens the Ctrl-K dialog, types `term`, moves to the result at `location` with the arrow keys and opens it. */
async function searchAndOpen(page: Page, term: string, location: string) {
  await page.keyboard.press('Control+k');
  const dialog = page.getByRole('dialog');
  const input = dialog.getByTestId('search-input');
  await input.waitFor();
  await untilPasses(async () => assert.ok(await input.evaluate((el) => el === document.activeElement), 'the search box has the focus'));
  await input.pressSequentially(term, { delay: 20 });
  const results = dialog.getByTestId('search-result');
  const target = dialog.locator(`[data-testid="search-result"][data-location="${location}"]`);
  await target.waitFor();
  const locations = await results.evaluateAll((els) => els.map((el) => el.getAttribute('data-location')));
  const index = locations.indexOf(location);
  assert.ok(index >= 0, `"${term}" finds ${location}: ${JSON.stringify(locations)}`);
  assert.equal(await results.first().getAttribute('aria-selected'), 'true', 'the best result starts active');
  for (let i = 0; i < index; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await target.getAttribute('data-active'), 'true', 'the arrow keys move to the result');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `pave-search-dialog-${term}.png`) });
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' });
}

// ---------------------------------------------------------------- setup

before(async () => {
  requireChromium();
  fixture = await mkdtemp(path.join(tmpdir(), 'pave-e2e-docs-'));
  for (const [file, content] of Object.entries(FILES)) {
    await mkdir(path.dirname(path.join(fixture, file)), { recursive: true });
    await writeFile(path.join(fixture, file), content);
  }
  pave = await startTestPave();
  const added = await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(fixture, 'catalog-info.yaml') });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  await untilApi<{ status: string; pages: unknown[] }>(
    '/api/docs/default/component/payments',
    (site, status) => {
      assert.equal(status, 200, JSON.stringify(site));
      assert.equal(site.status, 'ready', JSON.stringify(site));
      assert.equal(site.pages.length, 2, JSON.stringify(site));
    },
    'the docs of payments to be built',
  );
  await untilApi<{ results: Array<{ type: string }> }>(
    '/api/search/query?term=idempotency',
    (r) => assert.ok(r.results.some((x) => x.type === 'techdocs'), `docs are in the search index: ${JSON.stringify(r)}`),
    'the docs pages to be indexed',
  );

  ({ browser, context } = await adminPortal(ROOT, pave.url, TEST_ADMIN_PASSWORD));
});

after(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await pave?.close();
  if (fixture) await rm(fixture, { recursive: true, force: true });
});

// ---------------------------------------------------------------- tests

test('docs home lists the site; the reader shows the admonition, the Mermaid diagram, navigation, contents and links', TEST_TIMEOUT, async () => {
  const page = await newPage();
  await page.goto('/docs');
  const site = page.locator('[data-testid="docs-site"][data-entity-ref="component:default/payments"]');
  await site.waitFor();
  assert.equal(await site.getAttribute('data-status'), 'ready', 'the site is ready');
  assert.ok((await text(site)).includes('team-a'), 'the site shows its owner');
  await site.getByRole('link', { name: 'Payments', exact: true }).click();
  await page.waitForURL(`**${HOME}`);

  // The page: Pave's HTML, with the admonition styled and titled.
  const content = page.getByTestId('docs-content');
  await content.getByRole('heading', { name: 'Payments', level: 1 }).waitFor();
  const admonition = content.locator('.admonition.warning');
  await admonition.waitFor({ state: 'visible' });
  assert.equal(await text(admonition.locator('.admonition-title')), 'Careful', 'the admonition has its title');
  assert.ok((await text(admonition)).includes('Every call moves real money.'), 'and its body');
  const border = await admonition.evaluate((el) => getComputedStyle(el).borderLeftColor);
  assert.notEqual(border, 'rgb(0, 0, 0)', 'the admonition is coloured');

  // The Mermaid block is drawn as an SVG, in the browser.
  await untilPasses(async () => assert.ok((await content.locator('pre.mermaid svg .node').count()) >= 2, 'the diagram has its two nodes'), STEP_TIMEOUT, 'the Mermaid diagram');

  // Navigation (current page marked) and table of contents.
  const nav = page.getByTestId('docs-nav');
  await nav.getByRole('link', { name: 'Retries' }).waitFor();
  assert.equal(await nav.getByRole('link', { name: 'Home' }).getAttribute('aria-current'), 'page', 'the home page is the current one');
  const toc = page.getByTestId('docs-toc');
  assert.deepEqual(await toc.getByRole('link').allTextContents(), ['Flow', 'Failures'], 'the contents list the headings');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-docs.png') });
  await toc.getByRole('link', { name: 'Failures' }).click();
  await page.waitForURL(`**${HOME}#failures`);
  await untilPasses(async () => {
    const top = await content.locator('#failures').evaluate((el) => el.getBoundingClientRect().top);
    assert.ok(top >= 0 && top < 300, `the heading is scrolled to the top: ${top}`);
  });
  assert.equal(await page.getByTestId('docs-previous').count(), 0, 'the first page has no previous page');
  await page.getByTestId('docs-next').waitFor();
  assert.equal(await page.getByTestId('docs-build-error').count(), 0, 'no build error');

  // The broken link is a warning, collapsed until opened.
  const problems = page.getByTestId('docs-problems');
  assert.ok((await text(problems.locator('summary'))).startsWith('1 warning'), 'one warning is announced');
  assert.equal(await problems.evaluate((el) => (el as HTMLDetailsElement).open), false, 'the warnings start collapsed');
  await problems.locator('summary').click();
  await problems.getByText('docs/guides/retries.md:7').waitFor();

  // A link between pages stays in the portal, without reloading it.
  await page.evaluate(() => ((window as unknown as { paveMarker: number }).paveMarker = 1));
  await content.getByRole('link', { name: 'retries' }).click();
  await page.waitForURL(`**${RETRIES}`);
  await content.getByRole('heading', { name: 'Retries', level: 1 }).waitFor();
  assert.ok((await text(content)).includes('idempotency'), 'the retries page is shown');
  assert.equal(await page.evaluate(() => (window as unknown as { paveMarker?: number }).paveMarker), 1, 'no full reload');
  assert.equal(await nav.getByRole('link', { name: 'Retries' }).getAttribute('aria-current'), 'page', 'the nav marks the retries page');
  assert.deepEqual(await toc.getByRole('link').allTextContents(), ['Keys'], 'the contents follow the page');

  // Previous goes back to the home page.
  const previous = page.getByTestId('docs-previous');
  assert.ok((await text(previous)).includes('Payments'), 'previous names the home page');
  await previous.click();
  await page.waitForURL(`**${HOME}`);
  await content.locator('.admonition.warning').waitFor();

  // Search in these docs.
  await page.getByTestId('docs-search').fill('idempotency');
  const hit = page.locator(`[data-testid="docs-search-result"][data-location="${RETRIES}"]`);
  await hit.waitFor();
  await hit.click();
  await page.waitForURL(`**${RETRIES}`);
  await content.getByRole('heading', { name: 'Retries', level: 1 }).waitFor();
  await page.close();
});

test("the entity page's Docs tab shows the same reader", TEST_TIMEOUT, async () => {
  const page = await newPage();
  await page.goto(ENTITY);
  await page.getByTestId('entity-title').waitFor();
  await page.getByRole('tab', { name: 'Docs' }).click();
  const content = page.getByTestId('docs-content');
  await content.locator('.admonition.warning').waitFor();
  assert.ok((await text(content)).includes('How the payments service takes money.'), 'the home page is in the tab');
  await content.locator('pre.mermaid svg').first().waitFor();

  // Pages of the site open inside the tab.
  await page.getByTestId('docs-nav').getByRole('link', { name: 'Retries' }).click();
  await page.waitForURL((url) => url.pathname === ENTITY && url.searchParams.get('tab') === 'docs' && url.searchParams.get('page') === 'guides/retries');
  await content.getByRole('heading', { name: 'Retries', level: 1 }).waitFor();
  await page.getByTestId('docs-previous').click();
  await page.waitForURL((url) => url.pathname === ENTITY && url.searchParams.get('tab') === 'docs' && !url.searchParams.has('page'));
  await content.locator('.admonition.warning').waitFor();
  // The admin may rebuild.
  await page.getByTestId('docs-rebuild').waitFor();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-entity-docs.png') });
  await page.close();
});

test('Ctrl-K finds a misspelt component and a word of a docs page; Enter opens them', TEST_TIMEOUT, async () => {
  const page = await newPage();
  await page.goto('/catalog');
  await page.getByRole('heading', { name: 'Catalog', level: 2 }).waitFor();

  // The header button opens the same dialog; Escape closes it.
  await page.getByTestId('open-search').click();
  await page.getByRole('dialog').getByTestId('search-input').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });

  await searchAndOpen(page, 'paymnets', ENTITY);
  await page.waitForURL(`**${ENTITY}`);
  await page.getByTestId('entity-title').waitFor();

  await searchAndOpen(page, 'idempotency', RETRIES);
  await page.waitForURL(`**${RETRIES}`);
  const content = page.getByTestId('docs-content');
  await content.getByRole('heading', { name: 'Retries', level: 1 }).waitFor();
  assert.ok((await text(content)).includes('idempotency'), 'the docs result opens its page');
  await page.close();
});

test('the search page shows the total, facets, the type filter and highlighted matches', TEST_TIMEOUT, async () => {
  const page = await newPage();
  await page.goto('/search?term=payments');
  const total = page.getByTestId('search-total');
  await untilPasses(async () => {
    const n = Number(await text(total));
    assert.ok(n >= 2, `the component and its docs are found: ${n}`);
  });
  await page.getByTestId('facet-kind').getByRole('checkbox', { name: /^Component \(\d+\)$/ }).waitFor();
  await page.getByTestId('facet-owner').getByRole('checkbox', { name: /^team-a \(\d+\)$/ }).waitFor();
  await page.locator(`[data-testid="search-result"][data-location="${ENTITY}"]`).waitFor();

  // Docs only.
  await page.getByTestId('search-type').getByText('Docs', { exact: true }).click();
  await page.waitForURL((url) => url.searchParams.get('type') === 'docs');
  await untilPasses(async () => {
    const types = await page.getByTestId('search-result').evaluateAll((els) => els.map((el) => el.getAttribute('data-type')));
    assert.ok(types.length > 0 && types.every((t) => t === 'techdocs'), `only docs results: ${JSON.stringify(types)}`);
  });

  // A word of a page is highlighted, as text (the marks are the only markup).
  const box = page.getByRole('searchbox', { name: 'Search term' });
  await box.fill('idempotency');
  await page.waitForURL((url) => url.searchParams.get('term') === 'idempotency');
  const result = page.locator(`[data-testid="search-result"][data-location="${RETRIES}"]`);
  await result.waitFor();
  assert.equal(await text(result.locator('mark').first()), 'idempotency', 'the match is marked');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-search.png'), fullPage: true });
  await page.close();
});

test('a failed build keeps the last good pages with the error and its position; Rebuild brings the site back', TEST_TIMEOUT, async () => {
  const config = path.join(fixture, 'mkdocs.yml');
  // Line 4 is indented one space too far: the YAML does not parse.
  await writeFile(config, ['site_name: Payments', 'nav:', '  - Home: index.md', '   - Retries: guides/retries.md', ''].join('\n'));
  await untilApi<{ status: string }>('/api/docs/default/component/payments', (site) => assert.equal(site.status, 'failed', JSON.stringify(site)), 'the build to fail');

  const page = await newPage();
  await page.goto(HOME);
  const alert = page.getByTestId('docs-build-error');
  await alert.waitFor();
  assert.equal(await text(alert.getByTestId('docs-build-error-position')), 'mkdocs.yml:4:4', 'the error says where');
  assert.ok((await text(alert)).includes('Fix the YAML syntax'), `the error says what to change: ${await text(alert)}`);
  await page.getByTestId('docs-content').locator('.admonition.warning').waitFor();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'pave-docs-failed.png') });

  await writeFile(config, FILES['mkdocs.yml']!);
  await page.getByTestId('docs-rebuild').click();
  await page.getByTestId('docs-rebuild-queued').waitFor();
  await alert.waitFor({ state: 'detached' });
  assert.equal(await page.getByTestId('docs-status').first().getAttribute('data-status'), 'ready', 'the site is ready again');
  await page.close();
});
