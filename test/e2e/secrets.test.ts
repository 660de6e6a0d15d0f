import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/core/store.ts';
import { freshDatabase } from '../../src/testing/db.ts';
import { eventually, tokenSecretOf } from '../../src/testing/pave.ts';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * Passwords, tokens, session cookies and CSRF tokens go through every path that handles them,
 * with the log at its most verbose; then the log, the event log, the audit log and the job
 * queue are searched for each of them.
 */
test('secrets, tokens and passwords never reach the log, the event log, the audit log or jobs', async () => {
  const db = await freshDatabase();
  const port = 7300 + Math.floor(Math.random() * 500);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--port', String(port)], {
    cwd: root,
    env: {
      ...process.env,
      PAVE_CONFIG: '/dev/null',
      PAVE_DEMO: 'false',
      PAVE_DATA_DIR: db.dataDir,
      ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {}),
      PAVE_LOG_LEVEL: 'trace',
      PAVE_ADMIN_PASSWORD: '',
    },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  try {
    await eventually(async () => (out.includes('Pave is running') ? true : undefined), 60_000, 'Pave to start');
    const url = `http://127.0.0.1:${port}`;
    const adminPassword = /password: (\S+)/.exec(out)?.[1];
    assert.ok(adminPassword && adminPassword.length >= 16, 'the first start prints a generated admin password');
    const secrets: Record<string, string> = { adminPassword };
    const call = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(url + p, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
    };

    secrets.wrongPassword = 'wrong-secret-password-xyz';
    assert.equal((await call('POST', '/api/auth/signin', { username: 'admin', password: secrets.wrongPassword })).status, 401, 'wrong password refused');
    const signin = await call('POST', '/api/auth/signin', { username: 'admin', password: adminPassword });
    assert.equal(signin.status, 200, 'admin signs in with the printed password');
    secrets.sessionCookie = signin.headers.getSetCookie()[0].split(';')[0].split('=')[1];
    secrets.csrfToken = signin.body.csrfToken;
    const session = { cookie: `pave_session=${secrets.sessionCookie}`, 'x-csrf-token': secrets.csrfToken };
    const created = await call('POST', '/api/auth/tokens', { name: 'ci', scopes: ['admin'] }, session);
    assert.equal(created.status, 201, 'token made with the session');
    secrets.token = created.body.token;
    secrets.tokenSecret = tokenSecretOf(created.body.token);
    const bearer = { authorization: `Bearer ${secrets.token}` };
    assert.equal((await call('GET', '/api/catalog/entities', undefined, bearer)).status, 200, 'token used to read');
    assert.equal((await call('POST', '/api/catalog/locations?dryRun=false', { type: 'url', target: 'https://example.invalid/x.yaml' }, bearer)).status >= 200, true, 'token used to write');
    secrets.accountPassword = 'carols-secret-password-1';
    assert.equal((await call('POST', '/api/auth/accounts', { username: 'carol', password: secrets.accountPassword, entityRef: 'user:default/carol' }, bearer)).status, 201, 'account created');
    const carol = await call('POST', '/api/auth/signin', { username: 'carol', password: secrets.accountPassword });
    assert.equal(carol.status, 200, 'carol signs in');
    const carolSession = { cookie: carol.headers.getSetCookie()[0].split(';')[0], 'x-csrf-token': carol.body.csrfToken };
    secrets.newPassword = 'carols-next-secret-password-2';
    assert.equal((await call('POST', '/api/auth/password', { currentPassword: secrets.accountPassword, newPassword: secrets.newPassword }, carolSession)).status, 204, 'password changed');
    const device = await call('POST', '/api/auth/device/code', { clientName: 'laptop' });
    secrets.deviceCode = device.body.deviceCode;
    assert.equal((await call('POST', `/api/auth/device/${device.body.userCode}/approve`, undefined, session)).status, 204, 'device approved');
    const polled = await call('POST', '/api/auth/device/token', { deviceCode: secrets.deviceCode });
    assert.equal(polled.status, 200, 'device token issued');
    secrets.deviceToken = polled.body.token;
    assert.equal((await call('GET', '/api/auth/whoami', undefined, { authorization: `Bearer ${secrets.deviceToken}` })).status, 200, 'device token works');
    assert.equal((await call('GET', '/api/auth/whoami', undefined, { authorization: `Bearer ${secrets.token}x` })).status, 401, 'a tampered token is refused');
    assert.equal((await call('POST', '/api/auth/signout', undefined, session)).status, 204, 'signed out');
    assert.equal((await call('GET', '/api/audit/verify', undefined, bearer)).body.ok, true, 'the audit chain verifies');

    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'stopped cleanly');
    // The one place the generated password may appear: the banner shown at first start.
    const log = out.replace(/\n {2}Pave made the first admin account\.[\s\S]*?PAVE_ADMIN_PASSWORD\) before the first start\.\n/, '\n');
    assert.ok(log.split('\n').filter((l) => l.startsWith('{')).length > 20, 'the trace log has lines to search');
    const store = await openStore({ databaseUrl: db.databaseUrl, dataDir: db.dataDir });
    try {
      const dump = async (table: string) => JSON.stringify(await store.query(`select * from ${table}`));
      const places: Record<string, string> = {
        log,
        events: await dump('pave_events'),
        audit: await dump('audit_log'),
        jobs: await dump('pave_jobs'),
        sessions: await dump('auth_sessions'),
        tokens: await dump('auth_tokens'),
        accounts: await dump('auth_accounts'),
        devices: await dump('auth_device_codes'),
      };
      assert.ok(places.audit.includes('auth.signin') && places.audit.includes('auth.token.create'), 'the audit log has the sign-ins and token creations');
      const leaks: string[] = [];
      for (const [what, value] of Object.entries(secrets)) {
        for (const [where, text] of Object.entries(places)) if (text.includes(value)) leaks.push(`${what} in ${where}`);
      }
      assert.deepEqual(leaks, [], `secrets found: ${leaks.join(', ')}`);
    } finally {
      await store.close();
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await db.drop();
  }
});
