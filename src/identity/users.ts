import type { AuthConfig, Role } from '../core/config.ts';
import type { Store } from '../core/store.ts';

/**
 * What a user ref stands for: the groups it is a member of (its ownership refs, as Backstage's
 * default resolution gives them) and its role, from local accounts and `auth.roles`.
 */
export class UserDirectory {
  constructor(
    private readonly store: Store,
    private readonly roles: AuthConfig['roles'],
  ) {}

  /** What every principal of a user carries, however it signed in: its groups and its role. */
  async standing(userRef: string): Promise<{ ownershipRefs: string[]; roles: string[] }> {
    const ownershipRefs = await this.ownershipRefs(userRef);
    return { ownershipRefs, roles: [await this.roleOf(userRef, ownershipRefs)] };
  }

  async ownershipRefs(userRef: string): Promise<string[]> {
    const rows = await this.store.query<{ target_key: string }>(
      `select distinct target_key from catalog_relations where source_key = $1 and type = 'memberOf'`,
      [userRef.toLowerCase()],
    );
    return [userRef.toLowerCase(), ...rows.map((r) => r.target_key).sort()];
  }

  /** A local account's role wins; then `auth.roles.admins` / `viewers` by user or group; then the default. */
  async roleOf(userRef: string, ownershipRefs: string[]): Promise<Role> {
    const [account] = await this.store.query<{ role: Role | null }>(
      `select role from auth_accounts where lower(entity_ref) = $1 and role is not null order by username limit 1`,
      [userRef.toLowerCase()],
    );
    if (account?.role) return account.role;
    const refs = new Set(ownershipRefs.map((r) => r.toLowerCase()));
    const listed = (list: string[]) => list.some((r) => refs.has(r.toLowerCase()));
    if (listed(this.roles.admins)) return 'admin';
    if (listed(this.roles.viewers)) return 'viewer';
    return this.roles.defaultRole;
  }

  async displayName(userRef: string): Promise<string | undefined> {
    const [row] = await this.store.query<{ name: string | null }>(
      `select coalesce(final->'spec'->'profile'->>'displayName', final->'metadata'->>'title') as name from catalog_entities where ref_key = $1`,
      [userRef.toLowerCase()],
    );
    return row?.name ?? undefined;
  }
}
