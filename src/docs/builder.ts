import fs from 'node:fs';
import path from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { CoalescedRunner } from '../core/coalesce.ts';
import type { DocsConfig } from '../core/config.ts';
import { errorMessage, isPaveError } from '../core/errors.ts';
import { nextEvents, type EventLog } from '../core/events.ts';
import type { JobQueue } from '../core/jobs.ts';
import type { Queryable, Store } from '../core/store.ts';
import { refKey } from '../catalog/refs.ts';
import { parseMkdocsConfig, type DocsProblem } from './mkdocs.ts';
import { buildSiteFromDir, type BuiltSite } from './site.ts';
import { checkout, describeSource, resolveDocsSource, TECHDOCS_REF, type DocsSource } from './source.ts';
import { docsUrls } from './urls.ts';
import { collateDocs, removeDocsFromSearch } from './search-collator.ts';

export const BUILD_JOB = 'docs.build';
const EVENT_BATCH = 2000;
// A safety net only: every append NOTIFYs, and the log's listeners wake at once (EventLog).
const POLL_MS = 5000;
const SCHEDULE_MS = 60_000;

export interface BuildOutcome {
  status: 'ready' | 'failed' | 'removed';
  pages?: number;
  ms?: number;
  error?: DocsProblem;
}

/**
 * Builds the docs of every entity with `backstage.io/techdocs-ref`, as jobs on the queue: when
 * the entity is registered, changes or is refreshed, when a watched local folder changes, and
 * on a schedule for sources read from URLs. A failed build keeps the last good one served.
 */
export class DocsBuilder {
  private readonly watchers = new Map<string, { dir: string; watcher: FSWatcher }>();
  private timers: NodeJS.Timeout[] = [];
  private readonly runner = new CoalescedRunner(
    () => this.catchUp(),
    (e) => this.deps.log.error({ err: e }, 'docs: reading catalog changes failed; retrying'),
    () => this.stopped,
  );
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly deps: {
      store: Store;
      events: EventLog;
      jobs: JobQueue;
      config: DocsConfig;
      /** Where checkouts of url: sources are made (`data.workDir`). */
      workDir: string;
      log: Logger;
      /** The folder of a repository Pave hosts, given its clone URL (undefined: not one of ours). */
      localRepo?: (url: string) => string | undefined;
    },
  ) {
    deps.jobs.register(BUILD_JOB, async (payload: { entityKey: string }) => this.build(payload.entityKey));
  }

  async start(): Promise<void> {
    // Entities documented before the docs builder existed (or while it was down) get built once.
    const missing = await this.deps.store.query<{ ref_key: string }>(
      `select e.ref_key from catalog_entities e
       where e.final->'metadata'->'annotations' ? '${TECHDOCS_REF}'
         and not exists (select 1 from docs_sites s where s.entity_key = e.ref_key)`,
    );
    for (const r of missing) await this.enqueue(r.ref_key);
    this.unsubscribe = this.deps.events.on('*', () => this.kick());
    const poll = setInterval(() => this.kick(), POLL_MS);
    const schedule = setInterval(() => void this.scheduleUrlSources().catch((e) => this.deps.log.warn({ err: errorMessage(e) }, 'docs schedule failed')), SCHEDULE_MS);
    poll.unref();
    schedule.unref();
    this.timers = [poll, schedule];
    await this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.unsubscribe?.();
    await this.runner.idle();
    await Promise.all([...this.watchers.values()].map((w) => w.watcher.close()));
    this.watchers.clear();
  }

  enqueue(entityKey: string): Promise<number> {
    return this.deps.jobs.enqueue(BUILD_JOB, { entityKey: refKey(entityKey) }, { dedupeKey: `${BUILD_JOB}:${refKey(entityKey)}` });
  }

  /** Reads catalog changes since the last time; overlapping calls coalesce. */
  kick(): Promise<void> {
    return this.runner.kick();
  }

  private async catchUp(): Promise<boolean> {
    return this.deps.store.tx(async (q) => {
      // One replica at a time reads the changes; the others skip this round.
      const [state] = await q.query<{ event_cursor: number }>(`select event_cursor from docs_state where id = 'catalog' for update skip locked`);
      if (!state) return false;
      const { events: rows, cursor } = await nextEvents(
        q,
        Number(state.event_cursor),
        ['catalog.entity.added', 'catalog.entity.changed', 'catalog.entity.removed', 'catalog.entity.refreshed', 'git.pushed'],
        EVENT_BATCH,
      );
      if (rows.length) {
        const keys = [...new Set(rows.filter((r) => r.type !== 'git.pushed').map((r) => refKey(r.subject)))];
        // A push to a Pave-hosted repository rebuilds the docs of the entity it belongs to.
        const pushedRepos = [...new Set(rows.filter((r) => r.type === 'git.pushed').map((r) => r.subject.replace(/^git:/, '')))];
        if (pushedRepos.length) {
          const owners = await q.query<{ entity_ref: string }>(
            `select entity_ref from git_repositories where entity_ref is not null and org || '/' || name = any($1::text[])`,
            [pushedRepos],
          );
          keys.push(...owners.map((o) => o.entity_ref));
        }
        // Documented now, or documented before (their site must go): both are built, or removed.
        const affected = await q.query<{ key: string }>(
          `select e.ref_key as key from catalog_entities e where e.ref_key = any($1::text[]) and e.final->'metadata'->'annotations' ? '${TECHDOCS_REF}'
           union select s.entity_key from docs_sites s where s.entity_key = any($1::text[])`,
          [keys],
        );
        for (const a of affected) {
          await this.deps.jobs.enqueue(BUILD_JOB, { entityKey: a.key }, { dedupeKey: `${BUILD_JOB}:${a.key}` }, q);
        }
      }
      if (cursor !== Number(state.event_cursor)) await q.query(`update docs_state set event_cursor = $1 where id = 'catalog'`, [cursor]);
      return rows.length === EVENT_BATCH;
    });
  }

  private async scheduleUrlSources(): Promise<void> {
    const due = await this.deps.store.query<{ entity_key: string }>(
      `select entity_key from docs_sites where source like 'url:%' and status <> 'building'
         and coalesce(last_attempt_at, 'epoch') < now() - make_interval(mins => $1::int)`,
      [Math.round(this.deps.config.refreshMinutes)],
    );
    for (const d of due) await this.enqueue(d.entity_key);
  }

  /** One build of one entity's docs (the job). */
  async build(entityKey: string): Promise<BuildOutcome> {
    const { store, log } = this.deps;
    const [row] = await store.query<{ final: any; ref_key: string }>('select final, ref_key from catalog_entities where ref_key = $1', [entityKey]);
    if (!row || !row.final?.metadata?.annotations?.[TECHDOCS_REF]) {
      await this.remove(entityKey);
      return { status: 'removed' };
    }
    const t0 = performance.now();
    let source: DocsSource;
    try {
      source = resolveDocsSource(row.final, entityKey);
    } catch (e) {
      return this.fail(entityKey, String(row.final.metadata.annotations[TECHDOCS_REF]), problemOf(e));
    }
    const sourceText = describeSource(source);
    await store.query(
      `insert into docs_sites (entity_key, source, status, last_attempt_at) values ($1, $2, 'building', now())
       on conflict (entity_key) do update set source = excluded.source, status = 'building', last_attempt_at = now(), updated_at = now()`,
      [entityKey, sourceText],
    );
    let co;
    try {
      co = await checkout(source, { timeoutMs: this.deps.config.gitTimeoutMs, workDir: this.deps.workDir, localRepo: this.deps.localRepo });
    } catch (e) {
      return this.fail(entityKey, sourceText, problemOf(e));
    }
    try {
      if (co.watch) this.watch(entityKey, co.watch);
      const urls = docsUrls(entityKey);
      const built = await buildSiteFromDir(co.dir, { limits: this.deps.config.limits, pageUrl: urls.page, assetUrl: urls.asset, editBase: co.editBase });
      if ('problem' in built) return this.fail(entityKey, sourceText, built.problem);
      const ms = await this.save(entityKey, sourceText, built.site, t0);
      log.info({ entity: entityKey, pages: built.site.pages.length, ms }, 'docs built');
      return { status: 'ready', pages: built.site.pages.length, ms };
    } finally {
      await co.cleanup();
    }
  }

  private async save(entityKey: string, source: string, site: BuiltSite, t0: number): Promise<number> {
    const urls = docsUrls(entityKey);
    // Pages in nav order first (previous/next follow it), then the rest by path.
    const order = new Map<string, number>();
    const walk = (nodes: BuiltSite['nav']) => {
      for (const n of nodes) {
        if (n.path && !order.has(n.path)) order.set(n.path, order.size);
        if (n.children) walk(n.children);
      }
    };
    walk(site.nav);
    const pages = [...site.pages].sort((a, b) => (order.get(a.path) ?? Infinity) - (order.get(b.path) ?? Infinity) || a.path.localeCompare(b.path));
    await this.deps.store.tx(async (q) => {
      await q.query('delete from docs_pages where entity_key = $1', [entityKey]);
      await q.query('delete from docs_assets where entity_key = $1', [entityKey]);
      await q.query(
        `insert into docs_pages (entity_key, path, slug, position, title, html, text, toc, edit_url)
         select $1, x.path, x.slug, x.position, x.title, x.html, x.text, x.toc, x.edit_url
         from jsonb_to_recordset($2::jsonb) as x(path text, slug text, position int, title text, html text, text text, toc jsonb, edit_url text)`,
        [
          entityKey,
          JSON.stringify(pages.map((p, i) => ({ path: p.path, slug: urls.slug(p.path), position: i, title: p.title, html: p.html, text: p.text, toc: p.toc, edit_url: site.editUrl?.(p.path) ?? null }))),
        ],
      );
      for (const a of site.assets) {
        await q.query('insert into docs_assets (entity_key, path, content_type, bytes) values ($1, $2, $3, $4)', [entityKey, a.path, a.contentType, a.bytes]);
      }
      await collateDocs(q, entityKey);
      // The build time covers reading, rendering and storing: everything up to the commit.
      await q.query(
        `update docs_sites set source = $2, site_name = $3, site_description = $4, nav = $5::jsonb, problems = $6::jsonb, built_at = now(),
           build_ms = $7, status = 'ready', error = null, updated_at = now() where entity_key = $1`,
        [entityKey, source, site.siteName, site.siteDescription ?? null, JSON.stringify(site.nav), JSON.stringify(site.problems), Math.round(performance.now() - t0)],
      );
      await this.deps.events.append(q, [{ type: 'docs.built', subject: entityKey, payload: { pages: pages.length, problems: site.problems.length } }]);
    });
    this.deps.events.notify(['docs.built']);
    return Math.round(performance.now() - t0);
  }

  private async fail(entityKey: string, source: string, problem: DocsProblem): Promise<BuildOutcome> {
    await this.deps.store.tx(async (q) => {
      await q.query(
        `insert into docs_sites (entity_key, source, status, last_attempt_at, error) values ($1, $2, 'failed', now(), $3::jsonb)
         on conflict (entity_key) do update set source = excluded.source, status = 'failed', last_attempt_at = now(), error = excluded.error, updated_at = now()`,
        [entityKey, source, JSON.stringify(problem)],
      );
      await this.deps.events.append(q, [{ type: 'docs.failed', subject: entityKey, payload: { code: problem.code, message: problem.message } }]);
    });
    this.deps.events.notify(['docs.failed']);
    this.deps.log.warn({ entity: entityKey, code: problem.code, message: problem.message }, 'docs build failed; the last good build stays served');
    return { status: 'failed', error: problem };
  }

  private async remove(entityKey: string): Promise<void> {
    await this.unwatch(entityKey);
    await this.deps.store.tx(async (q: Queryable) => {
      await q.query('delete from docs_sites where entity_key = $1', [entityKey]);
      await removeDocsFromSearch(q, entityKey);
    });
  }

  /** Edits to a local docs folder rebuild the site within a second. */
  private watch(entityKey: string, dir: string): void {
    if (!this.deps.config.watchFiles || this.stopped) return;
    // Only what the site is made of: a docs folder may sit at the root of a busy repository
    // (Pave's own data folder included), where any other write would start a build.
    const paths = [path.join(dir, 'mkdocs.yml'), path.join(dir, 'mkdocs.yaml'), path.join(dir, docsDirOf(dir))];
    const key = paths.join('\n');
    if (this.watchers.get(entityKey)?.dir === key) return;
    void this.unwatch(entityKey);
    let timer: NodeJS.Timeout | undefined;
    const watcher = chokidar.watch(paths, {
      ignoreInitial: true,
      persistent: false,
      ignored: (p: string) => /[\\/](node_modules|\.[^\\/]*)([\\/]|$)/.test(p.slice(dir.length)),
    });
    watcher.on('all', () => {
      clearTimeout(timer);
      timer = setTimeout(() => void this.enqueue(entityKey).catch(() => undefined), 200);
    });
    watcher.on('error', (e) => this.deps.log.warn({ err: errorMessage(e), entity: entityKey }, 'docs folder watch failed'));
    this.watchers.set(entityKey, { dir: key, watcher });
  }

  private async unwatch(entityKey: string): Promise<void> {
    const w = this.watchers.get(entityKey);
    this.watchers.delete(entityKey);
    await w?.watcher.close();
  }
}

/** The docs folder named by the site's mkdocs.yml (`docs` when it has none or cannot be read). */
function docsDirOf(dir: string): string {
  for (const name of ['mkdocs.yml', 'mkdocs.yaml']) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, name), 'utf8');
    } catch {
      continue;
    }
    const parsed = parseMkdocsConfig(text, name);
    return 'config' in parsed ? parsed.config.docsDir : 'docs';
  }
  return 'docs';
}

function problemOf(e: unknown): DocsProblem {
  if (isPaveError(e)) return { code: e.code, message: e.message };
  return { code: 'DOCS_BUILD_FAILED', message: errorMessage(e) };
}
