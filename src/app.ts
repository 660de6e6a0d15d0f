import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { Catalog, catalogMigrations, catalogRoutes, loadRules } from './catalog/index.ts';
import {
  EventLog,
  JobQueue,
  eventMigrations,
  jobMigrations,
  loadConfig,
  migrate,
  openStore,
  type PaveConfig,
  type Store,
} from './core/index.ts';
import { coreRoutes } from './server/core-routes.ts';
import { createHttp } from './server/http.ts';

/** The folder holding package.json, whether running from src/ (tsx) or dist/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

export interface StartOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  demo?: boolean;
  databaseUrl?: string;
  logLevel?: string;
  /** pave.yaml to read; by default $PAVE_CONFIG or ./pave.yaml. */
  configFile?: string;
  /** Extra settings by key path (`catalog.orphanStrategy`), over file and environment. */
  settings?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Resolve only after the demo and config locations were processed once. */
  waitForCatalog?: boolean;
}

export interface PaveInstance {
  url: string;
  port: number;
  config: PaveConfig;
  store: Store;
  jobs: JobQueue;
  events: EventLog;
  catalog: Catalog;
  log: Logger;
  stop(): Promise<void>;
}

const VERSION: string = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version;

/** Starts one Pave process: store, migrations, job workers, catalog and HTTP. */
export async function startPave(opts: StartOptions = {}): Promise<PaveInstance> {
  const started = Date.now();
  // How long each start-up step took, logged with "Pave is ready".
  const phases: Record<string, number> = {};
  let lap = started;
  const phase = (name: string) => {
    phases[name] = Date.now() - lap;
    lap = Date.now();
  };
  const config = loadConfig({
    file: opts.configFile,
    env: opts.env,
    overrides: {
      'server.port': opts.port,
      'server.host': opts.host,
      'data.dir': opts.dataDir,
      demo: opts.demo,
      'database.url': opts.databaseUrl,
      'log.level': opts.logLevel,
      ...opts.settings,
    },
  });
  const log = pino({ level: config.log.level, redact: ['req.headers.authorization', 'req.headers.cookie'] });
  const store = await openStore({ databaseUrl: config.database.url, dataDir: config.data.dir, poolSize: config.database.poolSize });
  phase('store');
  let ready = false;
  let stopping = false;
  try {
    const ran = await migrate(store, [...eventMigrations, ...jobMigrations, ...catalogMigrations]);
    if (ran.length) log.info({ migrations: ran }, 'migrations applied');
  } catch (e) {
    await store.close();
    throw e;
  }
  phase('migrations');
  const events = new EventLog(store);
  const jobs = new JobQueue(store, events, log.child({ component: 'jobs' }), {
    concurrency: config.jobs.concurrency,
    leaseMs: config.jobs.leaseSeconds * 1000,
    pollMs: config.jobs.pollMs,
  });
  const catalog = new Catalog(store, events, jobs, config.catalog, log.child({ component: 'catalog' }));

  const app = await createHttp({
    logger: log,
    bodyLimit: config.server.bodyLimitBytes,
    version: VERSION,
    webRoot: path.join(packageRoot(), 'dist', 'web'),
    isReady: async () => {
      if (!ready || stopping) return false;
      try {
        await store.query('select 1');
        return true;
      } catch {
        return false;
      }
    },
  });
  // While shutting down, a finished response closes its connection: an idle keep-alive socket
  // would otherwise hold app.close() open for the whole keep-alive timeout.
  app.addHook('onSend', async (_req, reply) => {
    if (stopping) reply.header('connection', 'close');
  });
  await app.register(async (api) => coreRoutes(api, { jobs, events, store }), { prefix: '/api' });
  await app.register(async (api) => catalogRoutes(api, catalog), { prefix: '/api/catalog' });

  phase('http');
  const demoRoot = path.join(packageRoot(), 'examples', 'all.yaml');
  await catalog.start(config.demo ? [{ type: 'file', target: demoRoot }] : []);

  phase('catalog');
  await app.listen({ port: config.server.port, host: config.server.host });
  phase('listen');
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const url = config.server.baseUrl ?? `http://localhost:${port}`;
  // Work starts once the server answers: on the embedded store a long first import would
  // otherwise hold the one connection while start-up waits behind it.
  await jobs.start();
  void loadRules();
  if (opts.waitForCatalog) await waitForLocations(store);
  ready = true;
  log.info({ url, backend: store.backend, dataDir: store.backend === 'pglite' ? config.data.dir : undefined, ms: Date.now() - started, phases }, 'Pave is ready');

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      await app.close(); // lets in-flight requests finish
      await jobs.stop(config.server.shutdownGraceSeconds * 1000);
      await catalog.stop();
      await store.close();
      log.info('Pave stopped');
    })());
  return { url, port, config, store, jobs, events, catalog, log, stop };
}

async function waitForLocations(store: Store, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [row] = await store.query<{ n: number }>(`select count(*)::int as n from catalog_locations where state = 'pending'`);
    if (row.n === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
