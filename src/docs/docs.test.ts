import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { serveGitOverHttp } from '../testing/git-http.ts';
import { eventually, startTestPave, type TestPave } from '../testing/pave.ts';
import { orgYaml } from '../testing/org.ts';

const execFileAsync = promisify(execFile);

const entity = (name: string, ref: string) =>
  `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\n  annotations:\n    backstage.io/techdocs-ref: ${ref}\nspec: { type: service, lifecycle: production, owner: team-a }\n`;
const TEAM = orgYaml(['team-a']);

const MKDOCS = `site_name: Payments
nav:
  - Home: index.md
  - Guides:
      - Retries: guides/retries.md
markdown_extensions:
  - pymdownx.superfences:
      custom_fences:
        - name: mermaid
          class: mermaid
          format: !!python/name:pymdownx.superfences.fence_code_format
`;
const INDEX = `# Payments

!!! warning "Careful"
    Charges are retried at most three times.

\`\`\`mermaid
graph TD; A-->B
\`\`\`

| Field | Meaning |
|-------|---------|
| id    | the charge |

Read [how retries work](guides/retries.md#backoff) and see ![the flow](img/flow.png).

<script>window.pwned = 1</script>
<img src="x" onerror="window.pwned = 1">

[click](javascript:alert(1)) and <a href="JaVaScRiPt:alert(1)">this</a>
`;
const RETRIES = `# Retries

## Backoff

Each retry waits longer. Idempotency keys make a retried charge safe.
`;
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d605a70000000049454e44ae426082', 'hex');

function writeSite(dir: string, files: Record<string, string | Buffer>) {
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
}

let pave: TestPave;
let work: string;

before(async () => {
  pave = await startTestPave({ settings: { 'docs.limits.maxPages': 20 } });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-docs-'));
});

after(async () => {
  await pave.close();
  fs.rmSync(work, { recursive: true, force: true });
});

async function register(file: string) {
  const res = await pave.api('POST', '/api/catalog/locations', { type: 'file', target: file });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.location.id as string;
}

/** Waits until the site's latest build attempt is not pending or building, and returns it. */
async function settledSite(name: string, since?: string) {
  return eventually(async () => {
    const res = await pave.api('GET', `/api/docs/default/component/${name}`);
    if (res.status !== 200 || ['pending', 'building'].includes(res.body.status)) return undefined;
    if (since && !(res.body.lastAttemptAt > since)) return undefined;
    return res.body;
  }, 20_000, `docs of ${name} to build`);
}

test('an entity with techdocs-ref dir:. gets its Markdown rendered: nav, pages, assets, neighbours', async () => {
  const dir = path.join(work, 'payments');
  writeSite(dir, { 'catalog-info.yaml': `${TEAM}---\n${entity('payments', 'dir:.')}`, 'mkdocs.yml': MKDOCS, 'docs/index.md': INDEX, 'docs/guides/retries.md': RETRIES, 'docs/img/flow.png': PNG });
  await register(path.join(dir, 'catalog-info.yaml'));
  const site = await settledSite('payments');
  assert.equal(site.status, 'ready', JSON.stringify(site.error));
  assert.equal(site.siteName, 'Payments', 'site name from mkdocs.yml');
  assert.deepEqual(site.pages.map((p: any) => p.slug), ['', 'guides/retries'], 'pages in nav order');
  assert.equal(site.nav[1].title, 'Guides', 'nav sections kept');

  const home = await pave.api('GET', '/api/docs/default/component/payments/pages/');
  assert.equal(home.status, 200, JSON.stringify(home.body));
  const html: string = home.body.html;
  assert.match(html, /class="admonition warning"/, 'admonition');
  assert.match(html, /Careful/, 'admonition title');
  assert.match(html, /<pre class="mermaid">[^<]*graph TD/, 'mermaid left for the browser');
  assert.match(html, /<table>/, 'table');
  assert.match(html, /href="\/docs\/default\/component\/payments\/guides\/retries\/#backoff"/, 'relative link rewritten to the portal');
  assert.match(html, /src="\/api\/docs\/default\/component\/payments\/assets\/img\/flow.png"/, 'image rewritten to the asset route');
  assert.doesNotMatch(html, /<script|onerror|href="javascript:/i, 'script injection is inert');
  assert.equal(home.body.next.slug, 'guides/retries', 'next page');
  assert.equal(home.body.previous, undefined, 'no previous page on the home page');

  const retries = await pave.api('GET', '/api/docs/default/component/payments/pages/guides/retries');
  assert.equal(retries.body.title, 'Retries', 'page title from its heading');
  assert.deepEqual(retries.body.toc.map((t: any) => t.id), ['backoff'], 'table of contents with heading anchors');
  assert.equal(retries.body.previous.slug, '', 'previous page');

  const png = await pave.api('GET', '/api/docs/default/component/payments/assets/img/flow.png');
  assert.equal(png.status, 200, 'the image is served');
  assert.equal(png.headers.get('content-type'), 'image/png', 'with its type');
  assert.match(png.headers.get('content-security-policy') ?? '', /sandbox/, 'and never runs as a page of Pave');

  assert.equal((await pave.api('GET', '/api/docs/default/component/payments/pages/nope')).body.error.code, 'DOCS_PAGE_NOT_FOUND', 'a missing page is a 404 with a code');
  const list = (await pave.api('GET', '/api/docs')).body.items;
  assert.ok(list.some((s: any) => s.entityRef === 'component:default/payments' && s.pages === 2 && s.owner === 'group:default/team-a'), `docs home lists it: ${JSON.stringify(list)}`);
});

test('docs pages are searchable, and an edit is rebuilt and searchable within seconds', async () => {
  const found = await eventually(async () => {
    const res = await pave.api('GET', '/api/search/query?term=idempotency&types[0]=techdocs');
    return res.body.numberOfResults > 0 ? res.body : undefined;
  }, 10_000, 'the docs page to be searchable');
  const doc = found.results[0].document;
  assert.deepEqual(
    { location: doc.location, entityRef: doc.entityRef, title: doc.title, name: doc.name, owner: doc.owner },
    { location: '/docs/default/component/payments/guides/retries/', entityRef: 'component:default/payments', title: 'Retries', name: 'payments', owner: 'group:default/team-a' },
    'a techdocs document as Backstage shapes it',
  );
  assert.match(found.results[0].highlight.fields.text ?? '', /<mark>Idempotency<\/mark>/, 'highlighted');

  const t0 = Date.now();
  fs.writeFileSync(path.join(work, 'payments', 'docs', 'guides', 'retries.md'), `${RETRIES}\nCircuit breakers stop a storm of retries.\n`);
  await eventually(async () => ((await pave.api('GET', '/api/search/query?term=breakers&types[0]=techdocs')).body.numberOfResults > 0 ? true : undefined), 15_000, 'the edit to be rebuilt');
  assert.ok(Date.now() - t0 < 10_000, `rebuilt within seconds (${Date.now() - t0} ms)`);
  const page = await pave.api('GET', '/api/docs/default/component/payments/pages/guides/retries');
  assert.match(page.body.html, /Circuit breakers/, 'the page shows the edit');
});

test('a broken build keeps the last good one served and says where it broke', async () => {
  const before = (await pave.api('GET', '/api/docs/default/component/payments')).body.lastAttemptAt;
  fs.writeFileSync(path.join(work, 'payments', 'mkdocs.yml'), 'site_name: Payments\nnav:\n  - Home: index.md\n   - bad: [indent\n');
  const site = await eventually(async () => {
    const s = (await pave.api('GET', '/api/docs/default/component/payments')).body;
    return s.status === 'failed' && s.lastAttemptAt > before ? s : undefined;
  }, 15_000, 'the broken build to be reported');
  assert.equal(site.error.code, 'DOCS_CONFIG_INVALID', JSON.stringify(site.error));
  assert.equal(site.error.file, 'mkdocs.yml', 'names the file');
  assert.ok(site.error.line >= 3 && site.error.column >= 1, `with line and column: ${JSON.stringify(site.error)}`);
  const page = await pave.api('GET', '/api/docs/default/component/payments/pages/guides/retries');
  assert.equal(page.status, 200, 'the last good build is still served');
  assert.equal(page.body.title, 'Retries', 'with its pages');

  const since = site.lastAttemptAt;
  fs.writeFileSync(path.join(work, 'payments', 'mkdocs.yml'), 'site_name: Payments\nnav:\n  - Home: index.md\n  - Gone: guides/missing.md\n');
  const fixed = await settledSite('payments', since);
  assert.equal(fixed.status, 'ready', JSON.stringify(fixed.error));
  assert.ok(
    fixed.problems.some((p: any) => p.code === 'DOCS_NAV_MISSING_PAGE' && /missing\.md/.test(p.message) && p.line === 4),
    `a nav entry to a missing page is reported at its line: ${JSON.stringify(fixed.problems)}`,
  );
});

test('bad sources and oversized sites fail with a clear code, and the entity page says so', async () => {
  const cases: [string, string, Record<string, string>, string][] = [
    ['no-docs-dir', 'dir:.', { 'mkdocs.yml': 'site_name: X\n' }, 'DOCS_DIR_MISSING'],
    ['bad-ref', 'ftp:somewhere', {}, 'DOCS_REF_INVALID'],
    ['too-big', 'dir:.', Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`docs/p${i}.md`, `# Page ${i}\n`])), 'DOCS_TOO_LARGE'],
    ['unreachable', 'url:http://127.0.0.1:9/nobody/nothing', {}, 'DOCS_SOURCE_UNREADABLE'],
  ];
  for (const [name, ref, files, code] of cases) {
    const dir = path.join(work, name);
    writeSite(dir, { 'catalog-info.yaml': entity(name, ref), ...files });
    await register(path.join(dir, 'catalog-info.yaml'));
    const site = await settledSite(name);
    assert.equal(site.status, 'failed', `${name}: ${JSON.stringify(site)}`);
    assert.equal(site.error.code, code, `${name}: ${JSON.stringify(site.error)}`);
    assert.ok(site.error.message.length > 20, `${name}: a message a developer can act on: ${site.error.message}`);
  }
  const tooBig = (await pave.api('GET', '/api/docs/default/component/too-big')).body.error.message;
  assert.match(tooBig, /docs\.limits\.maxPages/, `names the setting to raise: ${tooBig}`);
  assert.equal((await pave.api('GET', '/api/docs/default/component/nobody')).body.error.code, 'ENTITY_NOT_FOUND', 'an unknown entity');
});

test('url: sources are cloned from a git server over HTTP; the rebuild API and removal work', async () => {
  const repos = path.join(work, 'repos');
  const src = path.join(work, 'ledger-src');
  writeSite(src, { 'mkdocs.yml': 'site_name: Ledger\n', 'docs/index.md': '# Ledger\n\nDouble-entry bookkeeping.\n' });
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: 'pipe' });
  git(src, 'init', '-q', '-b', 'main');
  git(src, 'add', '.');
  git(src, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'docs');
  fs.mkdirSync(repos, { recursive: true });
  git(repos, 'clone', '-q', '--bare', src, 'ledger.git');
  const server = await serveGitOverHttp(repos);
  try {
    const dir = path.join(work, 'ledger');
    writeSite(dir, { 'catalog-info.yaml': entity('ledger', `url:${server.url}/ledger.git/tree/main`) });
    const location = await register(path.join(dir, 'catalog-info.yaml'));
    const site = await settledSite('ledger');
    assert.equal(site.status, 'ready', JSON.stringify(site.error));
    assert.equal(site.siteName, 'Ledger', 'read from the clone');
    assert.match(site.source, /^url:http:\/\/127\.0\.0\.1:\d+\/ledger\.git@main$/, site.source);

    const rebuild = await pave.api('POST', '/api/docs/default/component/ledger/build');
    assert.equal(rebuild.status, 202, JSON.stringify(rebuild.body));
    const again = await settledSite('ledger', site.lastAttemptAt);
    assert.equal(again.status, 'ready', 'rebuilt');
    assert.equal((await pave.api('POST', '/api/catalog/refresh', { entityRef: 'component:default/ledger' })).status, 200, 'entity refreshed');
    const refreshed = await settledSite('ledger', again.lastAttemptAt);
    assert.equal(refreshed.status, 'ready', 'a catalog refresh rebuilds the docs too');

    assert.equal((await pave.api('DELETE', `/api/catalog/locations/${location}`)).status, 204, 'unregistered');
    await eventually(async () => ((await pave.api('GET', '/api/docs')).body.items.some((s: any) => s.name === 'ledger') ? undefined : true), 10_000, 'the site to go with its entity');
    await eventually(async () => ((await pave.api('GET', '/api/search/query?term=bookkeeping&types[0]=techdocs')).body.numberOfResults === 0 ? true : undefined), 5_000, 'its pages to leave the index');
    const [left] = await pave.store.query<{ n: number }>(`select count(*)::int as n from docs_sites where entity_key = 'component:default/ledger'`);
    await eventually(async () => ((await pave.store.query<{ n: number }>(`select count(*)::int as n from docs_sites where entity_key = 'component:default/ledger'`))[0].n === 0 ? true : undefined), 10_000, `the stored site to be removed (${left.n} left)`);
  } finally {
    await server.close();
  }
});

test('a reindex rebuilds docs documents too', async () => {
  await pave.store.query("delete from search_documents where doc_type = 'techdocs'");
  const res = await pave.api('POST', '/api/search/reindex');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.ok((await pave.api('GET', '/api/search/query?term=idempotency&types[0]=techdocs')).body.numberOfResults > 0, 'docs searchable again');
});

test('a push to a repository Pave hosts rebuilds the docs of the entity it belongs to', async () => {
  const repo = await pave.api('POST', '/api/git/repos', { org: 'acme', name: 'handbook', entityRef: 'component:default/handbook', owner: 'group:default/team-a' });
  assert.equal(repo.status, 201, JSON.stringify(repo.body));
  const src = path.join(work, 'handbook-src');
  writeSite(src, { 'mkdocs.yml': 'site_name: Handbook\n', 'docs/index.md': '# Handbook\n\nHow we work.\n' });
  const remote = repo.body.cloneUrl.replace('http://', `http://pave:${encodeURIComponent(pave.token)}@`);
  // Asynchronous: the server answering the push runs in this very process.
  const git = (...args: string[]) => execFileAsync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: src, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  await git('init', '-q', '-b', 'main');
  await git('add', '.');
  await git('commit', '-qm', 'docs');
  await git('push', '-q', remote, 'main');

  const dir = path.join(work, 'handbook');
  writeSite(dir, { 'catalog-info.yaml': entity('handbook', `url:${repo.body.cloneUrl.replace(/\.git$/, '')}/tree/main`) });
  await register(path.join(dir, 'catalog-info.yaml'));
  const first = await settledSite('handbook');
  assert.equal(first.status, 'ready', `built from Pave's own repository: ${JSON.stringify(first.error)}`);

  fs.writeFileSync(path.join(src, 'docs', 'index.md'), '# Handbook\n\nHow we work, and how we review.\n');
  await git('commit', '-qam', 'more');
  await git('push', '-q', remote, 'main');
  await eventually(async () => {
    const page = await pave.api('GET', '/api/docs/default/component/handbook/pages/');
    return /how we review/.test(page.body.html ?? '') ? true : undefined;
  }, 15_000, 'the pushed edit to be rebuilt');
});
