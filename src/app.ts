import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { Catalog, catalogMigrations, catalogRoutes, loadRules } from './catalog/index.ts';
import { catalogEntityRules, catalogLocationRules, catalogPredicateCombinators } from './catalog/permissions.ts';
import { AuditLog, auditMigrations, auditRoutes, scheduleAuditRetention } from './audit/index.ts';
import { SearchIndexer, SearchService, searchMigrations, searchRoutes } from './search/index.ts';
import { collateDocs, DocsBuilder, docsMigrations, docsRoutes } from './docs/index.ts';
import { ChangeRequests, GitRepos, gitApiRoutes, gitMigrations, gitProtocolRoutes, gitRepoRules } from './git/index.ts';
import { createScaffolder, scaffolderMigrations, scaffolderRoutes, scaffolderTaskRules, type Scaffolder } from './scaffolder/index.ts';
import { removeLeftovers } from './core/scratch.ts';
import { oidcMigrations } from './identity/oidc-migrations.ts';
import { oidcRoutes } from './identity/oidc-routes.ts';
import { OidcSignIn } from './identity/oidc.ts';
import { authRoutes, Identity, identityMigrations, installAccessControl, permissionRoutes, tokenFilterCombinators, tokenRules } from './identity/index.ts';
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
  identity: Identity;
  audit: AuditLog;
  search: SearchIndexer;
  docs: DocsBuilder;
  git: GitRepos;
  scaffolder: Scaffolder;
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
  const log = pino({
    level: config.log.level,
    // Credentials never reach the log, whatever logs a request or a reply.
    redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]', '*.password', '*.token'],
  });
  const store = await openStore({ databaseUrl: config.database.url, dataDir: config.data.dir, poolSize: config.database.poolSize });
  phase('store');
  // A killed process leaves its workspaces behind. The embedded store belongs to this one
  // process, so all its work folder holds is left over; replicas of a shared store may share the
  // folder, so only what nobody touched for an hour goes.
  await removeLeftovers(config.data.workDir, store.backend === 'pglite' ? 0 : 3_600_000);
  let ready = false;
  let stopping = false;
  try {
    const ran = await migrate(store, [...eventMigrations, ...jobMigrations, ...catalogMigrations, ...auditMigrations, ...identityMigrations, ...oidcMigrations, ...searchMigrations, ...docsMigrations, ...gitMigrations, ...scaffolderMigrations]);
    if (ran.length) log.info({ migrations: ran }, 'migrations applied');
  } catch (e) {
    await store.close();
    throw e;
  }
  phase('migrations');
  const events = new EventLog(store);
  await events.listenAcrossProcesses();
  const jobs = new JobQueue(store, events, log.child({ component: 'jobs' }), {
    concurrency: config.jobs.concurrency,
    leaseMs: config.jobs.leaseSeconds * 1000,
    pollMs: config.jobs.pollMs,
  });
  const catalog = new Catalog(store, events, jobs, config.catalog, log.child({ component: 'catalog' }));
  const audit = new AuditLog(store, { log: log.child({ component: 'audit' }) });
  const indexer = new SearchIndexer(store, events, log.child({ component: 'search' }));
  indexer.addCollator((q) => collateDocs(q));
  // Hosted repositories live beside the embedded database (scale-out: a shared volume).
  const repos = new GitRepos(store, events, path.resolve(config.data.dir, 'git'), config.data.workDir);
  const changes = new ChangeRequests(store, events, repos);
  repos.onPushed = (org, name, updates) => changes.onPush(org, name, updates);
  const docs = new DocsBuilder({ store, events, jobs, config: config.docs, workDir: config.data.workDir, log: log.child({ component: 'docs' }), localRepo: (u) => (isOwnUrl(u) ? repos.localDirOf(u) : undefined) });
  catalog.readOwnUrl = async (u) => (isOwnUrl(u) ? repos.fileAtUrl(u) : undefined);
  const scaffolding = createScaffolder({ store, catalog, repos, changes, workDir: config.data.workDir, log: log.child({ component: 'scaffolder' }), baseUrl: () => url, config: config.scaffolder, integrations: config.integrations });
  // This server's own address, known once it listens: only its repositories are read from disk.
  const isOwnUrl = (u: string) => {
    try {
      const x = new URL(u);
      const own = new URL(url);
      return x.origin === own.origin || (x.port === String(port) && ['localhost', '127.0.0.1', '[::1]'].includes(x.hostname));
    } catch {
      return false;
    }
  };
  await scheduleAuditRetention(jobs, audit, config.audit.retentionDays);
  const identity = new Identity(store, config.auth, config.permission.rules);
  identity.policy.addResourceRules('catalog-entity', catalogEntityRules, catalogPredicateCombinators);
  identity.policy.addResourceRules('catalog-location', catalogLocationRules);
  identity.policy.addResourceRules('auth-token', tokenRules, tokenFilterCombinators);
  identity.policy.addResourceRules('git-repo', gitRepoRules);
  identity.policy.addResourceRules('scaffolder-task', scaffolderTaskRules);
  identity.resourceLoaders.set('catalog-entity', (ref) => catalog.byRef(ref));
  // A location's "ref" in the permission API is its id.
  identity.resourceLoaders.set('catalog-location', (id) => catalog.getLocation(id));
  identity.resourceLoaders.set('git-repo', (ref) => {
    const [org, name] = ref.replace(/^git:/, '').split('/');
    return repos.get(org, name);
  });
  try {
    identity.policy.check();
  } catch (e) {
    await store.close();
    throw e;
  }
  const bootstrap = await identity.accounts.bootstrap();
  if (bootstrap.generatedPassword) {
    // Shown once, on the terminal only: never in the structured log.
    process.stdout.write(
      `\n  Pave made the first admin account.\n    username: admin\n    password: ${bootstrap.generatedPassword}\n  It is shown only now: sign in and keep it, or set auth.local.bootstrapAdminPassword (PAVE_ADMIN_PASSWORD) before the first start.\n\n`,
    );
  }
  const httpsBaseUrl = config.server.baseUrl?.startsWith('https://') ?? false;
  const accessOptions = { identity, audit, secureCookie: config.auth.session.secureCookie, httpsBaseUrl, baseUrl: config.server.baseUrl };
  // The provider redirects back to the public URL: server.baseUrl, or this host and port (known
  // for certain only once listening, when the port is 0). Made now so a bad setting stops start-up.
  const oidcFor = (port: number) =>
    config.auth.oidc
      ? new OidcSignIn({
          store,
          config: config.auth.oidc,
          redirectUri: `${(config.server.baseUrl ?? `http://localhost:${port}`).replace(/\/+$/, '')}/api/auth/oidc/callback`,
          log: log.child({ component: 'oidc' }),
        })
      : undefined;
  let oidc = oidcFor(config.server.port);
  let coverage: { assertCovered(): void } | undefined;

  const app = await createHttp({
    logger: log,
    bodyLimit: config.server.bodyLimitBytes,
    version: VERSION,
    webRoot: path.join(packageRoot(), 'dist', 'web'),
    trustProxy: config.server.trustProxy,
    cors: config.server.cors,
    httpsBaseUrl,
    beforeRoutes: async (root) => {
      coverage = await installAccessControl(root, accessOptions);
    },
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
  await app.register(async (api) => authRoutes(api, { ...accessOptions, oidcDisplayName: config.auth.oidc?.displayName }), { prefix: '/api/auth' });
  if (oidc) await app.register(async (api) => oidcRoutes(api, { ...accessOptions, oidc: () => oidc! }), { prefix: '/api/auth/oidc' });
  await app.register(async (api) => auditRoutes(api, audit), { prefix: '/api/audit' });
  await app.register(async (api) => permissionRoutes(api, identity), { prefix: '/api/permission' });
  await app.register(async (api) => searchRoutes(api, { search: new SearchService(store), indexer }), { prefix: '/api/search' });
  await app.register(async (api) => docsRoutes(api, { store, catalog, builder: docs }), { prefix: '/api/docs' });
  await app.register(async (api) => gitApiRoutes(api, { repos, changes, baseUrl: config.server.baseUrl }), { prefix: '/api/git' });
  await app.register(async (api) => gitProtocolRoutes(api, { repos }), { prefix: '/git' });
  await app.register(async (api) => scaffolderRoutes(api, { catalog, scaffolder: scaffolding.scaffolder, tasks: scaffolding.tasks, actions: scaffolding.actions }), { prefix: '/api/scaffolder' });
  await app.ready();
  coverage!.assertCovered();

  phase('http');
  const demoRoot = path.join(packageRoot(), 'examples', 'all.yaml');
  await catalog.start(config.demo ? [{ type: 'file', target: demoRoot }] : []);
  await indexer.start();
  await docs.start();

  phase('catalog');
  await app.listen({ port: config.server.port, host: config.server.host });
  phase('listen');
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  if (port !== config.server.port) oidc = oidcFor(port);
  const url = config.server.baseUrl ?? `http://localhost:${port}`;
  // Work starts once the server answers: on the embedded store a long first import would
  // otherwise hold the one connection while start-up waits behind it.
  await jobs.start();
  await scaffolding.tasks.listenAcrossProcesses(() => scaffolding.worker.kick());
  scaffolding.worker.start();
  void loadRules();
  if (opts.waitForCatalog) await waitForLocations(store);
  ready = true;
  log.info({ url, backend: store.backend, dataDir: store.backend === 'pglite' ? config.data.dir : undefined, ms: Date.now() - started, phases }, 'Pave is ready');

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      await app.close(); // lets in-flight requests finish
      await Promise.all([jobs.stop(config.server.shutdownGraceSeconds * 1000), scaffolding.worker.stop(config.server.shutdownGraceSeconds * 1000)]);
      await catalog.stop();
      await indexer.stop();
      await docs.stop();
      await audit.stop();
      events.stopListening();
      scaffolding.tasks.stopListening();
      await store.close();
      log.info('Pave stopped');
    })());
  return { url, port, config, store, jobs, events, catalog, identity, audit, search: indexer, docs, git: repos, scaffolder: scaffolding.scaffolder, log, stop };
}

async function waitForLocations(store: Store, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [row] = await store.query<{ n: number }>(`select count(*)::int as n from catalog_locations where state = 'pending'`);
    if (row.n === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
