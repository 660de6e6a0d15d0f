import type { Principal } from '../identity/principal.ts';
import type { QueryCombinators, ResourceRule } from '../identity/policy.ts';
import type { Predicate } from './predicates.ts';

const lower = (v: unknown) => String(v).toLowerCase();
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(lower) : v === undefined ? [] : [lower(v)]);
const get = (obj: any, path: string) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

/** A field is there (and, when the rule names a value, has it, ignoring case). */
const hasValue = (v: unknown, p: Record<string, unknown>) => v !== undefined && (p.value === undefined || lower(v) === lower(p.value));
const valueQuery = (field: string, p: Record<string, unknown>): Predicate => ({ [field]: p.value === undefined ? { $exists: true } : (p.value as string) });

/** Claims default to the caller's ownership refs: themselves and their groups. */
const ownClaims = (p: Principal) => ({ claims: p.ownershipRefs });

/**
 * The conditions a policy can put on catalog entities, with Backstage's rule names and
 * parameters. Each also filters lists in the database, so a list shows only what may be read.
 */
export const catalogEntityRules: ResourceRule<any, Predicate>[] = [
  {
    name: 'IS_ENTITY_OWNER',
    resourceType: 'catalog-entity',
    description: 'The entity is owned by one of the claims (by default: the caller and their groups)',
    defaults: ownClaims,
    apply: (e, p) => {
      const claims = list(p.claims);
      return (e?.relations ?? []).some((r: any) => r.type === 'ownedBy' && claims.includes(lower(r.targetRef)));
    },
    toQuery: (p) => ({ 'relations.ownedBy': { $in: list(p.claims) } }),
  },
  {
    name: 'IS_ENTITY_KIND',
    resourceType: 'catalog-entity',
    description: 'The entity is of one of the kinds',
    apply: (e, p) => list(p.kinds).includes(lower(e?.kind)),
    toQuery: (p) => ({ kind: { $in: list(p.kinds) } }),
  },
  {
    name: 'HAS_ANNOTATION',
    resourceType: 'catalog-entity',
    description: 'The entity has the annotation (with the value, when given)',
    apply: (e, p) => hasValue(e?.metadata?.annotations?.[String(p.annotation)], p),
    toQuery: (p) => valueQuery(`metadata.annotations.${p.annotation}`, p),
  },
  {
    name: 'HAS_LABEL',
    resourceType: 'catalog-entity',
    description: 'The entity has the label',
    apply: (e, p) => e?.metadata?.labels?.[String(p.label)] !== undefined,
    toQuery: (p) => ({ [`metadata.labels.${p.label}`]: { $exists: true } }),
  },
  {
    name: 'HAS_METADATA',
    resourceType: 'catalog-entity',
    description: 'The entity has the metadata key (with the value, when given)',
    apply: (e, p) => hasValue(get(e?.metadata, String(p.key)), p),
    toQuery: (p) => valueQuery(`metadata.${p.key}`, p),
  },
  {
    name: 'HAS_SPEC',
    resourceType: 'catalog-entity',
    description: 'The entity has the spec key (with the value, when given)',
    apply: (e, p) => hasValue(get(e?.spec, String(p.key)), p),
    toQuery: (p) => valueQuery(`spec.${p.key}`, p),
  },
];

export const catalogPredicateCombinators: QueryCombinators<Predicate> = {
  allOf: (qs) => ({ $all: qs }),
  anyOf: (qs) => ({ $any: qs }),
  not: (q) => ({ $not: q }),
};

/** Locations belong to whoever registered them. */
export const catalogLocationRules: ResourceRule<{ createdBy?: string | null }>[] = [
  {
    name: 'IS_OWNER',
    resourceType: 'catalog-location',
    description: 'The location was registered by one of the claims (by default: the caller and their groups)',
    defaults: ownClaims,
    apply: (l, p) => l?.createdBy != null && list(p.claims).includes(lower(l.createdBy)),
  },
];
