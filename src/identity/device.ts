import { randomInt } from 'node:crypto';
import { badInput, notFound, PaveError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import { randomSecret, sha256 } from './secrets.ts';

const LIFETIME_S = 600;
const INTERVAL_S = 2;
// No vowels or look-alikes: codes are read off one screen and typed into another.
const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

interface DeviceRow {
  device_code_hash: string;
  user_code: string;
  client_name: string;
  scopes: string[];
  expires_at: Date;
  approved_by: string | null;
  denied_at: Date | null;
  consumed_at: Date | null;
  last_polled_at: Date | null;
}

const grantError = (code: string, message: string, status = 400) => new PaveError(code, status, message);

/**
 * The OAuth 2.0 device authorization grant (RFC 8628) for `pave login`: the CLI shows a code,
 * the person approves it in the portal, and the CLI's next poll receives a personal token.
 */
export class DeviceFlow {
  constructor(private readonly store: Store) {}

  async start(clientName: string, scopes: string[]) {
    const deviceCode = randomSecret(32);
    const raw = Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
    const userCode = `${raw.slice(0, 4)}-${raw.slice(4)}`;
    await this.store.query(
      `insert into auth_device_codes (device_code_hash, user_code, client_name, scopes, expires_at) values ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [sha256(deviceCode), userCode, clientName.slice(0, 100), scopes, LIFETIME_S],
    );
    return { deviceCode, userCode, expiresIn: LIFETIME_S, interval: INTERVAL_S };
  }

  private async byUserCode(userCode: string): Promise<DeviceRow> {
    const code = userCode.toUpperCase().replace(/[^A-Z]/g, '');
    const formatted = `${code.slice(0, 4)}-${code.slice(4)}`;
    const [row] = await this.store.query<DeviceRow>('select * from auth_device_codes where user_code = $1', [formatted]);
    if (!row || row.consumed_at || new Date(row.expires_at).getTime() < Date.now()) {
      throw notFound('DEVICE_CODE_NOT_FOUND', `No pending sign-in with code ${userCode}: it expired or was used; run "pave login" again`, { userCode });
    }
    return row;
  }

  async describe(userCode: string) {
    const row = await this.byUserCode(userCode);
    return { userCode: row.user_code, clientName: row.client_name, scopes: row.scopes, expiresAt: new Date(row.expires_at).toISOString(), approved: row.approved_by !== null };
  }

  async decide(userCode: string, principalRef: string, approve: boolean): Promise<void> {
    const row = await this.byUserCode(userCode);
    if (row.approved_by || row.denied_at) throw badInput('DEVICE_CODE_DECIDED', `The code ${row.user_code} was already ${row.approved_by ? 'approved' : 'denied'}`);
    await this.store.query(
      approve ? 'update auth_device_codes set approved_by = $2 where device_code_hash = $1' : 'update auth_device_codes set denied_at = now() where device_code_hash = $1',
      approve ? [row.device_code_hash, principalRef] : [row.device_code_hash],
    );
  }

  /** One poll: pending, slow down, denied, expired, or the approval (consumed exactly once). */
  async poll(deviceCode: string): Promise<{ approvedBy: string; scopes: string[]; clientName: string }> {
    const hash = sha256(deviceCode);
    const [row] = await this.store.query<DeviceRow>('select * from auth_device_codes where device_code_hash = $1', [hash]);
    if (!row || row.consumed_at) throw grantError('INVALID_GRANT', 'Unknown or already used device code; run "pave login" again');
    if (new Date(row.expires_at).getTime() < Date.now()) throw grantError('EXPIRED_TOKEN', 'The sign-in code expired before it was approved; run "pave login" again');
    if (row.denied_at) throw grantError('ACCESS_DENIED', 'The sign-in was denied in the browser', 403);
    if (!row.approved_by) {
      const tooSoon = row.last_polled_at && Date.now() - new Date(row.last_polled_at).getTime() < (INTERVAL_S * 1000) / 2;
      await this.store.query('update auth_device_codes set last_polled_at = now() where device_code_hash = $1', [hash]);
      if (tooSoon) throw grantError('SLOW_DOWN', `Poll at most every ${INTERVAL_S} seconds`);
      throw grantError('AUTHORIZATION_PENDING', 'Waiting for the code to be approved in the browser');
    }
    const taken = await this.store.query('update auth_device_codes set consumed_at = now() where device_code_hash = $1 and consumed_at is null returning 1', [hash]);
    if (!taken.length) throw grantError('INVALID_GRANT', 'Unknown or already used device code; run "pave login" again');
    return { approvedBy: row.approved_by, scopes: row.scopes, clientName: row.client_name };
  }
}
