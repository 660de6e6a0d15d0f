import type { AuthConfig } from '../core/config.ts';
import { PaveError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import type { Principal } from './principal.ts';
import { randomSecret, sha256 } from './secrets.ts';
import type { UserDirectory } from './users.ts';

export interface SessionInfo {
  principal: Principal;
  csrfToken: string;
  provider: string;
  createdAt: string;
  expiresAt: string;
  idleExpiresAt: string;
}

interface SessionRow {
  id_hash: string;
  principal_ref: string;
  principal_type: 'user' | 'guest';
  provider: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

// Idle expiry is measured from the last request; writing it more often than this buys nothing.
const SEEN_EVERY_MS = 60_000;
const CACHE_MS = 5_000;

/**
 * The CSRF token is derived from the session cookie, so it is stored nowhere: only a page that
 * can read Pave's answers (same origin) learns it, and it is worthless without the cookie.
 */
export const csrfTokenFor = (cookieValue: string) => sha256(`csrf:${cookieValue}`);

export const sessionExpired = (message: string) => new PaveError('SESSION_EXPIRED', 401, message, { hint: 'Sign in again' });

/** Portal sessions: a random cookie value, stored hashed, with idle and absolute expiry. */
export class SessionService {
  private readonly cache = new Map<string, { info: SessionInfo; row: SessionRow; until: number }>();

  constructor(
    private readonly store: Store,
    private readonly config: AuthConfig['session'],
    private readonly users: UserDirectory,
  ) {}

  async create(input: { ref: string; type: 'user' | 'guest'; provider: string; sourceIp?: string; userAgent?: string }): Promise<{ cookieValue: string; info: SessionInfo }> {
    const cookieValue = randomSecret(32);
    const [row] = await this.store.query<SessionRow>(
      `insert into auth_sessions (id_hash, principal_ref, principal_type, provider, expires_at, source_ip, user_agent)
       values ($1, $2, $3, $4, now() + make_interval(secs => $5), $6, $7) returning *`,
      [sha256(cookieValue), input.ref.toLowerCase(), input.type, input.provider, this.config.absoluteHours * 3600, input.sourceIp ?? null, input.userAgent?.slice(0, 300) ?? null],
    );
    return { cookieValue, info: await this.infoOf(row, cookieValue) };
  }

  /** The session behind a cookie value; SESSION_EXPIRED when it is unknown, expired or revoked. */
  async authenticate(cookieValue: string): Promise<SessionInfo> {
    const key = sha256(cookieValue);
    const now = Date.now();
    const cached = this.cache.get(key);
    let row: SessionRow | undefined = cached && cached.until > now ? cached.row : undefined;
    if (!row) {
      [row] = await this.store.query<SessionRow>('select * from auth_sessions where id_hash = $1', [key]);
      if (!row) throw sessionExpired('Your session is not known here (signed out, or the server data was reset)');
    }
    if (row.revoked_at) throw sessionExpired('Your session was signed out');
    if (new Date(row.expires_at).getTime() <= now) throw sessionExpired(`Your session reached its maximum age of ${this.config.absoluteHours} hours`);
    const lastSeen = new Date(row.last_seen_at).getTime();
    if (lastSeen + this.config.idleMinutes * 60_000 <= now) throw sessionExpired(`Your session was idle for more than ${this.config.idleMinutes} minutes`);
    if (lastSeen < now - SEEN_EVERY_MS) {
      row = { ...row, last_seen_at: new Date(now) };
      await this.store.query('update auth_sessions set last_seen_at = now() where id_hash = $1', [key]);
    }
    if (cached && cached.until > now && cached.row === row) return cached.info;
    const info = await this.infoOf(row, cookieValue);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { info, row, until: now + CACHE_MS });
    return info;
  }

  private async infoOf(row: SessionRow, cookieValue: string): Promise<SessionInfo> {
    const ref = row.principal_ref;
    let principal: Principal;
    if (row.principal_type === 'guest') {
      principal = { type: 'guest', ref, ownershipRefs: [ref], roles: ['guest'], via: 'session', displayName: 'Guest' };
    } else {
      principal = {
        type: 'user',
        ref,
        ...(await this.users.standing(ref)),
        via: 'session',
        displayName: (await this.users.displayName(ref)) ?? ref.replace(/^user:(default\/)?/, ''),
      };
    }
    principal.sessionId = row.id_hash.slice(0, 12);
    return {
      principal,
      csrfToken: csrfTokenFor(cookieValue),
      provider: row.provider,
      createdAt: new Date(row.created_at).toISOString(),
      expiresAt: new Date(row.expires_at).toISOString(),
      idleExpiresAt: new Date(new Date(row.last_seen_at).getTime() + this.config.idleMinutes * 60_000).toISOString(),
    };
  }

  async revoke(cookieValue: string): Promise<void> {
    const key = sha256(cookieValue);
    this.cache.delete(key);
    await this.store.query('update auth_sessions set revoked_at = coalesce(revoked_at, now()) where id_hash = $1', [key]);
  }

  /** Sign-out everywhere: every session of the principal, on every replica within the cache time. */
  async revokeAll(ref: string): Promise<number> {
    const rows = await this.store.query<{ id_hash: string }>(
      'update auth_sessions set revoked_at = now() where principal_ref = $1 and revoked_at is null returning id_hash',
      [ref.toLowerCase()],
    );
    for (const r of rows) this.cache.delete(r.id_hash);
    return rows.length;
  }

  /** Removes sessions that can no longer be used. */
  async prune(): Promise<void> {
    await this.store.query(`delete from auth_sessions where expires_at < now() - interval '1 day' or revoked_at < now() - interval '1 day'`);
  }
}
