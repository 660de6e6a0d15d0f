import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogEntityRules, catalogLocationRules, catalogPredicateCombinators } from '../catalog/permissions.ts';
import { scopeAllows } from './permissions.ts';
import { Policy } from './policy.ts';
import { ANONYMOUS, type Principal } from './principal.ts';
import { tokenFilterCombinators, tokenRules } from './token-rules.ts';

const user = (roles: string[], ownershipRefs = ['user:default/alice', 'group:default/team-a'], scopes?: string[]): Principal => ({
  type: 'user',
  ref: ownershipRefs[0],
  ownershipRefs,
  roles,
  scopes,
  via: 'token',
});

function policy(rules = []) {
  const p = new Policy(rules);
  p.addResourceRules('catalog-entity', catalogEntityRules, catalogPredicateCombinators);
  p.addResourceRules('catalog-location', catalogLocationRules);
  p.addResourceRules('auth-token', tokenRules, tokenFilterCombinators);
  p.check();
  return p;
}

const entity = (owner: string, kind = 'Component') => ({ kind, metadata: { name: 'x' }, relations: [{ type: 'ownedBy', targetRef: owner }] });

test('default policy: admins everything, members own, viewers read, anonymous nothing', () => {
  const p = policy();
  assert.equal(p.decide(user(['admin']), 'audit.read').result, 'ALLOW', 'admin reads the audit log');
  assert.equal(p.decide(user(['member']), 'audit.read').result, 'DENY', 'members do not');
  assert.equal(p.decide(user(['member']), 'catalog.entity.read').result, 'ALLOW', 'members read');
  assert.equal(p.decide(user(['viewer']), 'catalog.location.create').result, 'DENY', 'viewers do not register');
  assert.equal(p.decide(ANONYMOUS, 'catalog.entity.read').result, 'DENY', 'anonymous callers read nothing by default');
  assert.equal(p.decide(ANONYMOUS, 'auth.self').result, 'DENY', 'anonymous has no self');
  const d = p.decide(user(['member']), 'catalog.entity.delete');
  assert.equal(d.result, 'CONDITIONAL', 'members delete conditionally');
  if (d.result !== 'CONDITIONAL') return;
  assert.deepEqual(d.conditions, { rule: 'IS_ENTITY_OWNER', params: { claims: ['user:default/alice', 'group:default/team-a'] } }, 'claims bound from the principal');
  assert.equal(p.applies(d.resourceType, d.conditions, entity('group:default/team-a')), true, 'own team’s entity');
  assert.equal(p.applies(d.resourceType, d.conditions, entity('group:default/team-b')), false, 'another team’s entity');
  assert.deepEqual(p.toQuery(d.resourceType, d.conditions), { 'relations.ownedBy': { $in: ['user:default/alice', 'group:default/team-a'] } }, 'as a catalog predicate');
});

test('custom rules: first match wins, combinators filter lists, anonymous only by name', () => {
  const p = policy([
    { roles: ['member'], permissions: ['catalog.entity.delete'], decision: 'deny' },
    { roles: ['member'], permissions: ['catalog.*'], decision: 'conditional', conditions: { allOf: [{ rule: 'IS_ENTITY_OWNER' }, { not: { rule: 'HAS_LABEL', params: { label: 'frozen' } } }] } },
    { roles: ['anonymous'], permissions: ['catalog.entity.read'], decision: 'allow' },
  ] as any);
  assert.equal(p.decide(user(['member']), 'catalog.entity.delete').result, 'DENY', 'the earlier deny wins');
  const d = p.decide(user(['member']), 'catalog.entity.refresh');
  assert.equal(d.result, 'CONDITIONAL', 'conditional through the pattern');
  if (d.result !== 'CONDITIONAL') return;
  const frozen = { ...entity('group:default/team-a'), metadata: { name: 'x', labels: { frozen: 'yes' } } };
  assert.equal(p.applies(d.resourceType, d.conditions, entity('group:default/team-a')), true, 'owned, not frozen');
  assert.equal(p.applies(d.resourceType, d.conditions, frozen), false, 'owned but frozen');
  assert.deepEqual(
    p.toQuery(d.resourceType, d.conditions),
    { $all: [{ 'relations.ownedBy': { $in: ['user:default/alice', 'group:default/team-a'] } }, { $not: { 'metadata.labels.frozen': { $exists: true } } }] },
    'the same tree as a predicate',
  );
  assert.equal(p.decide(ANONYMOUS, 'catalog.entity.read').result, 'ALLOW', 'a rule naming anonymous lets it read');
  assert.equal(p.decide(user(['viewer']), 'catalog.entity.read').result, 'DENY', 'rules for others do not apply to viewers');
});

test('a conditional rule with a rule unknown to the resource type is refused at start', () => {
  assert.throws(
    () => policy([{ roles: ['member'], permissions: ['catalog.location.delete'], decision: 'conditional', conditions: { rule: 'IS_ENTITY_OWNER' } }] as any),
    (e: any) => e.code === 'POLICY_INVALID' && /catalog-location/.test(e.message) && /IS_OWNER/.test(e.message),
  );
  assert.throws(() => new Policy([{ permissions: ['x'], decision: 'conditional' }]), (e: any) => e.code === 'POLICY_INVALID', 'conditional without conditions');
});

test('token scopes cap the policy', () => {
  const p = policy();
  assert.equal(p.decide(user(['admin'], undefined, ['read']), 'catalog.location.create').result, 'DENY', 'read scope cannot write');
  assert.equal(p.decide(user(['admin'], undefined, ['write']), 'audit.read').result, 'DENY', 'write scope excludes admin-only permissions');
  assert.equal(p.decide(user(['admin'], undefined, ['admin']), 'audit.read').result, 'ALLOW', 'admin scope');
  assert.equal(scopeAllows(['catalog.entity.*'], 'catalog.entity.delete'), true, 'pattern scope');
  assert.equal(scopeAllows(['catalog.entity.*'], 'catalog.location.create'), false, 'pattern scope is narrow');
  assert.equal(scopeAllows(['read'], 'audit.read'), false, 'read scope does not read the audit log');
  assert.equal(scopeAllows([], 'auth.self'), true, 'a token can always ask who it is');
});
