import { spawn } from 'node:child_process';
import os from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { PaveApiError, PaveClient } from './client.ts';
import { removeCredential, saveCredential, savedCredential, tokenIdOf } from './credentials.ts';
import type { TokenInfo } from '../identity/index.ts';

/** `GET /api/auth/whoami`. */
interface WhoAmI {
  type: string;
  ref: string;
  displayName?: string;
  roles: string[];
  ownershipRefs?: string[];
  scopes?: string[];
  via: string;
}

/** `POST /api/auth/device/code`. */
interface DeviceCode {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string;
  expiresIn: number;
  interval: number;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

const day = (iso: string | null) => (iso ? iso.slice(0, 10) : 'never');
const minute = (iso: string | null) => (iso ? `${iso.slice(0, 16).replace('T', ' ')}Z` : '');

/** Best effort: a machine without a browser still shows the link to open elsewhere. */
function openBrowser(url: string): void {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no opener on this machine
  }
}

/** RFC 8628 from the device's side: show the code, poll until it is approved, denied or expired. */
async function deviceSignIn(server: string, scopes: string[], browser: boolean): Promise<{ token: string; expiresAt: string | null }> {
  const anonymous = new PaveClient(server);
  const started = await anonymous.request<DeviceCode>('POST', '/api/auth/device/code', {
    clientName: `pave CLI on ${os.hostname()}`,
    ...(scopes.length ? { scopes } : {}),
  });
  console.log(`Open ${started.verificationUriComplete} and confirm the code ${started.userCode}`);
  if (browser) openBrowser(started.verificationUriComplete);
  console.log('Waiting for the approval…');
  const deadline = Date.now() + started.expiresIn * 1000;
  let interval = started.interval;
  for (;;) {
    await new Promise((r) => setTimeout(r, interval * 1000));
    try {
      const granted = await anonymous.request<TokenInfo & { token: string }>('POST', '/api/auth/device/token', { deviceCode: started.deviceCode });
      return { token: granted.token, expiresAt: granted.expiresAt };
    } catch (e) {
      if (!(e instanceof PaveApiError)) throw e;
      if (e.code === 'AUTHORIZATION_PENDING') {
        if (Date.now() > deadline) throw new Error(`EXPIRED_TOKEN: the code ${started.userCode} was not approved within ${started.expiresIn} s; run "pave login" again`);
        continue;
      }
      if (e.code === 'SLOW_DOWN') {
        interval += 2;
        continue;
      }
      // ACCESS_DENIED, EXPIRED_TOKEN, INVALID_GRANT and anything else end the sign-in.
      throw new Error(`${e.code ?? e.status}: ${e.reason}`);
    }
  }
}

export function authCommands(program: Command): void {
  program
    .command('login')
    .description('Sign in to a Pave: approve a code in the browser, or save a token you pasted with --token')
    .usage('[--token <token>] [--scope <scope>...] [--no-browser]')
    .option('--scope <scope>', 'scope of the token the browser sign-in makes: read, write (default), admin or a permission pattern; repeatable', collect)
    .option('--no-browser', 'only print the link to open, do not start a browser')
    .addHelpText('after', '\nWith --token <token> (a global option) the token is checked and saved instead of signing in in the browser.')
    .action(async (opts: { scope?: string[]; browser: boolean }, cmd: Command) => {
      const { server: given, token: globalToken } = cmd.optsWithGlobals<{ server: string; token?: string }>();
      const server = given.replace(/\/+$/, '');
      // Only a token on this command line is "pasted"; one from PAVE_TOKEN is not saved anywhere.
      const pasted = program.getOptionValueSource('token') === 'cli' ? globalToken : undefined;
      if (pasted && opts.scope) throw new Error('--scope is for the browser sign-in; a pasted token keeps the scopes it was made with');
      const { token, expiresAt } = pasted ? { token: pasted, expiresAt: null } : await deviceSignIn(server, opts.scope ?? [], opts.browser);
      let me: WhoAmI;
      try {
        me = await new PaveClient(server, token).request<WhoAmI>('GET', '/api/auth/whoami');
      } catch (e) {
        // The hint of a 401 says to run pave login: this is it, so say what was wrong with the token.
        if (e instanceof PaveApiError && e.status === 401) throw new Error(`${e.code}: ${e.reason}; the token was not saved`);
        throw e;
      }
      // The server took it, so it has the pave_pat_<id>_… (or pave_svc_) form.
      const tokenId = tokenIdOf(token)!;
      const file = saveCredential(server, { token, tokenId, ref: me.ref, scopes: me.scopes ?? [], expiresAt, savedAt: new Date().toISOString() });
      console.log(`Signed in to ${server} as ${me.ref}`);
      console.error(`credentials saved in ${file}${expiresAt ? `; the token expires on ${day(expiresAt)}` : ''}`);
      if (program.getOptionValueSource('token') === 'env') console.error('note: PAVE_TOKEN is set; commands use it rather than this sign-in until you unset it');
    });

  program
    .command('logout')
    .description('Revoke the token saved for the server and forget it')
    .action(async (_opts: unknown, cmd: Command) => {
      const server = cmd.optsWithGlobals<{ server: string }>().server.replace(/\/+$/, '');
      const saved = savedCredential(server);
      if (!saved) {
        console.log(`Not signed in to ${server}`);
        return;
      }
      let revokeFailure: string | undefined;
      try {
        await new PaveClient(server, saved.token).request('DELETE', `/api/auth/tokens/${encodeURIComponent(saved.tokenId)}`);
      } catch (e) {
        // A token the server no longer accepts (revoked, expired) or knows has nothing left to revoke.
        const gone = e instanceof PaveApiError && (e.status === 401 || e.code === 'TOKEN_NOT_FOUND');
        if (!gone) revokeFailure = e instanceof PaveApiError ? `${e.code ?? e.status}: ${e.reason}` : (e as Error).message;
      }
      removeCredential(server);
      if (revokeFailure) {
        console.error(
          `pave: signed out here, but the token ${saved.tokenId} could not be revoked (${revokeFailure}); it stays valid${saved.expiresAt ? ` until ${day(saved.expiresAt)}` : ' until it expires'}: revoke it with "pave token revoke ${saved.tokenId}" or in the portal`,
        );
        process.exitCode = 1;
        return;
      }
      console.log(`Signed out of ${server} (token ${saved.tokenId} revoked)`);
    });

  program
    .command('whoami')
    .description('Who the server takes you for, with your roles and token scopes')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const client = PaveClient.from(cmd);
      const me = await client.request<WhoAmI>('GET', '/api/auth/whoami');
      if (opts.json) return console.log(JSON.stringify(me, null, 2));
      console.log(`${me.ref}${me.displayName ? ` (${me.displayName})` : ''} on ${client.server}`);
      console.log(`  type:   ${me.type}, signed in with ${me.via}`);
      console.log(`  roles:  ${me.roles.join(', ') || 'none'}`);
      if (me.scopes) console.log(`  scopes: ${me.scopes.join(', ')}`);
      if (me.ownershipRefs?.length) console.log(`  owns as: ${me.ownershipRefs.join(', ')}`);
    });

  const token = program.command('token').description('Create, list and revoke API tokens');

  token
    .command('create')
    .description('Create an API token; it is printed once')
    .argument('<name>', 'what the token is for, e.g. "laptop" or "ci deploys"')
    .option('--scope <scope>', 'read, write (default), admin or a permission pattern such as catalog.entity.*; repeatable', collect)
    .option('--expires-in-days <days>', 'lifetime in days (the server default when left out)', (v) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('Give a positive number of days, e.g. 30');
      return n;
    })
    .option('--service <name>', 'make a service token acting as this service, e.g. ci-deployer (admins only)')
    .addOption(new Option('--role <role>', 'service tokens: the role they act with').choices(['member', 'viewer', 'admin']))
    .option('--owner <group>', 'service tokens: a group they act for, e.g. group:default/team-a; repeatable', collect)
    .option('--json', 'print JSON (with the token)')
    .action(async (name: string, opts: { scope?: string[]; expiresInDays?: number; service?: string; role?: string; owner?: string[]; json?: boolean }, cmd: Command) => {
      if (!opts.service && (opts.role || opts.owner)) throw new Error('--role and --owner are for service tokens: add --service <name>');
      const body = {
        name,
        ...(opts.scope ? { scopes: opts.scope } : {}),
        ...(opts.expiresInDays !== undefined ? { expiresInDays: opts.expiresInDays } : {}),
        ...(opts.service ? { kind: 'service', service: opts.service, ...(opts.role ? { role: opts.role } : {}), ...(opts.owner ? { owners: opts.owner } : {}) } : {}),
      };
      const created = await PaveClient.from(cmd).request<TokenInfo & { token: string }>('POST', '/api/auth/tokens', body);
      if (opts.json) return console.log(JSON.stringify(created, null, 2));
      console.log(`Created ${created.kind} token "${created.name}" (id ${created.id}) for ${created.ownerRef}, scopes ${created.scopes.join(', ')}, expires ${day(created.expiresAt)}:`);
      console.log(`\n  ${created.token}\n`);
      console.log('Copy it now: it will not be shown again.');
    });

  token
    .command('list')
    .description('List your API tokens (an admin sees everyone\'s with --all)')
    .option('--all', 'every token, not only yours (admins)')
    .option('--include-revoked', 'also revoked tokens')
    .option('--json', 'print JSON')
    .action(async (opts: { all?: boolean; includeRevoked?: boolean; json?: boolean }, cmd: Command) => {
      const params = new URLSearchParams();
      if (opts.all) params.set('all', 'true');
      if (opts.includeRevoked) params.set('includeRevoked', 'true');
      const query = params.toString();
      const page = await PaveClient.from(cmd).request<{ items: TokenInfo[] }>('GET', `/api/auth/tokens${query ? `?${query}` : ''}`);
      if (opts.json) return console.log(JSON.stringify(page, null, 2));
      const rows = page.items.map((t) => [t.id, t.name, t.kind, t.ownerRef, t.scopes.join(','), day(t.expiresAt), minute(t.lastUsedAt), minute(t.revokedAt)]);
      console.log(table(['ID', 'NAME', 'KIND', 'OWNER', 'SCOPES', 'EXPIRES', 'LAST USED', 'REVOKED'], rows));
      console.log(`${page.items.length} token(s)`);
    });

  token
    .command('revoke')
    .description('Revoke an API token by its id (the ID column of "pave token list")')
    .argument('<id>', 'token id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const client = PaveClient.from(cmd);
      const revoked = await client.request<TokenInfo>('DELETE', `/api/auth/tokens/${encodeURIComponent(id)}`);
      console.log(`Revoked token "${revoked.name}" (id ${revoked.id}) of ${revoked.ownerRef}`);
      if (savedCredential(client.server)?.tokenId === revoked.id) {
        removeCredential(client.server);
        console.log(`It was your saved sign-in to ${client.server}: run "pave login" to sign in again`);
      }
    });
}
