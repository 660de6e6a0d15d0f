import type { PolicyRuleConfig } from '../core/config.ts';
import { badInput, type PaveError } from '../core/errors.ts';
import { allPermissions, matchesPattern, permissionDef, scopeAllows } from './permissions.ts';
import type { Principal } from './principal.ts';

/** A condition tree as Backstage's permission framework writes it. */
export type Condition =
  | { rule: string; params?: Record<string, unknown> }
  | { anyOf: Condition[] }
  | { allOf: Condition[] }
  | { not: Condition };

export type Decision =
  | { result: 'ALLOW' }
  | { result: 'DENY'; reason: 'policy' | 'scope' | 'anonymous' }
  | { result: 'CONDITIONAL'; resourceType: string; conditions: Condition };

/**
 * A rule a condition can name, defined by the capability that owns the resource type: it
 * decides for one resource (`apply`) and, where lists are filtered in the database, turns into
 * that capability's query language (`toQuery`).
 */
export interface ResourceRule<R = any, Q = unknown> {
  name: string;
  resourceType: string;
  description: string;
  /** Fills in parameters the policy leaves out, from the principal (e.g. ownership claims). */
  defaults?: (principal: Principal) => Record<string, unknown>;
  apply(resource: R, params: Record<string, unknown>): boolean;
  toQuery?(params: Record<string, unknown>): Q;
}

export interface QueryCombinators<Q> {
  allOf(qs: Q[]): Q;
  anyOf(qs: Q[]): Q;
  not(q: Q): Q;
}

/** The default policy: admins do everything, everyone reads, owners change what they own. */
export const DEFAULT_RULES: PolicyRuleConfig[] = [
  { roles: ['admin'], permissions: ['*'], decision: 'allow' },
  { permissions: ['auth.token.read', 'auth.token.revoke'], decision: 'conditional', conditions: { rule: 'IS_OWNER' } },
  { roles: ['member', 'viewer', 'guest', 'service'], permissions: ['*.read', 'catalog.entity.validate', 'catalog.location.analyze', 'search.query'], decision: 'allow' },
  { roles: ['member', 'viewer'], permissions: ['auth.token.create'], decision: 'allow' },
  { roles: ['member', 'service'], permissions: ['catalog.location.create', 'catalog.entity.create', 'catalog.location.refresh'], decision: 'allow' },
  { roles: ['member', 'service'], permissions: ['catalog.entity.delete', 'catalog.entity.refresh'], decision: 'conditional', conditions: { rule: 'IS_ENTITY_OWNER' } },
  { roles: ['member', 'service'], permissions: ['catalog.location.update', 'catalog.location.delete'], decision: 'conditional', conditions: { rule: 'IS_OWNER' } },
  { roles: ['member', 'service'], permissions: ['git.repo.create', 'git.change.create', 'scaffolder.task.create'], decision: 'allow' },
  { roles: ['member', 'service'], permissions: ['scaffolder.task.cancel'], decision: 'conditional', conditions: { rule: 'IS_OWNER' } },
  { roles: ['member', 'service'], permissions: ['git.repo.push', 'git.repo.delete'], decision: 'conditional', conditions: { rule: 'IS_OWNER' } },
];

export class Policy {
  private readonly rules: PolicyRuleConfig[];
  private readonly resourceRules = new Map<string, ResourceRule>();
  private readonly combinators = new Map<string, QueryCombinators<unknown>>();

  constructor(rules: PolicyRuleConfig[] = []) {
    this.rules = rules.length ? rules : DEFAULT_RULES;
    for (const [i, r] of this.rules.entries()) {
      if (r.decision === 'conditional' && !r.conditions) {
        throw badInput('POLICY_INVALID', `permission.rules[${i}] is conditional but has no conditions: add e.g. conditions: { rule: IS_ENTITY_OWNER }`, { rule: i });
      }
    }
  }

  get ruleList(): readonly PolicyRuleConfig[] {
    return this.rules;
  }

  /** Capabilities register the rules their resources understand. */
  addResourceRules<Q>(resourceType: string, rules: ResourceRule<any, Q>[], combinators?: QueryCombinators<Q>): void {
    for (const r of rules) this.resourceRules.set(`${resourceType}:${r.name}`, r);
    if (combinators) this.combinators.set(resourceType, combinators as QueryCombinators<unknown>);
  }

  /** Fails at start-up (not at request time) when the policy names a rule nobody defines. */
  check(): void {
    for (const [i, r] of this.rules.entries()) {
      if (r.decision !== 'conditional' || !r.conditions) continue;
      const types = new Set(
        allPermissions()
          .filter((d) => d.resourceType && r.permissions.some((p) => matchesPattern(p, d.name)))
          .map((d) => d.resourceType!),
      );
      // The default policy also speaks of capabilities that may not be loaded (a test of one part).
      if (types.size === 0 && this.rules === DEFAULT_RULES) continue;
      if (types.size === 0) {
        throw badInput('POLICY_INVALID', `permission.rules[${i}] is conditional, but none of ${r.permissions.join(', ')} is decided per resource`, { rule: i });
      }
      // A pattern such as catalog.* may cover several resource types: the rule applies to those whose
      // resources understand its conditions, and must fit at least one.
      const errors: PaveError[] = [];
      for (const type of types) {
        try {
          this.validateCondition(r.conditions as Condition, type, `permission.rules[${i}]`);
        } catch (e) {
          errors.push(e as PaveError);
        }
      }
      if (errors.length === types.size) throw errors[0];
    }
  }

  /** Whether every rule a condition names is defined for the resource type. */
  private fits(c: Condition, resourceType: string): boolean {
    if ('anyOf' in c) return c.anyOf.every((x) => this.fits(x, resourceType));
    if ('allOf' in c) return c.allOf.every((x) => this.fits(x, resourceType));
    if ('not' in c) return this.fits(c.not, resourceType);
    return this.resourceRules.has(`${resourceType}:${c.rule}`);
  }

  private validateCondition(c: Condition, resourceType: string, where: string): void {
    if ('anyOf' in c) return c.anyOf.forEach((x) => this.validateCondition(x, resourceType, where));
    if ('allOf' in c) return c.allOf.forEach((x) => this.validateCondition(x, resourceType, where));
    if ('not' in c) return this.validateCondition(c.not, resourceType, where);
    if (!('rule' in c) || typeof c.rule !== 'string') {
      throw badInput('POLICY_INVALID', `${where}: a condition is { rule, params } or anyOf / allOf / not`, { condition: c });
    }
    if (!this.resourceRules.has(`${resourceType}:${c.rule}`)) {
      const names = [...this.resourceRules.values()].filter((r) => r.resourceType === resourceType).map((r) => r.name).join(', ');
      throw badInput('POLICY_INVALID', `${where}: rule "${c.rule}" is not defined for ${resourceType}; its rules are ${names || '(none)'}`, { rule: c.rule, resourceType });
    }
  }

  // Principals are immutable and cached per token or session, so their decisions can be too.
  private readonly decided = new WeakMap<Principal, Map<string, Decision>>();

  /** The decision for a permission before any resource is known. */
  decide(principal: Principal, permission: string): Decision {
    let known = this.decided.get(principal);
    if (!known) this.decided.set(principal, (known = new Map()));
    let d = known.get(permission);
    if (!d) known.set(permission, (d = this.evaluate(principal, permission)));
    return d;
  }

  private evaluate(principal: Principal, permission: string): Decision {
    if (permission === 'auth.self') return principal.type === 'anonymous' ? { result: 'DENY', reason: 'anonymous' } : { result: 'ALLOW' };
    if (principal.scopes && !scopeAllows(principal.scopes, permission)) return { result: 'DENY', reason: 'scope' };
    const def = permissionDef(permission);
    for (const rule of this.rules) {
      // Callers who did not sign in match only rules that name them (`roles: [anonymous]`).
      if (principal.type === 'anonymous' ? !rule.roles?.includes('anonymous') : rule.roles && !rule.roles.some((r) => principal.roles.includes(r))) continue;
      if (!rule.permissions.some((p) => matchesPattern(p, permission))) continue;
      // Reads outside a `write` token's scope (the audit log) stay with admins even when a rule
      // says `*.read`; a rule must name them to give them to others.
      if (rule.decision === 'allow' && def?.adminScope && def.action === 'read' && !principal.roles.includes('admin') && !rule.permissions.includes(permission)) continue;
      if (rule.decision === 'allow') return { result: 'ALLOW' };
      if (rule.decision === 'deny') return { result: 'DENY', reason: 'policy' };
      // A conditional rule cannot apply to a permission without resources, or whose resources do not know its rules.
      if (!def?.resourceType || !this.fits(rule.conditions as Condition, def.resourceType)) continue;
      return { result: 'CONDITIONAL', resourceType: def.resourceType, conditions: this.bind(rule.conditions as Condition, def.resourceType, principal) };
    }
    return { result: 'DENY', reason: principal.type === 'anonymous' ? 'anonymous' : 'policy' };
  }

  /** Fills each rule's parameters from the principal, so the decision stands on its own. */
  private bind(c: Condition, resourceType: string, principal: Principal): Condition {
    if ('anyOf' in c) return { anyOf: c.anyOf.map((x) => this.bind(x, resourceType, principal)) };
    if ('allOf' in c) return { allOf: c.allOf.map((x) => this.bind(x, resourceType, principal)) };
    if ('not' in c) return { not: this.bind(c.not, resourceType, principal) };
    const rule = this.resourceRules.get(`${resourceType}:${c.rule}`);
    return { rule: c.rule, params: { ...(rule?.defaults?.(principal) ?? {}), ...(c.params ?? {}) } };
  }

  /** Applies a conditional decision to one resource. */
  applies(resourceType: string, c: Condition, resource: unknown): boolean {
    if ('anyOf' in c) return c.anyOf.some((x) => this.applies(resourceType, x, resource));
    if ('allOf' in c) return c.allOf.every((x) => this.applies(resourceType, x, resource));
    if ('not' in c) return !this.applies(resourceType, c.not, resource);
    const rule = this.resourceRules.get(`${resourceType}:${c.rule}`);
    // A rule this resource type does not know never grants anything.
    return rule ? rule.apply(resource, c.params ?? {}) : false;
  }

  /** Turns a conditional decision into the resource owner's query language, for list filtering. */
  toQuery<Q>(resourceType: string, c: Condition): Q {
    const comb = this.combinators.get(resourceType) as QueryCombinators<Q> | undefined;
    if (!comb) throw new Error(`No query combinators registered for resource type ${resourceType}`);
    if ('anyOf' in c) return comb.anyOf(c.anyOf.map((x) => this.toQuery<Q>(resourceType, x)));
    if ('allOf' in c) return comb.allOf(c.allOf.map((x) => this.toQuery<Q>(resourceType, x)));
    if ('not' in c) return comb.not(this.toQuery<Q>(resourceType, c.not));
    const rule = this.resourceRules.get(`${resourceType}:${c.rule}`);
    if (!rule?.toQuery) throw new Error(`Condition rule ${c.rule} of ${resourceType} cannot filter lists`);
    return rule.toQuery(c.params ?? {}) as Q;
  }
}
