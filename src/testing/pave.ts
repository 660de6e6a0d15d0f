import { startPave, type PaveInstance, type StartOptions } from '../app.ts';
import { freshDatabase, type TestDatabase } from './db.ts';

export const TEST_ADMIN_PASSWORD = 'test-admin-password';

export type Api = <T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: T; headers: Headers }>;

export interface TestPave extends PaveInstance {
  db: TestDatabase;
  /** An admin API token (the bootstrap admin's), which `api` sends. */
  token: string;
  /** Stops Pave and drops its database. */
  close(): Promise<void>;
  /** Stops Pave and keeps its database, for a restart with `startTestPave({ database: pave.db })`. */
  stopKeepingData(): Promise<void>;
  /** Calls the API as the bootstrap admin. */
  api: Api;
  /** Calls the API with another token, or none (`undefined`). */
  apiAs(token: string | undefined): Api;
  /** A personal token for a user ref, with the given scopes. */
  tokenFor(userRef: string, scopes?: string[]): Promise<string>;
}

/** A real Pave on a random port, on a fresh store of the backend under test. */
export async function startTestPave(opts: StartOptions & { database?: TestDatabase } = {}): Promise<TestPave> {
  const db = opts.database ?? (await freshDatabase());
  const pave = await startPave({
    port: 0,
    host: '127.0.0.1',
    demo: false,
    logLevel: process.env.PAVE_TEST_LOG ?? 'silent',
    configFile: '/dev/null',
    ...opts,
    dataDir: opts.dataDir ?? db.dataDir,
    databaseUrl: db.databaseUrl,
    settings: { 'catalog.refreshIntervalSeconds': 3600, 'jobs.pollMs': 50, 'auth.local.bootstrapAdminPassword': TEST_ADMIN_PASSWORD, ...opts.settings },
  });
  const tokenFor = async (userRef: string, scopes = ['admin']) =>
    (await pave.identity.tokens.create({ name: 'test', kind: 'personal', owner: userRef, createdBy: userRef, scopes })).token;
  const token = await tokenFor('user:default/admin');
  const apiAs =
    (bearer: string | undefined): Api =>
    async (method, path, body, headers = {}) => {
      const res = await fetch(pave.url + path, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: any = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    };
  return {
    ...pave,
    db,
    token,
    api: apiAs(token),
    apiAs,
    tokenFor,
    close: async () => {
      await pave.stop();
      await db.drop();
    },
    stopKeepingData: () => pave.stop(),
  };
}

/** The secret part of a Pave API token (it may itself contain "_": the id before it does not). */
export function tokenSecretOf(token: string): string {
  const m = /^pave_(?:pat|svc)_[a-z0-9]{12}_([A-Za-z0-9_-]+)$/.exec(token);
  if (!m) throw new Error(`not a Pave API token: ${token.slice(0, 12)}…`);
  return m[1];
}

/**
 * An admin API token from a Pave running elsewhere (another process): signs in as the bootstrap
 * admin and creates a token with the session, as a person would in the portal.
 */
export async function adminTokenFor(url: string, password = TEST_ADMIN_PASSWORD): Promise<string> {
  const signin = await fetch(`${url}/api/auth/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  if (signin.status !== 200) throw new Error(`sign-in as admin failed: ${signin.status} ${await signin.text()}`);
  const { csrfToken } = (await signin.json()) as { csrfToken: string };
  const cookie = signin.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const res = await fetch(`${url}/api/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
    body: JSON.stringify({ name: 'test', scopes: ['admin'] }),
  });
  if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
