// pave login / logout / whoami / token, run as a child process against a real Pave, each test
// with its own PAVE_CONFIG_DIR.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { eventually, startTestPave, TEST_ADMIN_PASSWORD, type TestPave } from '../../src/testing/pave.ts';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
// Nothing from the machine running the tests: no PAVE_TOKEN, PAVE_SERVER or saved sign-in.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['PAVE_TOKEN', 'PAVE_SERVER', 'PAVE_CONFIG_DIR', 'XDG_CONFIG_HOME'].includes(k)));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('pave login, whoami, logout and token', () => {
  let server: TestPave;
  let tmp: string;
  let n = 0;
  /** A config folder of its own: a fresh machine, as far as saved sign-ins go. */
  const newConfigDir = () => path.join(tmp, `config-${++n}`);
  const credentialsOf = (configDir: string) => JSON.parse(fs.readFileSync(path.join(configDir, 'credentials.json'), 'utf8'));
  const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

  async function pave(args: string[], configDir: string | undefined, env: Record<string, string> = {}): Promise<Run> {
    try {
      const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--server', server.url, ...args], {
        cwd: root,
        env: { ...cleanEnv, ...(configDir ? { PAVE_CONFIG_DIR: configDir } : {}), ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (e: any) {
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  /** `pave login` in the background: resolves with the code it asks to confirm, then with how it ended. */
  async function startDeviceLogin(configDir: string, extra: string[] = []) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--server', server.url, 'login', '--no-browser', ...extra], {
      cwd: root,
      env: { ...cleanEnv, PAVE_CONFIG_DIR: configDir },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const ended = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr })));
    try {
      const [, link, userCode] = await eventually(async () => /Open (\S+) and confirm the code ([A-Z]{4}-[A-Z]{4})/.exec(stdout) ?? undefined, 30_000, `pave login to show a code (so far: ${stdout}${stderr})`);
      return { link, userCode, ended, kill: () => child.exitCode === null && child.kill('SIGKILL') };
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    }
  }

  /** Signs in as the admin in a "browser": the session cookie and its CSRF token. */
  async function browserSession(): Promise<{ cookie: string; csrfToken: string }> {
    const res = await fetch(`${server.url}/api/auth/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: TEST_ADMIN_PASSWORD }),
    });
    assert.equal(res.status, 200, 'the admin signs in');
    const { csrfToken } = (await res.json()) as { csrfToken: string };
    return { cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '), csrfToken };
  }

  async function decide(userCode: string, verdict: 'approve' | 'deny'): Promise<void> {
    const { cookie, csrfToken } = await browserSession();
    const res = await fetch(`${server.url}/api/auth/device/${userCode}/${verdict}`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken } });
    assert.equal(res.status, 204, `${verdict} ${userCode}: ${await res.text()}`);
  }

  /** The token must not show up in what the CLI printed. */
  function assertNotPrinted(token: string, ...runs: Run[]): void {
    for (const r of runs) {
      assert.ok(!r.stdout.includes(token), `the token is not on standard output:\n${r.stdout}`);
      assert.ok(!r.stderr.includes(token), `the token is not on standard error:\n${r.stderr}`);
    }
  }

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pave-cli-auth-'));
    server = await startTestPave();
  });
  after(async () => {
    await server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('without a token or a saved sign-in the server asks to sign in, and the CLI says how', async () => {
    const r = await pave(['catalog', 'list'], newConfigDir());
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /AUTH_REQUIRED: /);
    assert.match(r.stderr, /run "pave login"/);
  });

  test('login with a pasted token saves it (mode 0600); whoami and other commands then use it; logout revokes it', async () => {
    const config = newConfigDir();
    const token = await server.tokenFor('user:default/jane', ['write']);
    const login = await pave(['login', '--token', token], config);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, new RegExp(`Signed in to ${server.url} as user:default/jane`));
    const file = path.join(config, 'credentials.json');
    assert.equal(modeOf(file), 0o600, 'only the owner can read the credentials');
    assert.equal(credentialsOf(config).servers[server.url].token, token);

    const whoami = await pave(['whoami'], config);
    assert.equal(whoami.code, 0, whoami.stderr);
    assert.match(whoami.stdout, /^user:default\/jane on /);
    const json = JSON.parse((await pave(['whoami', '--json'], config)).stdout);
    assert.deepEqual({ ref: json.ref, scopes: json.scopes, via: json.via }, { ref: 'user:default/jane', scopes: ['write'], via: 'token' });
    const list = await pave(['catalog', 'list', '--json'], config);
    assert.equal(list.code, 0, list.stderr);
    // --token and PAVE_TOKEN win over the saved sign-in.
    const other = await pave(['whoami', '--json'], config, { PAVE_TOKEN: server.token });
    assert.equal(JSON.parse(other.stdout).ref, 'user:default/admin');

    const logout = await pave(['logout'], config);
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stdout, /Signed out of .* \(token [a-z0-9]{12} revoked\)/);
    assert.deepEqual(credentialsOf(config).servers, {});
    assert.equal(modeOf(file), 0o600, 'still private after rewriting');
    const revoked = await server.apiAs(token)('GET', '/api/auth/whoami');
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.error.code, 'TOKEN_REVOKED');
    const signedOut = await pave(['whoami'], config);
    assert.equal(signedOut.code, 1, signedOut.stdout);
    assert.match(signedOut.stderr, /AUTH_REQUIRED/);
    assert.match((await pave(['logout'], config)).stdout, /Not signed in to /);
    assertNotPrinted(token, login, whoami, list, logout, signedOut);
  });

  test('without PAVE_CONFIG_DIR the credentials go to $XDG_CONFIG_HOME/pave', async () => {
    const xdg = path.join(tmp, 'xdg');
    const token = await server.tokenFor('user:default/jane', ['read']);
    const login = await pave(['login', '--token', token], undefined, { XDG_CONFIG_HOME: xdg });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(credentialsOf(path.join(xdg, 'pave')).servers[server.url].token, token);
  });

  test('a bad pasted token exits 1 with TOKEN_INVALID and saves nothing', async () => {
    const config = newConfigDir();
    for (const bad of ['pave_pat_aaaaaaaaaaaa_' + 'x'.repeat(43), 'not-a-token']) {
      const r = await pave(['login', '--token', bad], config);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /TOKEN_INVALID: .*the token was not saved/);
      assertNotPrinted(bad, r);
    }
    assert.equal(fs.existsSync(path.join(config, 'credentials.json')), false, 'no credentials file');
  });

  test('token create, list and revoke; a revoked token gets TOKEN_REVOKED', async () => {
    const config = newConfigDir();
    const admin = { PAVE_TOKEN: server.token };
    const create = await pave(['token', 'create', 'laptop', '--scope', 'read', '--scope', 'catalog.*', '--expires-in-days', '7'], config, admin);
    assert.equal(create.code, 0, create.stderr);
    const token = /^\s+(pave_pat_\S+)$/m.exec(create.stdout)?.[1];
    assert.ok(token, `the token is printed once:\n${create.stdout}`);
    assert.match(create.stdout, /will not be shown again/);
    assert.match(create.stdout, /scopes read, catalog\.\*/);
    assert.ok(!create.stderr.includes(token), 'the token is not on standard error');
    const id = /\(id ([a-z0-9]{12})\)/.exec(create.stdout)?.[1];
    assert.equal(id, token.split('_')[2]);

    const json = await pave(['token', 'create', 'ci', '--json'], config, admin);
    const created = JSON.parse(json.stdout);
    assert.match(created.token, /^pave_pat_/);
    assert.deepEqual({ kind: created.kind, ownerRef: created.ownerRef, scopes: created.scopes }, { kind: 'personal', ownerRef: 'user:default/admin', scopes: ['write'] });

    const me = await pave(['whoami', '--json'], config, { PAVE_TOKEN: token });
    assert.deepEqual(JSON.parse(me.stdout).scopes, ['read', 'catalog.*']);

    const listed = JSON.parse((await pave(['token', 'list', '--json'], config, admin)).stdout).items;
    const laptop = listed.find((t: any) => t.id === id);
    assert.ok(laptop, 'the new token is listed');
    assert.equal(laptop.name, 'laptop');
    const days = (Date.parse(laptop.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 6.9 && days <= 7, `expires in 7 days, not ${days}`);
    const table = await pave(['token', 'list'], config, admin);
    assert.match(table.stdout, /^ID\s+NAME\s+KIND\s+OWNER\s+SCOPES\s+EXPIRES\s+LAST USED\s+REVOKED$/m);
    assert.match(table.stdout, new RegExp(`^${id}\\s+laptop\\s+personal\\s+user:default/admin\\s+read,catalog\\.\\*\\s+\\d{4}-\\d{2}-\\d{2}`, 'm'));

    const revoke = await pave(['token', 'revoke', id!], config, admin);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.match(revoke.stdout, new RegExp(`Revoked token "laptop" \\(id ${id}\\)`));
    const refused = await pave(['whoami'], config, { PAVE_TOKEN: token });
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /TOKEN_REVOKED: The API token "laptop" was revoked/);
    assert.match(refused.stderr, /run "pave login"/);
    const withRevoked = JSON.parse((await pave(['token', 'list', '--include-revoked', '--json'], config, admin)).stdout).items;
    assert.ok(withRevoked.find((t: any) => t.id === id)?.revokedAt, 'the revoked token shows when it was revoked');
    assert.ok(!JSON.parse((await pave(['token', 'list', '--json'], config, admin)).stdout).items.some((t: any) => t.id === id), 'revoked tokens are left out by default');
    assertNotPrinted(token, me, table, revoke, refused);
  });

  test('service tokens: made by an admin for a service, with a role and the groups it acts for', async () => {
    const config = newConfigDir();
    const admin = { PAVE_TOKEN: server.token };
    const r = await pave(['token', 'create', 'deploys', '--service', 'ci-deployer', '--role', 'viewer', '--owner', 'group:default/team-a', '--json'], config, admin);
    assert.equal(r.code, 0, r.stderr);
    const created = JSON.parse(r.stdout);
    assert.match(created.token, /^pave_svc_/);
    assert.deepEqual(
      { kind: created.kind, ownerRef: created.ownerRef, role: created.role, owners: created.owners },
      { kind: 'service', ownerRef: 'service:ci-deployer', role: 'viewer', owners: ['group:default/team-a'] },
    );
    const all = JSON.parse((await pave(['token', 'list', '--all', '--json'], config, admin)).stdout).items;
    assert.ok(all.some((t: any) => t.id === created.id), 'an admin sees the service token with --all');
    const mine = JSON.parse((await pave(['token', 'list', '--json'], config, admin)).stdout).items;
    assert.ok(!mine.some((t: any) => t.id === created.id), 'without --all only your own tokens');
    const noService = await pave(['token', 'create', 'x', '--role', 'admin'], config, admin);
    assert.equal(noService.code, 1, noService.stdout);
    assert.match(noService.stderr, /--role and --owner are for service tokens/);
    // A person's token, even with the admin scope, cannot make one: the role decides.
    const person = await server.tokenFor('user:default/jane', ['admin']);
    const denied = await pave(['token', 'create', 'x', '--service', 'sneaky'], config, { PAVE_TOKEN: person });
    assert.equal(denied.code, 1, denied.stdout);
    assert.match(denied.stderr, /NOT_ALLOWED: .*auth\.token\.service\.create/);
  });

  test('device flow: the code approved in the browser signs the CLI in with a working token', async () => {
    const config = newConfigDir();
    const login = await startDeviceLogin(config, ['--scope', 'read']);
    try {
      assert.match(login.link, new RegExp(`/device\\?code=${login.userCode}$`));
      await decide(login.userCode, 'approve');
      const done = await login.ended;
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, new RegExp(`Signed in to ${server.url} as user:default/admin`));
      const file = path.join(config, 'credentials.json');
      assert.equal(modeOf(file), 0o600, 'only the owner can read the credentials');
      const saved = credentialsOf(config).servers[server.url];
      assert.match(saved.token, /^pave_pat_/);
      const me = await server.apiAs(saved.token)('GET', '/api/auth/whoami');
      assert.equal(me.status, 200);
      assert.deepEqual({ ref: me.body.ref, scopes: me.body.scopes }, { ref: 'user:default/admin', scopes: ['read'] });
      const tokens = await server.api('GET', '/api/auth/tokens');
      assert.match(tokens.body.items.find((t: any) => t.id === saved.tokenId)?.name ?? '', /^pave CLI on /);
      const whoami = await pave(['whoami'], config);
      assert.equal(whoami.code, 0, whoami.stderr);
      assert.match(whoami.stdout, /^user:default\/admin on /);
      assertNotPrinted(saved.token, done, whoami);
    } finally {
      login.kill();
    }
  });

  test('device flow: a denied code exits 1 with ACCESS_DENIED and saves nothing', async () => {
    const config = newConfigDir();
    const login = await startDeviceLogin(config);
    try {
      await decide(login.userCode, 'deny');
      const done = await login.ended;
      assert.equal(done.code, 1, done.stdout);
      assert.match(done.stderr, /ACCESS_DENIED: /);
      assert.equal(fs.existsSync(path.join(config, 'credentials.json')), false, 'no credentials file');
    } finally {
      login.kill();
    }
  });
});
