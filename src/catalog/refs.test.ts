import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { parseRef, stringifyRef } from './refs.ts';

const refs = [
  'component:default/payments',
  'Component:Default/Payments',
  'component:payments',
  'payments',
  'team-a',
  'ns/name',
  'a/b:c',
  'group:ops/team-b',
  'component:a:b',
  'api:ns/a/b',
  ':name',
  'kind:/name',
  'kind:ns/',
  '',
  '/',
  ':',
  'user:default/jane.doe',
  'template:default/my_template',
];
const contexts = [{}, { defaultKind: 'Group' }, { defaultKind: 'API', defaultNamespace: 'ops' }, { defaultNamespace: 'x' }];

function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

test('parseRef agrees with Backstage on every ref and context', () => {
  for (const ref of refs) {
    for (const ctx of contexts) {
      assert.deepEqual(outcome(() => parseRef(ref, ctx)), outcome(() => parseEntityRef(ref, ctx)), `${JSON.stringify(ref)} with ${JSON.stringify(ctx)}`);
    }
  }
});

test('stringifyRef agrees with Backstage', () => {
  for (const name of [
    { kind: 'Component', namespace: 'default', name: 'a' },
    { kind: 'API', namespace: 'Ops', name: 'B-c' },
    { kind: 'group', name: 'team' },
  ]) {
    assert.equal(stringifyRef(name), stringifyEntityRef(name));
  }
});
