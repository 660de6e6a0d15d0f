import type { OidcConfig } from '../core/config.ts';
import { PaveError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';

export interface SignInClaims {
  email?: string;
  preferredUsername?: string;
}

/**
 * Backstage's sign-in resolvers: each finds the catalog User that a signed-in person is.
 * They are tried in the configured order; the first that finds one user wins.
 */
const RESOLVERS: Record<string, (claims: SignInClaims, opts: { annotation?: string }) => { where: string; value: string } | undefined> = {
  emailMatchingUserEntityProfileEmail: (c) => (c.email ? { where: `lower(final->'spec'->'profile'->>'email') = lower($1)`, value: c.email } : undefined),
  emailLocalPartMatchingUserEntityName: (c) => (c.email ? { where: `lower(name) = lower($1)`, value: c.email.split('@')[0] } : undefined),
  preferredUsernameMatchingUserEntityName: (c) => (c.preferredUsername ? { where: `lower(name) = lower($1)`, value: c.preferredUsername } : undefined),
  emailMatchingUserEntityAnnotation: (c, o) =>
    c.email && o.annotation ? { where: `lower(final->'metadata'->'annotations'->>'${o.annotation.replace(/'/g, "''")}') = lower($1)`, value: c.email } : undefined,
};

export async function resolveUser(store: Store, claims: SignInClaims, resolvers: OidcConfig['resolvers']): Promise<string | undefined> {
  for (const r of resolvers) {
    const q = RESOLVERS[r.resolver]?.(claims, { annotation: r.annotation });
    if (!q) continue;
    const rows = await store.query<{ ref_key: string }>(`select ref_key from catalog_entities where lower(kind) = 'user' and ${q.where} order by ref_key limit 2`, [q.value]);
    if (rows.length > 1) {
      throw new PaveError('SIGNIN_AMBIGUOUS_USER', 403, `More than one catalog User matches ${q.value} (${r.resolver}); make the match unique in the catalog`, {
        resolver: r.resolver,
        users: rows.map((x) => x.ref_key),
      });
    }
    if (rows[0]) return rows[0].ref_key;
  }
  return undefined;
}
