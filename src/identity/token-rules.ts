import type { QueryCombinators, ResourceRule } from './policy.ts';
import type { Principal } from './principal.ts';

type TokenFilter = { ownerRefs: string[] };
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => String(x).toLowerCase()) : []);

/** A token belongs to the person (or service) it acts for. */
export const tokenRules: ResourceRule<{ ownerRef: string }, TokenFilter>[] = [
  {
    name: 'IS_OWNER',
    resourceType: 'auth-token',
    description: 'The token acts for one of the claims (by default: the caller)',
    defaults: (p: Principal) => ({ claims: [p.ref] }),
    apply: (t, p) => list(p.claims).includes(t.ownerRef.toLowerCase()),
    toQuery: (p) => ({ ownerRefs: list(p.claims) }),
  },
];

export const tokenFilterCombinators: QueryCombinators<TokenFilter> = {
  allOf: (qs) => ({ ownerRefs: qs.reduce<string[]>((acc, q, i) => (i === 0 ? q.ownerRefs : acc.filter((r) => q.ownerRefs.includes(r))), []) }),
  anyOf: (qs) => ({ ownerRefs: [...new Set(qs.flatMap((q) => q.ownerRefs))] }),
  not: () => {
    throw new Error('Token lists cannot be filtered by a "not" condition');
  },
};
