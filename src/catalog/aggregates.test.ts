import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, startTestPave, type TestPave } from '../testing/pave.ts';

const component = (name: string, type: string) =>
  `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: ${type}\n  lifecycle: production\n  owner: team-a\n`;

let pave: TestPave;
let dir: string;
before(async () => {
  pave = await startTestPave();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-agg-'));
});
after(async () => {
  await pave.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('cached facets and totals follow every change to the catalog', async () => {
  const file = path.join(dir, 'catalog-info.yaml');
  fs.writeFileSync(file, component('one', 'service'));
  await pave.api('POST', '/api/catalog/locations', { type: 'file', target: file });
  const facets = async () => (await pave.api('GET', '/api/catalog/entity-facets?facet=spec.type&filter=kind=component')).body.facets['spec.type'];
  const total = async () => (await pave.api('GET', '/api/catalog/entities/by-query?filter=kind=component&limit=1')).body.totalItems;
  assert.deepEqual(await facets(), [{ value: 'service', count: 1 }]);
  assert.equal(await total(), 1, 'one component at first');
  assert.deepEqual(await facets(), [{ value: 'service', count: 1 }], 'the same answer again, from the cache');

  fs.writeFileSync(file, `${component('one', 'service')}---\n${component('two', 'website')}`);
  await eventually(async () => ((await total()) === 2 ? true : undefined), 10_000, 'the total to count the new component');
  assert.deepEqual(await facets(), [
    { value: 'service', count: 1 },
    { value: 'website', count: 1 },
  ]);

  const two = (await pave.api('GET', '/api/catalog/entities/by-name/component/default/two')).body;
  const removed = await pave.api('DELETE', `/api/catalog/entities/by-uid/${two.metadata.uid}`);
  assert.equal(removed.status, 204);
  assert.equal(await total(), 1, 'a removal through the API is counted at once');
  assert.deepEqual(await facets(), [{ value: 'service', count: 1 }]);
});
