import { startPave, type PaveInstance, type StartOptions } from '../app.ts';
import { freshDatabase, type TestDatabase } from './db.ts';

export interface TestPave extends PaveInstance {
  db: TestDatabase;
  /** Stops Pave and drops its database. */
  close(): Promise<void>;
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }>;
}

/** A real Pave on a random port, on a fresh store of the backend under test. */
export async function startTestPave(opts: StartOptions = {}): Promise<TestPave> {
  const db = await freshDatabase();
  const pave = await startPave({
    port: 0,
    host: '127.0.0.1',
    demo: false,
    logLevel: process.env.PAVE_TEST_LOG ?? 'silent',
    configFile: '/dev/null',
    ...opts,
    dataDir: opts.dataDir ?? db.dataDir,
    databaseUrl: db.databaseUrl,
    settings: { 'catalog.refreshIntervalSeconds': 3600, 'jobs.pollMs': 50, ...opts.settings },
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(pave.url + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
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
    api,
    close: async () => {
      await pave.stop();
      await db.drop();
    },
  };
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
