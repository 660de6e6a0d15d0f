import { randomBytes } from 'node:crypto';
import type { AuthConfig, Role } from '../core/config.ts';
import { badInput, notFound, PaveError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { SCOPE_PATTERN } from './permissions.ts';
import type { Principal } from './principal.ts';
import { randomSecret, safeEqual, sha256 } from './secrets.ts';
import type { UserDirectory } from './users.ts';

export type TokenKind = 'personal' | 'service';

export interface TokenInfo {
  id: string;
  name: string;
  kind: TokenKind;
  ownerRef: string;
  createdBy: string;
  role?: Role;
  owners: string[];
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
}

interface TokenRow {
  id: string;
  secret_hash: string;
  name: string;
  kind: TokenKind;
  owner_ref: string;
  created_by: string;
  role: Role | null;
  owners: string[];
  scopes: string[];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  last_used_ip: string | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function toInfo(r: TokenRow): TokenInfo {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    ownerRef: r.owner_ref,
    createdBy: r.created_by,
    role: r.role ?? undefined,
    owners: r.owners,
    scopes: r.scopes,
    createdAt: iso(r.created_at)!,
    expiresAt: iso(r.expires_at),
    revokedAt: iso(r.revoked_at),
    lastUsedAt: iso(r.last_used_at),
    lastUsedIp: r.last_used_ip,
  };
}

// pave_pat_<id>_<secret> / pave_svc_<id>_<secret>: the id finds the row, only the secret's hash is stored.
const TOKEN_FORMAT = /^pave_(pat|svc)_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const LAST_USED_EVERY_MS = 60_000;

const tokenError = (code: string, message: string) =>
  new PaveError(code, 401, message, { hint: 'Create a new token with "pave token create" or in the portal under Settings → Tokens' });

export interface CreateTokenInput {
  name: string;
  kind: TokenKind;
  /** The person a personal token acts for, or the service name (`ci-deployer`). */
  owner: string;
  createdBy: string;
  scopes: string[];
  expiresInDays?: number | null;
  /** Service tokens only: the role they act with and the groups they act for. */
  role?: Role;
  owners?: string[];
}

/** Personal and service API tokens: shown once, stored hashed, scoped, expiring, revocable. */
export class TokenService {
  private readonly cache = new Map<string, { principal: Principal; expiresAt: number | null; until: number }>();
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly config: AuthConfig['tokens'],
    private readonly users: UserDirectory,
  ) {}

  async create(input: CreateTokenInput): Promise<{ token: string; info: TokenInfo }> {
    const name = input.name.trim();
    if (!name || name.length > 100) throw badInput('TOKEN_NAME_INVALID', 'Give the token a name of 1 to 100 characters, e.g. "laptop CLI"', { name: input.name });
    if (!input.scopes.length) throw badInput('TOKEN_SCOPE_INVALID', 'Give the token at least one scope: read, write, admin, or a permission pattern such as catalog.*');
    const bad = input.scopes.find((s) => !SCOPE_PATTERN.test(s));
    if (bad) throw badInput('TOKEN_SCOPE_INVALID', `"${bad}" is not a scope: use read, write, admin, or a permission pattern such as catalog.entity.*`, { scope: bad });
    const days = input.expiresInDays === undefined ? this.config.defaultLifetimeDays : input.expiresInDays;
    if (days === null || days <= 0 || days > this.config.maxLifetimeDays) {
      throw badInput('TOKEN_LIFETIME_INVALID', `Tokens expire within ${this.config.maxLifetimeDays} days (auth.tokens.maxLifetimeDays); asked for ${days ?? 'never'}`, {
        expiresInDays: days,
      });
    }
    let ownerRef = input.owner;
    if (input.kind === 'service') {
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(input.owner)) {
        throw badInput('TOKEN_NAME_INVALID', `A service name is lowercase letters, digits and dashes, e.g. "ci-deployer"; got "${input.owner}"`, { service: input.owner });
      }
      ownerRef = `service:${input.owner}`;
    }
    const id = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
    const secret = randomSecret(32);
    const token = `pave_${input.kind === 'personal' ? 'pat' : 'svc'}_${id}_${secret}`;
    const [row] = await this.store.query<TokenRow>(
      `insert into auth_tokens (id, secret_hash, name, kind, owner_ref, created_by, role, owners, scopes, expires_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(secs => $10)) returning *`,
      [id, sha256(secret), name, input.kind, ownerRef, input.createdBy, input.kind === 'service' ? (input.role ?? 'member') : null, (input.owners ?? []).map((o) => o.toLowerCase()), input.scopes, days * 86400],
    );
    return { token, info: toInfo(row) };
  }

  /** The principal a bearer token stands for; a stable 401 code for anything wrong with it. */
  async authenticate(token: string, sourceIp?: string): Promise<{ principal: Principal; firstUse: boolean }> {
    const cached = this.cache.get(token);
    const now = Date.now();
    if (cached && cached.until > now) {
      if (cached.expiresAt !== null && cached.expiresAt <= now) throw tokenError('TOKEN_EXPIRED', 'The API token has expired');
      return { principal: cached.principal, firstUse: this.touch(cached.principal.tokenId!, sourceIp) };
    }
    const m = TOKEN_FORMAT.exec(token);
    if (!m) throw tokenError('TOKEN_INVALID', 'The bearer token is not a Pave API token (they look like pave_pat_… or pave_svc_…)');
    const [row] = await this.store.query<TokenRow>('select * from auth_tokens where id = $1', [m[2]]);
    // Unknown id and wrong secret look the same from outside.
    if (!row || !safeEqual(row.secret_hash, sha256(m[3])) || (row.kind === 'personal') !== (m[1] === 'pat')) {
      throw tokenError('TOKEN_INVALID', 'The API token is not valid: it was mistyped, tampered with, or never issued here');
    }
    if (row.revoked_at) throw tokenError('TOKEN_REVOKED', `The API token "${row.name}" was revoked`);
    if (row.expires_at && new Date(row.expires_at).getTime() <= now) throw tokenError('TOKEN_EXPIRED', `The API token "${row.name}" expired at ${iso(row.expires_at)}`);
    const principal = await this.principalOf(row);
    if (this.config.cacheSeconds > 0) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(token, { principal, expiresAt: row.expires_at ? new Date(row.expires_at).getTime() : null, until: now + this.config.cacheSeconds * 1000 });
    }
    return { principal, firstUse: this.touch(row.id, sourceIp) };
  }

  private async principalOf(row: TokenRow): Promise<Principal> {
    if (row.kind === 'service') {
      return {
        type: 'service',
        ref: row.owner_ref,
        ownershipRefs: [row.owner_ref, ...row.owners],
        roles: [row.role ?? 'member', 'service'],
        scopes: row.scopes,
        via: 'token',
        tokenId: row.id,
      };
    }
    return {
      type: 'user',
      ref: row.owner_ref,
      ...(await this.users.standing(row.owner_ref)),
      scopes: row.scopes,
      via: 'token',
      tokenId: row.id,
    };
  }

  /**
   * Last-used time, written at most once a minute per token so checks stay off the write path.
   * True when this use was written: the audit log records token use at the same pace.
   */
  private touch(id: string, ip?: string): boolean {
    const now = Date.now();
    if ((this.lastUsedWritten.get(id) ?? 0) > now - LAST_USED_EVERY_MS) return false;
    if (this.lastUsedWritten.size > 10_000) this.lastUsedWritten.clear();
    this.lastUsedWritten.set(id, now);
    void this.store.query('update auth_tokens set last_used_at = now(), last_used_ip = $2 where id = $1', [id, ip ?? null]).catch(() => undefined);
    return true;
  }

  async list(filter: { ownerRefs?: string[]; includeRevoked?: boolean } = {}): Promise<TokenInfo[]> {
    const params: unknown[] = [];
    const conds: string[] = [];
    if (filter.ownerRefs) {
      params.push(filter.ownerRefs.map((r) => r.toLowerCase()));
      conds.push(`lower(owner_ref) = any($${params.length}::text[])`);
    }
    if (!filter.includeRevoked) conds.push('revoked_at is null');
    const rows = await this.store.query<TokenRow>(`select * from auth_tokens ${conds.length ? 'where ' + conds.join(' and ') : ''} order by created_at desc, id`, params);
    return rows.map(toInfo);
  }

  async get(id: string): Promise<TokenInfo> {
    const [row] = await this.store.query<TokenRow>('select * from auth_tokens where id = $1', [id]);
    if (!row) throw notFound('TOKEN_NOT_FOUND', `No API token with id ${id}`, { id });
    return toInfo(row);
  }

  async revoke(id: string): Promise<TokenInfo> {
    const [row] = await this.store.query<TokenRow>('update auth_tokens set revoked_at = coalesce(revoked_at, now()) where id = $1 returning *', [id]);
    if (!row) throw notFound('TOKEN_NOT_FOUND', `No API token with id ${id}`, { id });
    for (const [token, entry] of this.cache) if (entry.principal.tokenId === id) this.cache.delete(token);
    return toInfo(row);
  }

  /** Drops cached principals, e.g. after group membership or roles changed. */
  forget(): void {
    this.cache.clear();
  }
}
