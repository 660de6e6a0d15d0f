import type { AuthConfig, Role } from '../core/config.ts';
import { badInput, conflict, notFound, PaveError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { parseRef } from '../catalog/refs.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, randomSecret, verifyPassword } from './secrets.ts';

export interface AccountInfo {
  username: string;
  entityRef: string;
  role: Role | null;
  locked: boolean;
  lockedUntil: string | null;
  failedAttempts: number;
  createdAt: string;
}

interface AccountRow {
  username: string;
  password_hash: string;
  entity_ref: string;
  role: Role | null;
  failed_attempts: number;
  locked_until: Date | null;
  created_at: Date;
}

const toInfo = (r: AccountRow): AccountInfo => ({
  username: r.username,
  entityRef: r.entity_ref,
  role: r.role,
  locked: r.locked_until !== null && new Date(r.locked_until).getTime() > Date.now(),
  lockedUntil: r.locked_until ? new Date(r.locked_until).toISOString() : null,
  failedAttempts: r.failed_attempts,
  createdAt: new Date(r.created_at).toISOString(),
});

const USERNAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const signInFailed = () => new PaveError('SIGNIN_FAILED', 401, 'Wrong username or password', {});

/** Local accounts: scrypt-hashed passwords, lockout after repeated failures. */
export class AccountService {
  constructor(
    private readonly store: Store,
    private readonly config: AuthConfig['local'],
  ) {}

  /**
   * On first start makes the `admin` account. Returns the generated password when none was
   * configured, so that start-up can show it once.
   */
  async bootstrap(): Promise<{ created: boolean; generatedPassword?: string }> {
    const [row] = await this.store.query<{ n: number }>('select count(*)::int as n from auth_accounts');
    if (row.n > 0 || !this.config.enabled) return { created: false };
    const generated = this.config.bootstrapAdminPassword ? undefined : randomSecret(15);
    const hash = await hashPassword(this.config.bootstrapAdminPassword ?? generated!);
    const inserted = await this.store.query(
      `insert into auth_accounts (username, password_hash, entity_ref, role) values ('admin', $1, 'user:default/admin', 'admin') on conflict do nothing returning username`,
      [hash],
    );
    return inserted.length ? { created: true, generatedPassword: generated } : { created: false };
  }

  /** Checks a password; counts failures and locks the account after `maxFailedAttempts`. */
  async verify(username: string, password: string): Promise<AccountInfo> {
    if (!this.config.enabled) throw new PaveError('SIGNIN_METHOD_DISABLED', 400, 'Local accounts are turned off (auth.local.enabled); sign in with SSO');
    const [row] = await this.store.query<AccountRow>('select * from auth_accounts where username = $1', [username.toLowerCase()]);
    if (!row) {
      await verifyPassword(password, DUMMY_PASSWORD_HASH).catch(() => false);
      throw signInFailed();
    }
    if (row.locked_until && new Date(row.locked_until).getTime() > Date.now()) {
      throw new PaveError('ACCOUNT_LOCKED', 423, `The account is locked after ${this.config.maxFailedAttempts} failed sign-ins until ${new Date(row.locked_until).toISOString()}; an admin can unlock it`, {
        lockedUntil: new Date(row.locked_until).toISOString(),
      });
    }
    if (!(await verifyPassword(password, row.password_hash))) {
      await this.store.query(
        `update auth_accounts set failed_attempts = failed_attempts + 1,
           locked_until = case when failed_attempts + 1 >= $2 then now() + make_interval(secs => $3) else locked_until end
         where username = $1`,
        [row.username, this.config.maxFailedAttempts, this.config.lockoutMinutes * 60],
      );
      throw signInFailed();
    }
    if (row.failed_attempts > 0 || row.locked_until) {
      await this.store.query('update auth_accounts set failed_attempts = 0, locked_until = null where username = $1', [row.username]);
    }
    return toInfo({ ...row, failed_attempts: 0, locked_until: null });
  }

  private checkPassword(password: string): void {
    if (typeof password !== 'string' || password.length < this.config.minPasswordLength) {
      throw badInput('PASSWORD_TOO_SHORT', `Passwords are at least ${this.config.minPasswordLength} characters (auth.local.minPasswordLength)`, {
        minLength: this.config.minPasswordLength,
      });
    }
  }

  async create(input: { username: string; password: string; entityRef: string; role?: Role | null }): Promise<AccountInfo> {
    const username = input.username.toLowerCase();
    if (!USERNAME.test(username)) throw badInput('USERNAME_INVALID', `"${input.username}" is not a username: use lowercase letters, digits, dot, dash or underscore`, { username: input.username });
    this.checkPassword(input.password);
    let ref: string;
    try {
      const p = parseRef(input.entityRef, { defaultKind: 'user' });
      if (p.kind !== 'user') throw new Error('it must name a User');
      ref = `user:${p.namespace}/${p.name}`;
    } catch (e) {
      throw badInput('INVALID_ENTITY_REF', `"${input.entityRef}" is not a User ref such as user:default/jane: ${(e as Error).message}`, { entityRef: input.entityRef });
    }
    const rows = await this.store.query<AccountRow>(
      `insert into auth_accounts (username, password_hash, entity_ref, role) values ($1, $2, $3, $4) on conflict do nothing returning *`,
      [username, await hashPassword(input.password), ref, input.role ?? null],
    );
    if (!rows[0]) throw conflict('ACCOUNT_EXISTS', `An account named ${username} already exists`, { username });
    return toInfo(rows[0]);
  }

  async list(): Promise<AccountInfo[]> {
    return (await this.store.query<AccountRow>('select * from auth_accounts order by username')).map(toInfo);
  }

  async remove(username: string): Promise<void> {
    const rows = await this.store.query('delete from auth_accounts where username = $1 returning username', [username]);
    if (!rows.length) throw notFound('ACCOUNT_NOT_FOUND', `No account named ${username}`, { username });
  }

  async unlock(username: string): Promise<AccountInfo> {
    const [row] = await this.store.query<AccountRow>('update auth_accounts set failed_attempts = 0, locked_until = null where username = $1 returning *', [username]);
    if (!row) throw notFound('ACCOUNT_NOT_FOUND', `No account named ${username}`, { username });
    return toInfo(row);
  }

  async changePassword(entityRef: string, current: string, next: string): Promise<void> {
    const [row] = await this.store.query<AccountRow>('select * from auth_accounts where lower(entity_ref) = $1 order by username limit 1', [entityRef.toLowerCase()]);
    if (!row) throw notFound('ACCOUNT_NOT_FOUND', `${entityRef} has no local account (it signs in with SSO)`, { entityRef });
    if (!(await verifyPassword(current, row.password_hash))) throw signInFailed();
    this.checkPassword(next);
    await this.store.query('update auth_accounts set password_hash = $2, password_changed_at = now() where username = $1', [row.username, await hashPassword(next)]);
  }
}
