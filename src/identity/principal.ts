import type { Role } from '../core/config.ts';

/** Who is calling: resolved once per request from a session cookie or a bearer token. */
export interface Principal {
  type: 'user' | 'service' | 'guest' | 'anonymous';
  /** `user:default/jane`, `service:ci-deployer`, `user:default/guest` or `anonymous`. */
  ref: string;
  /** The principal itself and the groups it is a member of: what "owned by me" means. */
  ownershipRefs: string[];
  /** admin, member or viewer, plus `guest` / `service` for those kinds of principal. */
  roles: string[];
  /** Set for tokens: what the token may do at most, whatever the policy allows its owner. */
  scopes?: string[];
  via: 'session' | 'token' | 'none';
  tokenId?: string;
  sessionId?: string;
  displayName?: string;
}

export const ANONYMOUS: Principal = Object.freeze({ type: 'anonymous', ref: 'anonymous', ownershipRefs: [], roles: ['anonymous'], via: 'none' }) as Principal;

export const ROLES: readonly Role[] = ['admin', 'member', 'viewer'];
