// Shared helpers for Pave's benchmarks: machine description, statistics, a keep-alive HTTP
// client, and running Pave as a child process (so RSS and start-to-ready are Pave's own).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../src/testing/net.ts';
import { adminTokenFor } from '../src/testing/pave.ts';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_DIR = path.join(ROOT, 'bench');
/** Git-ignored scratch space of the benchmarks (compiled server). */
export const DATA_DIR = path.join(BENCH_DIR, '.data');

// ---------- environment ----------

export function envList(name: string, fallback: string): string[] {
  return (process.env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v.replace(/[_,]/g, ''));
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${v}"`);
  return n;
}

export function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model?.replace(/\s+/g, ' ').trim() ?? 'unknown cpu';
  return `${cpus.length} cores (${model}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}, ${os.type()} ${os.release()} ${os.arch()}`;
}

// ---------- cleanup ----------

const cleanups: (() => Promise<void> | void)[] = [];

/** Registers something to undo at the end (or on Ctrl-C); returns a function that runs it now. */
export function onCleanup(fn: () => Promise<void> | void): () => Promise<void> {
  let done = false;
  const run = async () => {
    if (done) return;
    done = true;
    const i = cleanups.indexOf(wrapped);
    if (i >= 0) cleanups.splice(i, 1);
    await fn();
  };
  const wrapped = () => run();
  cleanups.push(wrapped);
  return run;
}

export async function cleanupAll(): Promise<void> {
  for (const fn of cleanups.slice().reverse()) {
    try {
      await fn();
    } catch (e) {
      console.error(`cleanup failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\n${sig}: cleaning up…`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

// ---------- statistics and formatting ----------

export interface Stats {
  n: number;
  min: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles over latencies in ms. */
export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  return { n: s.length, min: s[0], median: at(50), p95: at(95), max: s[s.length - 1], mean: s.reduce((a, b) => a + b, 0) / s.length };
}

export const ms = (v: number | undefined) => (v === undefined ? '-' : v < 10 ? `${v.toFixed(2)} ms` : v < 100 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);
export const secs = (v: number | undefined) => (v === undefined ? '-' : `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`);
export const mib = (bytes: number | undefined) => (bytes === undefined ? '-' : `${(bytes / 2 ** 20).toFixed(0)} MiB`);
export const num = (v: number) => v.toLocaleString('en-US');

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

/** "4.21 s (target ≤ 4 s: missed)" */
export function vsTarget(text: string, value: number | undefined, limit: number | undefined, limitText: string): string {
  if (limit === undefined || value === undefined) return text;
  return `${text} (target ≤ ${limitText}: ${value <= limit ? 'met' : 'MISSED'})`;
}

// ---------- HTTP ----------

export interface Reply {
  status: number;
  body: string;
  json<T = any>(): T;
}

/** A sequential client on one kept-alive connection, with as little client overhead as possible. */
export class HttpClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  /** `token`: the API token sent as a bearer token on every request. */
  constructor(
    readonly base: string,
    readonly token?: string,
  ) {}

  request(method: string, pathAndQuery: string, body?: unknown, timeoutMs = 600_000): Promise<Reply> {
    const url = new URL(pathAndQuery, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
            ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${pathAndQuery} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  get(p: string): Promise<Reply> {
    return this.request('GET', p);
  }

  async getJson<T = any>(p: string): Promise<T> {
    const r = await this.get(p);
    if (r.status !== 200) throw new Error(`GET ${p} → ${r.status}: ${r.body.slice(0, 500)}`);
    return r.json<T>();
  }

  close(): void {
    this.agent.destroy();
  }
}

export const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

export { freePort };

// ---------- Pave as a child process ----------

export type Runner = 'build' | 'tsx';

let builtEntry: string | undefined;

/**
 * The CLI entry to run: `build` compiles src/ with tsc into bench/.data/build (what `npm start`
 * runs, without touching dist/); `tsx` runs src/cli/main.ts through tsx (slower start).
 */
export function paveEntry(runner: Runner): { entry: string; nodeArgs: string[]; buildMs?: number } {
  if (runner === 'tsx') return { entry: path.join(ROOT, 'src', 'cli', 'main.ts'), nodeArgs: ['--import', 'tsx'] };
  if (builtEntry) return { entry: builtEntry, nodeArgs: [] };
  const out = path.join(DATA_DIR, 'build');
  fs.rmSync(out, { recursive: true, force: true });
  const t0 = performance.now();
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', out, '--sourceMap', 'false'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  builtEntry = path.join(out, 'cli', 'main.js');
  return { entry: builtEntry, nodeArgs: [], buildMs: performance.now() - t0 };
}

export interface MemoryReading {
  /** VmRSS after a full GC in the child. */
  rss: number;
  /** VmHWM: the peak RSS of the process so far. */
  peakRss: number;
  /** process.memoryUsage() inside the child, after the GC. */
  inside?: { gc: boolean; rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
}

export interface PaveChildOptions {
  runner: Runner;
  dataDir: string;
  databaseUrl?: string;
  logFile: string;
  /** Extra PAVE_* settings. */
  env?: Record<string, string>;
}

export const BENCH_ADMIN_PASSWORD = 'bench-admin-password';

/** One running Pave process, started with `pave start` on a free port. */
export class PaveChild {
  /** An admin API token, made by signing in as the bootstrap admin once Pave is ready. */
  token = '';

  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
    readonly memFile: string,
    private readonly logFile: string,
    private exited: Promise<number | null>,
  ) {}

  get pid(): number {
    return this.proc.pid!;
  }

  /** Spawns Pave and resolves once GET /readyz answers 200; `readyMs` counts from the spawn. */
  static async start(opts: PaveChildOptions): Promise<{ pave: PaveChild; readyMs: number }> {
    const { entry, nodeArgs } = paveEntry(opts.runner);
    const port = await freePort();
    const memFile = path.join(path.dirname(opts.logFile), `mem-${port}.json`);
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PAVE_') && k !== 'DATABASE_URL' && k !== 'NODE_OPTIONS') env[k] = v;
    Object.assign(env, {
      PAVE_DATA_DIR: opts.dataDir,
      PAVE_CONFIG: '/dev/null',
      PAVE_LOG_LEVEL: 'warn',
      PAVE_SERVER_HOST: '127.0.0.1',
      PAVE_CATALOG_WATCH_FILES: 'false',
      PAVE_CATALOG_REFRESH_INTERVAL_SECONDS: '3600',
      PAVE_JOBS_POLL_MS: '50',
      PAVE_ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
      BENCH_MEM_FILE: memFile,
      ...opts.env,
    });
    if (opts.databaseUrl) env.DATABASE_URL = opts.databaseUrl;
    const log = fs.openSync(opts.logFile, 'a');
    const hook = path.join(BENCH_DIR, 'child-hook.mjs');
    const t0 = performance.now();
    const proc = spawn(process.execPath, ['--expose-gc', ...nodeArgs, '--import', hook, entry, 'start', '--port', String(port), '--no-demo'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const pave = new PaveChild(proc, `http://127.0.0.1:${port}`, memFile, opts.logFile, exited);
    const stopOnCleanup = onCleanup(() => pave.kill());
    pave.exited.then(() => void stopOnCleanup());
    let exitCode: number | null | undefined;
    void exited.then((c) => (exitCode = c ?? -1));
    const client = new HttpClient(pave.url);
    try {
      const deadline = Date.now() + 180_000;
      for (;;) {
        if (exitCode !== undefined) throw new Error(`Pave exited with ${exitCode} before it was ready:\n${pave.logTail()}`);
        if (Date.now() > deadline) throw new Error(`Pave not ready after 180 s:\n${pave.logTail()}`);
        try {
          const r = await client.request('GET', '/readyz', undefined, 2000);
          if (r.status === 200) break;
        } catch {
          // not listening yet
        }
        await sleep(5);
      }
    } catch (e) {
      await pave.kill();
      throw e;
    } finally {
      client.close();
    }
    const readyMs = performance.now() - t0;
    pave.token = await adminTokenFor(pave.url, BENCH_ADMIN_PASSWORD);
    return { pave, readyMs };
  }

  /** "exited with code 1" / "killed by SIGKILL" once the process is gone, else undefined. */
  exitInfo(): string | undefined {
    if (this.proc.signalCode) return `killed by ${this.proc.signalCode}`;
    if (this.proc.exitCode !== null) return `exited with code ${this.proc.exitCode}`;
    return undefined;
  }

  logTail(lines = 30): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Lines of the child's log that are warnings or errors (pino levels ≥ 40). */
  problems(): string[] {
    try {
      return fs
        .readFileSync(this.logFile, 'utf8')
        .split('\n')
        .filter((l) => {
          try {
            return JSON.parse(l).level >= 40;
          } catch {
            return false; // console lines ("Pave is running at ...")
          }
        });
    } catch {
      return [];
    }
  }

  /** RSS after a full GC in the child, and its peak so far (from /proc). */
  async memory(): Promise<MemoryReading> {
    fs.rmSync(this.memFile, { force: true });
    this.proc.kill('SIGUSR2');
    let inside: MemoryReading['inside'];
    for (let i = 0; i < 100 && !inside; i++) {
      await sleep(20);
      try {
        inside = JSON.parse(fs.readFileSync(this.memFile, 'utf8'));
      } catch {
        // not written yet
      }
    }
    await sleep(200); // let freed pages go back
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    fs.rmSync(this.memFile, { force: true });
    return { rss: kb('VmRSS'), peakRss: kb('VmHWM'), inside };
  }

  /** SIGTERM (graceful stop), resolving with the time it took to exit. */
  async stop(timeoutMs = 60_000): Promise<number> {
    const t0 = performance.now();
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    return performance.now() - t0;
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}

// ---------- stores ----------

export const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchStore {
  dataDir: string;
  databaseUrl?: string;
  drop(): Promise<void>;
}

/**
 * Where benchmarked Paves keep their data: beside the checkout, as `npm start` does (./.pave), not
 * in the system temp folder (on the machines Pave is measured on, files are created in /tmp some
 * 25 times slower than elsewhere on the same disk). BENCH_DATA_DIR moves it.
 */
const BENCH_DATA_ROOT = process.env.BENCH_DATA_DIR ?? path.join(ROOT, '.pave', 'bench');

/** A data folder, and on PostgreSQL a new database, for one Pave under benchmark; dropped at cleanup unless `keep`. */
export async function freshBenchStore(backend: 'postgres' | 'pglite', keep = process.env.BENCH_KEEP === '1'): Promise<BenchStore> {
  fs.mkdirSync(BENCH_DATA_ROOT, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(BENCH_DATA_ROOT, `${backend}-`));
  let databaseUrl: string | undefined;
  let dropDb = async () => undefined as void;
  if (backend === 'postgres') {
    process.env.PAVE_TEST_ADMIN_URL ??= ADMIN_URL;
    const { freshPostgres } = await import('../src/testing/db.ts');
    const db = await freshPostgres();
    databaseUrl = db.databaseUrl;
    dropDb = db.drop;
  }
  const drop = onCleanup(async () => {
    if (keep) {
      console.log(`kept: ${databaseUrl ?? ''} ${dataDir}`);
      return;
    }
    await dropDb();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return { dataDir, databaseUrl, drop };
}
