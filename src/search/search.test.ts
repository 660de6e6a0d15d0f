import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, startTestPave, type TestPave } from '../testing/pave.ts';

const component = (name: string, owner: string, description = '', extra = '') =>
  `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\n  description: ${JSON.stringify(description)}\n${extra}spec: { type: service, lifecycle: production, owner: ${owner} }\n`;

const org = [
  `apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: { name: team-a }\nspec: { type: team, children: [] }\n`,
  `apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: { name: team-b }\nspec: { type: team, children: [] }\n`,
  `apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: { name: alice }\nspec: { memberOf: [team-a] }\n`,
  component('payments', 'team-a', 'Takes card payments and retries failed charges'),
  component('payments-gateway', 'team-a', 'Talks to the acquiring bank'),
  component('ledger', 'team-b', 'Double-entry ledger; payments settle here', '  title: Payments ledger\n'),
  component('checkout', 'team-b', 'The checkout flow of the web shop'),
  component('zahlungen', 'team-b', 'Zahlungsabwicklung für Rechnungen und Überweisungen'),
].join('---\n');

let pave: TestPave;
let dir: string;

before(async () => {
  pave = await startTestPave();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-search-'));
  fs.writeFileSync(path.join(dir, 'org.yaml'), org);
  assert.equal((await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(dir, 'org.yaml') })).status, 201, 'org registered');
  await eventually(
    async () => {
      const res = await pave.api('GET', '/api/search/query?term=zahlungen');
      if (res.body?.numberOfResults > 0) return true;
      const entities = await pave.api('GET', '/api/catalog/entities/by-query?limit=0');
      throw new Error(`search answered ${res.status} ${JSON.stringify(res.body).slice(0, 300)}; catalog holds ${entities.body?.totalItems} entities`);
    },
    20_000,
    'the org to be searchable',
  );
});

after(async () => {
  await pave.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const names = (body: any) => body.results.map((r: any) => r.document.name);

test('results come in Backstage’s shape, an exact name first, then title, description, body', async () => {
  const res = await pave.api('GET', '/api/search/query?term=payments');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const [first] = res.body.results;
  assert.equal(first.type, 'software-catalog', 'result type');
  assert.deepEqual(
    { title: first.document.title, location: first.document.location, kind: first.document.kind, owner: first.document.owner },
    { title: 'payments', location: '/catalog/default/component/payments', kind: 'Component', owner: 'group:default/team-a' },
    'document fields',
  );
  assert.equal(first.rank, 1, 'rank is the position');
  assert.deepEqual(names(res.body), ['payments', 'payments-gateway', 'ledger'], 'the exact name, then a name word, then the title; checkout does not match');
  assert.equal(first.highlight.preTag, '<mark>', 'highlight tags');
  assert.match(first.highlight.fields.text ?? first.highlight.fields.title, /<mark>/, 'a highlighted snippet');
  assert.equal(res.body.numberOfResults, res.body.results.length, 'a count');
});

test('a misspelt name still finds it; multi-word terms narrow', async () => {
  assert.equal(names((await pave.api('GET', '/api/search/query?term=paymnets')).body)[0], 'payments', 'typo');
  assert.equal(names((await pave.api('GET', '/api/search/query?term=ledgr')).body)[0], 'ledger', 'typo in another name');
  assert.equal(names((await pave.api('GET', '/api/search/query?term=payments%20retry')).body)[0], 'payments', 'both words, stemmed (retries → retry), rank first');
  assert.equal(names((await pave.api('GET', '/api/search/query?term=settle')).body)[0], 'ledger', 'a word of the description');
});

test('a template is found by what its form asks and what its steps do', async () => {
  const template = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: node-service, title: Node service }
spec:
  owner: team-a
  type: service
  parameters:
    - title: Pick a cloud region
      properties:
        region: { type: string, title: Deployment region, description: Where the workload runs }
  steps:
    - id: fetch
      name: Render the skeleton
      action: fetch:template
      input: { url: ./skeleton }
`;
  fs.writeFileSync(path.join(dir, 'template.yaml'), template);
  assert.equal((await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(dir, 'template.yaml') })).status, 201, 'template registered');
  for (const term of ['deployment region', 'workload', 'skeleton']) {
    const found = await eventually(async () => {
      const body = (await pave.api('GET', `/api/search/query?term=${encodeURIComponent(term)}`)).body;
      return body.numberOfResults > 0 ? body : undefined;
    }, 10_000, `the template to be found by "${term}"`);
    assert.equal(found.results[0].document.kind, 'Template', `"${term}" finds the template first`);
  }
});

test('types, filters and paging', async () => {
  const filtered = (await pave.api('GET', '/api/search/query?term=payments&filters[owner]=group:default/team-b')).body;
  assert.deepEqual(names(filtered), ['ledger'], 'owner filter');
  assert.equal((await pave.api('GET', '/api/search/query?term=payments&types[0]=techdocs')).body.numberOfResults, 0, 'type filter');
  assert.equal((await pave.api('GET', '/api/search/query?term=payments')).body.facets, undefined, 'facets only when asked for');
  const facets = (await pave.api('GET', '/api/search/query?term=payments&facets=true')).body.facets;
  assert.ok(facets.owner.some((f: any) => f.value === 'group:default/team-a' && f.count === 2), `owner facet: ${JSON.stringify(facets.owner)}`);
  const p1 = (await pave.api('GET', '/api/search/query?term=payments&pageLimit=1')).body;
  assert.equal(p1.results.length, 1, 'one per page');
  const p2 = (await pave.api('GET', `/api/search/query?term=payments&pageLimit=1&pageCursor=${p1.nextPageCursor}`)).body;
  assert.equal(p2.results[0].rank, 2, 'the next page goes on');
  assert.notEqual(p2.results[0].document.name, p1.results[0].document.name, 'with other results');
  assert.equal((await pave.api('GET', '/api/search/query?term=x&pageCursor=nonsense!')).body.error.code, 'INVALID_CURSOR', 'a bad cursor is a 400');
  assert.equal((await pave.api('GET', '/api/search/query?term=x&filters[colour]=red')).body.error.code, 'INVALID_FILTER', 'an unknown filter is a 400');
});

test('any term gives results or an empty list, never a 500', async () => {
  const terms = ['', ' ', '&|!:*()\'"', "'; drop table search_documents; --", 'payments & | !', '!!!', '(((', 'a'.repeat(5000), 'платежи', '支付', 'Überweisungen', '\\', '%_%', 'null', 'payments:*', '<script>alert(1)</script>'];
  for (const term of terms) {
    const res = await pave.api('GET', `/api/search/query?term=${encodeURIComponent(term)}`);
    assert.equal(res.status, 200, `term ${JSON.stringify(term.slice(0, 40))}: ${JSON.stringify(res.body).slice(0, 200)}`);
    assert.ok(Array.isArray(res.body.results), `results for ${JSON.stringify(term.slice(0, 40))}`);
  }
  assert.equal(names((await pave.api('GET', '/api/search/query?term=Überweisungen')).body)[0], 'zahlungen', 'non-Latin letters match');
  assert.equal((await pave.api('GET', '/api/search/query?term=payments')).status, 200, 'the table is still there');
});

test('a change is searchable at once; a removed entity leaves the index; reindex rebuilds it', async () => {
  fs.writeFileSync(path.join(dir, 'more.yaml'), component('refunds', 'team-a', 'Gives money back'));
  await pave.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(dir, 'more.yaml') });
  const t0 = Date.now();
  await eventually(async () => ((await pave.api('GET', '/api/search/query?term=refunds')).body.numberOfResults === 1 ? true : undefined), 5000, 'refunds searchable');
  assert.ok(Date.now() - t0 < 3000, `searchable within seconds (${Date.now() - t0} ms after registration)`);
  fs.writeFileSync(path.join(dir, 'more.yaml'), component('refunds', 'team-a', 'Gives money back to unhappy customers'));
  await eventually(async () => ((await pave.api('GET', '/api/search/query?term=unhappy')).body.numberOfResults === 1 ? true : undefined), 5000, 'the edit searchable');
  const loc = (await pave.api('GET', '/api/catalog/locations')).body.find((l: any) => l.data.target.endsWith('more.yaml')).data;
  await pave.api('DELETE', `/api/catalog/locations/${loc.id}`);
  await eventually(async () => ((await pave.api('GET', '/api/search/query?term=refunds')).body.numberOfResults === 0 ? true : undefined), 5000, 'refunds gone');
  await pave.store.query('delete from search_documents');
  const rebuilt = await pave.api('POST', '/api/search/reindex');
  assert.equal(rebuilt.status, 200, JSON.stringify(rebuilt.body));
  assert.ok(rebuilt.body.documents >= 8, `rebuilt ${rebuilt.body.documents} documents`);
  assert.equal(names((await pave.api('GET', '/api/search/query?term=payments')).body)[0], 'payments', 'searchable again');
});

test('search shows only what the caller may read', async () => {
  const scoped = await startTestPave({
    settings: {
      'permission.rules': [
        { roles: ['admin'], permissions: ['*'], decision: 'allow' },
        { roles: ['member'], permissions: ['catalog.entity.read'], decision: 'conditional', conditions: { rule: 'IS_ENTITY_OWNER' } },
        { roles: ['member'], permissions: ['search.query'], decision: 'allow' },
      ],
    },
  });
  try {
    await scoped.api('POST', '/api/catalog/locations', { type: 'file', target: path.join(dir, 'org.yaml') });
    await eventually(async () => ((await scoped.api('GET', '/api/search/query?term=ledger')).body.numberOfResults > 0 ? true : undefined), 10_000, 'indexed');
    const alice = scoped.apiAs(await scoped.tokenFor('user:default/alice'));
    const body = (await alice('GET', '/api/search/query?term=payments')).body;
    assert.deepEqual(names(body).sort(), ['payments', 'payments-gateway'], 'only team-a’s entities');
    assert.equal(body.numberOfResults, 2, 'and the count agrees');
  } finally {
    await scoped.close();
  }
});

test('pave search prints ranked results; pave search reindex rebuilds', async () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const run = (...args: string[]) =>
    new Promise<{ code: number; out: string }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--server', pave.url, '--token', pave.token], { cwd: root, env: { ...process.env, PAVE_CONFIG_DIR: dir } }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as any).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
  const found = await run('search', 'paymnets', '--filter', 'kind=component');
  assert.equal(found.code, 0, found.out);
  assert.match(found.out.split('\n')[0], /1\. payments .*owner group:default\/team-a.*\/catalog\/default\/component\/payments/, found.out);
  const json = JSON.parse((await run('search', 'ledger', '--json')).out);
  assert.equal(json.results[0].document.name, 'ledger', 'JSON answer');
  const bad = await run('search', 'x', '--filter', 'colour=red');
  assert.equal(bad.code, 1, 'an unknown filter fails');
  assert.match(bad.out, /INVALID_FILTER/, bad.out);
  const re = await run('search', 'reindex');
  assert.equal(re.code, 0, re.out);
  assert.match(re.out, /reindexed \d+ documents/, re.out);
});
