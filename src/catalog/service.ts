import { randomUUID } from 'node:crypto';
import path from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import type { PaveConfig } from '../core/config.ts';
import { badInput, conflict, errorMessage, notFound, PaveError } from '../core/errors.ts';
import type { EventLog, NewEvent } from '../core/events.ts';
import type { JobQueue } from '../core/jobs.ts';
import type { Store } from '../core/store.ts';
import { AggregateCache } from './aggregates.ts';
import { applyTree, removeEntities } from './apply.ts';
import { projectFields } from './fields.ts';
import { generatedLocationEntity, generatedLocationName, readTree, type TreeRead } from './ingest.ts';
import { andPredicates, ENTITY_COLUMNS, predicateToSql, type Predicate } from './predicates.ts';
import { GLOB_CHARS, locationKey, resolveTarget, type LocationProblem, type LocationSpec } from './reader.ts';
import { parseRef, refKey, refOf, stringifyRef } from './refs.ts';
import { RelationError, relationsOf } from './relations.ts';
import { EntityValidator } from './validation.ts';

export const PROCESS_JOB = 'catalog.process-location';
export const MAINTAIN_JOB = 'catalog.maintain-tables';

export interface LocationStatus {
  state: 'pending' | 'ok' | 'failed';
  lastReadAt: string | null;
  lastOkAt: string | null;
  errors: LocationProblem[];
}

export interface Location {
  id: string;
  type: string;
  target: string;
  entityRef: string;
  status: LocationStatus;
  /** Who registered it through the API (null for pave.yaml and older locations). */
  createdBy: string | null;
}

interface LocationRow {
  id: string;
  entity_name: string;
  type: 'file' | 'url';
  target: string;
  state: LocationStatus['state'];
  last_read_at: Date | null;
  last_ok_at: Date | null;
  errors: LocationProblem[];
  created_by: string | null;
}

export interface OrderField {
  field: string;
  order: 'asc' | 'desc';
}

export interface QueryCursor {
  orderFields: OrderField[];
  orderFieldValues: (string | number | null)[];
  isPrevious: boolean;
  query?: Predicate;
  fullTextFilter?: { term: string; fields?: string[] };
  firstSortFieldValues?: (string | number | null)[];
  totalItems?: number;
}

/** An entity already serialized: lists pass the stored JSON text through without parsing it. */
export type EntityJson = string & { readonly __entityJson: true };

function entityJson(text: string, fields?: string[]): EntityJson {
  return (fields ? JSON.stringify(projectFields(JSON.parse(text), fields)) : text) as EntityJson;
}

export interface EntityPage {
  items: EntityJson[];
  totalItems: number;
  pageInfo: { nextCursor?: string; prevCursor?: string };
}

const MAX_ERRORS_SHOWN = 200;
// Ids and uids are uuid columns: anything else names no row (and must not reach the query).
const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
const ANALYZE_AFTER_ROWS = 1000;
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function locationEntityRef(spec: LocationSpec, name?: string): string {
  return refOf(generatedLocationEntity(spec, name));
}

function toLocation(r: LocationRow): Location {
  return {
    id: r.id,
    type: r.type,
    target: r.target,
    entityRef: locationEntityRef(r, r.entity_name),
    status: { state: r.state, lastReadAt: iso(r.last_read_at), lastOkAt: iso(r.last_ok_at), errors: r.errors },
    createdBy: r.created_by ?? null,
  };
}

export const encodeCursor = (c: object) => Buffer.from(JSON.stringify(c)).toString('base64');

export function decodeCursor(raw: string): QueryCursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
    if (c && Array.isArray(c.orderFields) && Array.isArray(c.orderFieldValues) && typeof c.isPrevious === 'boolean') return c;
  } catch {
    // reported below
  }
  throw badInput('INVALID_CURSOR', 'Malformed cursor: pass back pageInfo.nextCursor or prevCursor unchanged', { cursor: raw });
}

/**
 * The software catalog: registered locations, their processing into entities and relations,
 * and every read the API offers.
 */
export class Catalog {
  readonly validator: EntityValidator;
  private readonly aggregates: AggregateCache;
  private readonly watchers = new Map<string, { files: string; watcher: FSWatcher }>();
  private schedule: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly events: EventLog,
    private readonly jobs: JobQueue,
    private readonly config: PaveConfig['catalog'],
    private readonly log: Logger,
  ) {
    this.validator = new EntityValidator(config.kinds);
    this.aggregates = new AggregateCache(store);
    jobs.register(PROCESS_JOB, (payload: { locationId: string }) => this.processLocation(payload.locationId));
    // Fresh statistics keep the planner on the indexes, and a vacuumed visibility map lets facets
    // count from the index alone (autovacuum may be off, or late). A job of its own, after a
    // large change: the location's import is done (and answered) without waiting for it.
    jobs.register(MAINTAIN_JOB, () => this.store.exec('vacuum (analyze) catalog_entities, catalog_search, catalog_relations'));
  }

  /** Registers the locations of pave.yaml and starts the refresh schedule. */
  async start(extraLocations: LocationSpec[] = []): Promise<void> {
    const wanted = [...this.config.locations, ...extraLocations].map((l) => this.normalizeSpec(l));
    for (const spec of wanted) {
      const existing = await this.findLocation(spec);
      if (existing) await this.refreshLocation(existing.id);
      else await this.insertLocation(spec, 'config');
    }
    const everyMs = this.config.refreshIntervalSeconds * 1000;
    this.schedule = setInterval(() => void this.refreshAll().catch((e) => this.log.warn({ err: errorMessage(e) }, 'scheduled refresh failed')), everyMs);
    this.schedule.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.schedule) clearInterval(this.schedule);
    await Promise.all([...this.watchers.values()].map((w) => w.watcher.close()));
    this.watchers.clear();
  }

  async refreshAll(): Promise<void> {
    const rows = await this.store.query<{ id: string }>('select id from catalog_locations');
    for (const r of rows) await this.refreshLocation(r.id);
  }

  private normalizeSpec(spec: LocationSpec): LocationSpec {
    if (spec.type !== 'file' && spec.type !== 'url') {
      throw badInput('LOCATION_TYPE_UNSUPPORTED', `Location type "${spec.type}" is not supported; use "file" or "url"`, { type: spec.type });
    }
    if (typeof spec.target !== 'string' || spec.target.trim() === '') {
      throw badInput('LOCATION_TARGET_INVALID', 'A location needs a target: a path, a glob or an http(s) URL', { target: spec.target });
    }
    if (spec.type === 'url') {
      let url: URL;
      try {
        url = new URL(spec.target);
      } catch {
        throw badInput('LOCATION_TARGET_INVALID', `"${spec.target}" is not a URL; a url location needs an http(s) address`, { target: spec.target });
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw badInput('LOCATION_TARGET_INVALID', `"${spec.target}" is not an http(s) URL`, { target: spec.target });
      }
      return { type: 'url', target: url.toString() };
    }
    return { type: 'file', target: path.resolve(spec.target) };
  }

  // ---- locations ----

  private async findLocation(spec: LocationSpec): Promise<LocationRow | undefined> {
    const [row] = await this.store.query<LocationRow>('select * from catalog_locations where type = $1 and target = $2', [spec.type, spec.target]);
    return row;
  }

  private async insertLocation(spec: LocationSpec, source: 'api' | 'config', createdBy?: string): Promise<Location> {
    const id = randomUUID();
    const row = await this.store.tx(async (q) => {
      const [r] = await q.query<LocationRow>(
        `insert into catalog_locations (id, type, target, source, entity_name, created_by) values ($1, $2, $3, $4, $5, $6) returning *`,
        [id, spec.type, spec.target, source, generatedLocationName(spec), createdBy ?? null],
      );
      await this.events.append(q, [{ type: 'catalog.location.added', subject: `location:${id}`, payload: { type: spec.type, target: spec.target, source } }]);
      await this.jobs.enqueue(PROCESS_JOB, { locationId: id }, { dedupeKey: `${PROCESS_JOB}:${id}` }, q);
      return r;
    });
    this.events.notify(['catalog.location.added']);
    this.jobs.kick();
    return toLocation(row);
  }

  async addLocation(input: LocationSpec, opts: { dryRun?: boolean; onConflict?: 'refresh' | 'reject'; waitMs?: number; createdBy?: string } = {}) {
    const spec = this.normalizeSpec(input);
    const existing = await this.findLocation(spec);
    if (opts.dryRun) {
      const tree = await readTree(spec, this.validator, this.readerOptions());
      if (tree.problems.length > 0) {
        throw badInput('LOCATION_INVALID', `The location ${locationKey(spec)} has problems: ${tree.problems.map((p) => p.message).join(', ')}`, {
          problems: tree.problems,
        });
      }
      const entities = [...tree.candidates.values()].map((c) => c.entity);
      return {
        exists: existing !== undefined,
        location: { id: locationKey(spec), type: spec.type, target: spec.target, entityRef: locationEntityRef(spec) },
        entities,
      };
    }
    let location: Location;
    if (existing) {
      if (opts.onConflict !== 'refresh') {
        throw conflict('LOCATION_EXISTS', `Location ${locationKey(spec)} already exists (id ${existing.id}); refresh it instead, or pass onConflict=refresh`, {
          id: existing.id,
        });
      }
      await this.refreshLocation(existing.id);
      location = toLocation(existing);
    } else {
      location = await this.insertLocation(spec, 'api', opts.createdBy);
    }
    // Processing is quick; waiting a little lets the caller see the entities in the answer.
    const entities = await this.waitForLocation(location.id, opts.waitMs ?? 5_000);
    return { location: this.publicLocation(location), entities };
  }

  private async waitForLocation(id: string, waitMs: number): Promise<unknown[]> {
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      const [row] = await this.store.query<LocationRow>('select * from catalog_locations where id = $1', [id]);
      if (!row) return [];
      if (row.state !== 'pending') {
        const rows = await this.store.query<{ final: unknown }>('select final from catalog_entities where origin_id = $1 order by id limit 1000', [id]);
        return rows.map((r) => r.final);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return [];
  }

  /** The Backstage shape plus Pave's `status` (state and errors). */
  publicLocation(l: Location) {
    return { id: l.id, type: l.type, target: l.target, entityRef: l.entityRef, status: l.status };
  }

  async listLocations(): Promise<Location[]> {
    const rows = await this.store.query<LocationRow>('select * from catalog_locations order by created_at, id');
    return rows.map(toLocation);
  }

  async getLocation(id: string): Promise<Location> {
    const rows = isUuid(id) ? await this.store.query<LocationRow>('select * from catalog_locations where id = $1', [id]) : [];
    if (!rows[0]) throw notFound('LOCATION_NOT_FOUND', `Found no location with ID ${id}`, { id });
    return toLocation(rows[0]);
  }

  async queryLocations(predicate: Predicate | undefined, limit: number, afterId?: string, visible: (l: Location) => boolean = () => true) {
    const all = (await this.listLocations()).filter((l) => visible(l) && matchLocation(l, predicate));
    all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const rest = afterId ? all.filter((l) => l.id > afterId) : all;
    const page = rest.slice(0, limit);
    const more = rest.length > limit;
    return {
      items: page.map((l) => this.publicLocation(l)),
      totalItems: all.length,
      pageInfo: more ? { nextCursor: encodeCursor({ limit, afterId: page[page.length - 1].id, query: predicate }) } : {},
    };
  }

  async updateLocation(id: string, input: LocationSpec): Promise<Location> {
    const spec = this.normalizeSpec(input);
    const current = await this.getLocation(id);
    const other = await this.findLocation(spec);
    if (other && other.id !== id) throw conflict('LOCATION_EXISTS', `Location ${locationKey(spec)} already exists (id ${other.id})`, { id: other.id });
    await this.store.query(`update catalog_locations set type = $2, target = $3, state = 'pending' where id = $1`, [id, spec.type, spec.target]);
    await this.refreshLocation(id);
    return { ...current, type: spec.type, target: spec.target };
  }

  async deleteLocation(id: string): Promise<void> {
    await this.getLocation(id);
    const removed = await this.store.tx(async (q) => {
      const rows = await q.query<{ id: number; ref_key: string; uid: string; final: any }>(
        'select id, ref_key, uid, final from catalog_entities where origin_id = $1',
        [id],
      );
      await removeEntities(q, rows.map((r) => r.id));
      await q.query('delete from catalog_locations where id = $1', [id]);
      const ev: NewEvent[] = rows.map((r) => ({ type: 'catalog.entity.removed', subject: refOf(r.final), payload: { locationId: id, uid: r.uid } }));
      ev.push({ type: 'catalog.location.removed', subject: `location:${id}`, payload: {} });
      await this.events.append(q, ev);
      return rows.length;
    });
    this.events.notify(['catalog.entity.removed', 'catalog.location.removed']);
    const w = this.watchers.get(id);
    if (w) {
      this.watchers.delete(id);
      await w.watcher.close();
    }
    this.log.info({ location: id, removed }, 'location removed');
    if (removed > 0) await this.refreshConflicting(id);
  }

  /** Locations that lost an ENTITY_CONFLICT to `id` may now take the entity: read them again. */
  private async refreshConflicting(id: string): Promise<void> {
    const rows = await this.store.query<{ id: string }>(`select id from catalog_locations where id <> $1 and errors @> $2::jsonb`, [
      id,
      JSON.stringify([{ code: 'ENTITY_CONFLICT', details: { claimedByLocationId: id } }]),
    ]);
    for (const r of rows) await this.refreshLocation(r.id);
  }

  async refreshLocation(id: string): Promise<number> {
    return this.jobs.enqueue(PROCESS_JOB, { locationId: id }, { dedupeKey: `${PROCESS_JOB}:${id}` });
  }

  async locationByEntity(ref: string): Promise<Location> {
    const entity = await this.byRef(ref);
    const origin = entity.metadata?.annotations?.['backstage.io/managed-by-origin-location'];
    const rows = await this.store.query<LocationRow>(
      `select l.* from catalog_locations l join catalog_entities e on e.origin_id = l.id where e.ref_key = $1`,
      [refKey(refOf(entity))],
    );
    if (!rows[0]) throw notFound('LOCATION_NOT_FOUND', `Found no location for ${ref} (origin ${origin ?? 'unknown'})`, { entityRef: ref });
    return toLocation(rows[0]);
  }

  /** Set by the capability that serves some URLs itself (git hosting). */
  readOwnUrl: ((url: string) => Promise<string | undefined>) | undefined;

  private readerOptions() {
    return { maxFileBytes: this.config.maxFileBytes, urlTimeoutMs: this.config.urlTimeoutMs, readOwnUrl: this.readOwnUrl };
  }

  // ---- processing ----

  /** The job: read the location tree and write what changed. */
  async processLocation(id: string): Promise<unknown> {
    const [row] = await this.store.query<LocationRow>('select * from catalog_locations where id = $1', [id]);
    if (!row) return { skipped: 'location removed' };
    const started = Date.now();
    const tree = await readTree({ type: row.type, target: row.target }, this.validator, this.readerOptions(), row.entity_name);
    const result = await this.store.tx(async (q) => {
      // Re-check inside the transaction: the location may have been removed while we read.
      const [still] = await q.query<LocationRow>('select * from catalog_locations where id = $1 for update', [id]);
      if (!still) return undefined;
      const applied = await applyTree(q, this.events, id, tree, this.config.orphanStrategy);
      const state = applied.problems.length ? 'failed' : 'ok';
      await q.query(
        `update catalog_locations set state = $2, last_read_at = now(), last_ok_at = case when $2 = 'ok' then now() else last_ok_at end, errors = $3::jsonb where id = $1`,
        [id, state, JSON.stringify(applied.problems.slice(0, MAX_ERRORS_SHOWN))],
      );
      const ev: NewEvent[] = [];
      if (state === 'failed') {
        ev.push({ type: 'catalog.location.failed', subject: `location:${id}`, payload: { errors: applied.problems.slice(0, 20) } });
      } else if (still.state === 'failed') {
        ev.push({ type: 'catalog.location.recovered', subject: `location:${id}`, payload: {} });
      }
      await this.events.append(q, ev);
      return applied;
    });
    if (!result) return { skipped: 'location removed' };
    this.events.notify(['catalog.entity.added', 'catalog.entity.changed', 'catalog.entity.removed']);
    this.watch(id, tree);
    if (result.added + result.changed + result.removed >= ANALYZE_AFTER_ROWS) {
      await this.jobs.enqueue(MAINTAIN_JOB, {}, { dedupeKey: MAINTAIN_JOB });
    }
    if (result.removed > 0) await this.refreshConflicting(id);
    const summary = { added: result.added, changed: result.changed, removed: result.removed, unchanged: result.unchanged, problems: result.problems.length, ms: Date.now() - started };
    this.log.info({ location: id, ...summary }, 'location processed');
    if (tree.transient) {
      // The state is recorded; failing the job makes the queue retry it with backoff.
      throw new PaveError('LOCATION_UNREACHABLE', 503, tree.problems.filter((p) => p.code === 'LOCATION_UNREACHABLE').map((p) => p.message).join('; '), {});
    }
    return summary;
  }

  /** Local files are watched, so an edit is processed at once rather than at the next schedule. */
  private watch(id: string, tree: TreeRead): void {
    if (!this.config.watchFiles || this.stopped) return;
    const files = [...new Set(tree.watch)].sort();
    const key = files.join('\n');
    const current = this.watchers.get(id);
    if (current?.files === key) return;
    void current?.watcher.close();
    if (files.length === 0) {
      this.watchers.delete(id);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const watcher = chokidar.watch(files, {
      ignoreInitial: true,
      persistent: false,
      // Watched folders are recursive: skip what a catalog read skips too.
      ignored: (p: string) => /[\\/](node_modules|\.git)([\\/]|$)/.test(p),
    });
    watcher.on('all', () => {
      clearTimeout(timer);
      timer = setTimeout(() => void this.refreshLocation(id).catch(() => undefined), 50);
    });
    watcher.on('error', (e) => this.log.warn({ err: errorMessage(e), location: id }, 'file watch failed'));
    this.watchers.set(id, { files: key, watcher });
  }

  // ---- entity reads ----

  async byRef(ref: string): Promise<any> {
    let name;
    try {
      name = parseRef(ref);
    } catch (e) {
      throw badInput('INVALID_ENTITY_REF', `"${ref}" is not an entity ref: ${errorMessage(e)}`, { entityRef: ref });
    }
    return this.byName(name.kind, name.namespace, name.name);
  }

  async byName(kind: string, namespace: string, name: string): Promise<any> {
    const key = refKey(stringifyRef({ kind, namespace, name }));
    const [row] = await this.store.query<{ final: any }>('select final from catalog_entities where ref_key = $1', [key]);
    if (!row) throw notFound('ENTITY_NOT_FOUND', `No entity named ${key}`, { entityRef: key });
    return row.final;
  }

  async byUid(uid: string): Promise<any> {
    const rows = isUuid(uid) ? await this.store.query<{ final: any }>('select final from catalog_entities where uid = $1', [uid]) : [];
    if (!rows[0]) throw notFound('ENTITY_NOT_FOUND', `No entity with uid ${uid}`, { uid });
    return rows[0].final;
  }

  /** Removes an entity until its location produces it again (as in Backstage). */
  async deleteByUid(uid: string): Promise<void> {
    // Not a uuid: no such entity (the column is uuid, so the query would fail).
    if (!isUuid(uid)) return;
    await this.store.tx(async (q) => {
      const [row] = await q.query<{ id: number; final: any }>('select id, final from catalog_entities where uid = $1', [uid]);
      if (!row) return;
      await removeEntities(q, [row.id]);
      await this.events.append(q, [{ type: 'catalog.entity.removed', subject: refOf(row.final), payload: { uid, by: 'api' } }]);
    });
    this.events.notify(['catalog.entity.removed']);
  }

  async byRefs(refs: string[], predicate: Predicate | undefined, fields?: string[]): Promise<(EntityJson | null)[]> {
    const keys = refs.map((r) => refKey(r));
    const params: unknown[] = [keys];
    const where = predicate ? predicateToSql(predicate, params) : 'true';
    const rows = await this.store.query<{ ref_key: string; final: string }>(
      `select e.ref_key, e.final::text as final from catalog_entities e where e.ref_key = any($1::text[]) and ${where}`,
      params,
    );
    const found = new Map(rows.map((r) => [r.ref_key, r.final]));
    return keys.map((k) => (found.has(k) ? entityJson(found.get(k)!, fields) : null));
  }

  /** GET /entities: every match, ordered, optionally paged by offset. */
  async listEntities(opts: { predicate?: Predicate; fields?: string[]; order?: OrderField[]; offset?: number; limit?: number }): Promise<{ items: EntityJson[]; more: boolean }> {
    const params: unknown[] = [];
    const where = opts.predicate ? predicateToSql(opts.predicate, params) : 'true';
    const order = opts.order?.length
      ? opts.order.map((o) => `${sortExpr(o.field, params)} ${o.order} nulls last`).join(', ') + ', e.uid'
      : 'e.ref_key';
    let sql = `select e.final::text as final from catalog_entities e where ${where} order by ${order}`;
    if (opts.limit !== undefined) {
      params.push(opts.limit + 1);
      sql += ` limit $${params.length}`;
    }
    if (opts.offset) {
      params.push(opts.offset);
      sql += ` offset $${params.length}`;
    }
    const rows = await this.store.query<{ final: string }>(sql, params);
    const more = opts.limit !== undefined && rows.length > opts.limit;
    const page = more ? rows.slice(0, opts.limit) : rows;
    return { items: page.map((r) => entityJson(r.final, opts.fields)), more };
  }

  /** /entities/by-query: keyset paging over one sort field, with a self-contained cursor. */
  async queryEntities(req: {
    cursor?: QueryCursor;
    predicate?: Predicate;
    orderFields?: OrderField[];
    fullTextFilter?: { term: string; fields?: string[] };
    limit?: number;
    offset?: number;
    fields?: string[];
    totalItems?: 'include' | 'exclude';
    /** What the caller may read: applied to every page, never stored in the cursor. */
    scope?: Predicate;
  }): Promise<EntityPage> {
    const limit = req.limit ?? 200;
    const c: QueryCursor = req.cursor ?? {
      orderFields: req.orderFields?.length ? [req.orderFields[0]] : [],
      orderFieldValues: [],
      isPrevious: false,
      query: req.predicate,
      fullTextFilter: req.fullTextFilter?.term?.trim() ? { term: req.fullTextFilter.term.trim(), fields: req.fullTextFilter.fields } : undefined,
    };
    const params: unknown[] = [];
    const conds: string[] = [];
    if (c.query) conds.push(predicateToSql(c.query, params));
    if (req.scope) conds.push(predicateToSql(req.scope, params));
    if (c.fullTextFilter?.term) {
      const pattern = `%${c.fullTextFilter.term.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      params.push(pattern);
      if (c.fullTextFilter.fields?.length) {
        const fields = c.fullTextFilter.fields.map((f) => f.toLowerCase());
        const pattern = `$${params.length}`;
        params.push(fields.filter((f) => !ENTITY_COLUMNS[f]));
        const alternatives = [
          `e.id in (select entity_id from catalog_search where key = any($${params.length}::text[]) and value like ${pattern})`,
          ...fields.filter((f) => ENTITY_COLUMNS[f]).map((f) => `${ENTITY_COLUMNS[f].match} like ${pattern}`),
        ];
        conds.push(`(${alternatives.join(' or ')})`);
      } else {
        conds.push(`e.search_text like $${params.length}`);
      }
    }
    const sort = c.orderFields[0];
    const sortSql = sort ? sortExpr(sort.field, params) : undefined;
    if (sortSql) conds.push(`${sortSql} is not null`);
    const baseWhere = conds.length ? conds.join(' and ') : 'true';

    let totalItems = c.totalItems ?? 0;
    if (!req.cursor && req.totalItems !== 'exclude') {
      totalItems = await this.aggregates.get(`count:${baseWhere}:${JSON.stringify(params)}`, async () => {
        const [row] = await this.store.query<{ n: number }>(`select count(*)::int as n from catalog_entities e where ${baseWhere}`, params);
        return row.n;
      });
    }
    if (limit === 0) return { items: [], totalItems, pageInfo: {} };

    const desc = sort?.order === 'desc';
    const backwards = c.isPrevious;
    const dir = desc !== backwards ? 'desc' : 'asc';
    const cmp = dir === 'desc' ? '<' : '>';
    const keyset: string[] = [];
    const p2 = [...params];
    if (c.orderFieldValues.length) {
      if (sortSql) {
        p2.push(c.orderFieldValues[0], Number(c.orderFieldValues[1]));
        keyset.push(`(${sortSql}, e.id) ${cmp} ($${p2.length - 1}::text, $${p2.length}::bigint)`);
      } else {
        p2.push(Number(c.orderFieldValues[0]));
        keyset.push(`e.id ${cmp} $${p2.length}::bigint`);
      }
    }
    const where = [baseWhere, ...keyset].join(' and ');
    p2.push(limit + 1);
    let sql = `select e.id, e.final::text as final${sortSql ? `, ${sortSql} as sort_value` : ''} from catalog_entities e where ${where}
      order by ${sortSql ? `${sortSql} ${dir}, ` : ''}e.id ${dir} limit $${p2.length}`;
    if (!req.cursor && req.offset) {
      p2.push(req.offset);
      sql += ` offset $${p2.length}`;
    }
    const rows = await this.store.query<{ id: number; final: string; sort_value?: string }>(sql, p2);
    const more = rows.length > limit;
    let page = more ? rows.slice(0, limit) : rows;
    if (backwards) page = page.reverse();
    const valuesOf = (r: { id: number; sort_value?: string }) => (sortSql ? [r.sort_value ?? null, String(r.id)] : [String(r.id)]);
    const first = page[0];
    const last = page[page.length - 1];
    const firstSortFieldValues = c.firstSortFieldValues ?? (first ? valuesOf(first) : undefined);
    const pageInfo: EntityPage['pageInfo'] = {};
    const hasNext = backwards ? true : more;
    const hasPrev = backwards ? more : req.cursor !== undefined && first !== undefined && JSON.stringify(valuesOf(first)) !== JSON.stringify(firstSortFieldValues);
    if (hasNext && last) pageInfo.nextCursor = encodeCursor({ ...c, orderFieldValues: valuesOf(last), firstSortFieldValues, isPrevious: false, totalItems });
    if (hasPrev && first) pageInfo.prevCursor = encodeCursor({ ...c, orderFieldValues: valuesOf(first), firstSortFieldValues, isPrevious: true, totalItems });
    return { items: page.map((r) => entityJson(r.final, req.fields)), totalItems, pageInfo };
  }

  async facets(facets: string[], predicate: Predicate | undefined): Promise<Record<string, { value: string; count: number }[]>> {
    return this.aggregates.get(`facets:${JSON.stringify([facets, predicate ?? null])}`, () => this.countFacets(facets, predicate));
  }

  private async countFacets(facets: string[], predicate: Predicate | undefined): Promise<Record<string, { value: string; count: number }[]>> {
    const out: Record<string, { value: string; count: number }[]> = {};
    for (const facet of facets) {
      const key = facet.toLowerCase();
      const params: unknown[] = [];
      const where = predicate ? predicateToSql(predicate, params) : 'true';
      const column = ENTITY_COLUMNS[key];
      if (column) {
        out[facet] = await this.store.query(
          `select ${column.original} as value, count(*)::int as count from catalog_entities e where ${where} group by 1 order by 1`,
          params,
        );
        continue;
      }
      params.push(key);
      const keyParam = `$${params.length}`;
      const scoped = (idColumn: string) => (predicate ? `and ${idColumn} in (select e.id from catalog_entities e where ${where})` : '');
      out[facet] = key.startsWith('relations.')
        ? // Relations are not in catalog_search: as in Backstage, `relations.<type>` counts the entities per target ref.
          await this.store.query(
            `select r.target_key as value, count(distinct src.id)::int as count from catalog_relations r
             join catalog_entities src on src.ref_key = r.source_key
             where 'relations.' || lower(r.type) = ${keyParam} ${scoped('src.id')}
             group by r.target_key order by r.target_key`,
            params,
          )
        : await this.store.query(
            `select s.original_value as value, count(*)::int as count from catalog_search s
             where s.key = ${keyParam} and s.original_value is not null ${scoped('s.entity_id')}
             group by s.original_value order by s.original_value`,
            params,
          );
    }
    return out;
  }


  /** The entity, then the Location entities it came through, up to the registered location. */
  async ancestry(kind: string, namespace: string, name: string) {
    const entity = await this.byName(kind, namespace, name);
    const rootEntityRef = refKey(refOf(entity));
    const items: { entity: unknown; parentEntityRefs: string[] }[] = [];
    const seen = new Set<string>();
    let current: any = entity;
    while (current && !seen.has(refKey(refOf(current)))) {
      seen.add(refKey(refOf(current)));
      const managedBy: string | undefined = current.metadata?.annotations?.['backstage.io/managed-by-location'];
      const origin: string | undefined = current.metadata?.annotations?.['backstage.io/managed-by-origin-location'];
      const parent = managedBy ? await this.parentLocation(managedBy, origin, refKey(refOf(current))) : undefined;
      items.push({ entity: current, parentEntityRefs: parent ? [refKey(refOf(parent.final))] : [] });
      current = parent?.final;
    }
    return { rootEntityRef, items };
  }

  /**
   * The Location entity whose target produced the file `managedBy`. Targets are resolved as
   * reading resolves them: relative to the Location's own file, `spec.type` defaulting to that
   * file's type, and a folder or glob target covering the files it expands to.
   */
  private async parentLocation(managedBy: string, origin: string | undefined, selfKey: string): Promise<{ final: any } | undefined> {
    const rows = await this.store.query<{ final: any }>(
      `select final from catalog_entities where lower(kind) = 'location' and ref_key <> $1
         and ($2::text is null or final->'metadata'->'annotations'->>'backstage.io/managed-by-origin-location' = $2)`,
      [selfKey, origin ?? null],
    );
    const split = (key: unknown): LocationSpec | undefined => {
      if (typeof key !== 'string') return undefined;
      const i = key.indexOf(':');
      const type = key.slice(0, i);
      return type === 'file' || type === 'url' ? { type, target: key.slice(i + 1) } : undefined;
    };
    const child = split(managedBy);
    if (!child) return undefined;
    const matchesGlob: ((p: string, g: string) => boolean) | undefined = (path as any).matchesGlob;
    const produces = (loc: any): boolean => {
      const base = split(loc?.metadata?.annotations?.['backstage.io/managed-by-location']);
      const spec = loc?.spec ?? {};
      if (!base) return false;
      const type = spec.type === 'file' || spec.type === 'url' ? spec.type : base.type;
      return [spec.target, ...(Array.isArray(spec.targets) ? spec.targets : [])].some((t) => {
        if (typeof t !== 'string' || t === '') return false;
        let resolved: LocationSpec;
        try {
          resolved = resolveTarget(base, type, t);
        } catch {
          return false; // not a URL: reading failed on it as well
        }
        if (locationKey(resolved) === managedBy) return true;
        if (resolved.type !== 'file' || child.type !== 'file') return false;
        if (GLOB_CHARS.test(resolved.target)) return matchesGlob ? matchesGlob(child.target, resolved.target) : false;
        return child.target.startsWith(resolved.target.replace(/\/+$/, '') + path.sep);
      });
    };
    const matches = rows.filter((r) => produces(r.final));
    // As before: a Location read from the registered file itself is preferred.
    const inRootFile = (r: { final: any }) => r.final?.metadata?.annotations?.['backstage.io/managed-by-location'] === origin;
    return matches.find(inRootFile) ?? matches[0];
  }

  /** POST /refresh: re-read the location the entity came from, now. */
  async refreshEntity(ref: string): Promise<void> {
    const rows = await this.store.query<{ origin_id: string }>('select origin_id from catalog_entities where ref_key = $1', [refKey(ref)]);
    if (!rows[0]) throw notFound('ENTITY_NOT_FOUND', `Entity ${ref} not found`, { entityRef: ref });
    await this.refreshLocation(rows[0].origin_id);
    // Whatever else hangs off the entity (its docs) refreshes too, on whichever replica reads this.
    await this.events.append(this.store, [{ type: 'catalog.entity.refreshed', subject: ref }]);
    this.events.notify(['catalog.entity.refreshed']);
  }

  /** Validates one entity as processing would; returns the problems found (empty when valid). */
  async validateEntity(entity: unknown, location: string): Promise<{ name: string; message: string; code: string; details?: unknown }[]> {
    const doc = structuredClone(entity) as any;
    if (doc && typeof doc === 'object' && doc.metadata && typeof doc.metadata === 'object') {
      doc.metadata.annotations = {
        'backstage.io/managed-by-location': location,
        'backstage.io/managed-by-origin-location': location,
        ...(doc.metadata.annotations ?? {}),
      };
    }
    const verdict = await this.validator.validate(doc);
    if ('problem' in verdict) {
      return [{ name: 'InputError', code: verdict.problem.code, message: verdict.problem.message, details: { field: verdict.problem.field, value: verdict.problem.value, rule: verdict.problem.rule } }];
    }
    try {
      relationsOf(verdict.entity);
    } catch (e) {
      if (e instanceof RelationError) return [{ name: 'InputError', code: 'ENTITY_INVALID', message: e.message, details: { field: e.field, value: e.value } }];
      throw e;
    }
    return [];
  }

  async problems(): Promise<{ location: Location; problems: LocationProblem[] }[]> {
    return (await this.listLocations()).filter((l) => l.status.errors.length > 0).map((l) => ({ location: l, problems: l.status.errors }));
  }

  async counts(): Promise<{ entities: number; relations: number; locations: number }> {
    const [row] = await this.store.query<{ entities: number; relations: number; locations: number }>(
      `select (select count(*)::int from catalog_entities) as entities, (select count(*)::int from catalog_relations) as relations,
              (select count(*)::int from catalog_locations) as locations`,
    );
    return row;
  }
}

/** The sort key of a field: lowercased like Backstage's search values. */
function sortExpr(field: string, params: unknown[]): string {
  const f = field.toLowerCase();
  if (ENTITY_COLUMNS[f]) return ENTITY_COLUMNS[f].match;
  params.push(f);
  return `(select min(s.value) from catalog_search s where s.entity_id = e.id and s.key = $${params.length})`;
}

/** Location filters: only id, type, target and entityRef, compared case-insensitively. */
function matchLocation(l: Location, p: Predicate | undefined): boolean {
  if (p === undefined) return true;
  const entries = Object.entries(p);
  if (entries.length === 0) return true;
  const [k0, v0] = entries[0];
  if (k0 === '$all') return Array.isArray(v0) && v0.length > 0 && v0.every((x) => matchLocation(l, x));
  if (k0 === '$any') return Array.isArray(v0) && v0.length > 0 && v0.some((x) => matchLocation(l, x));
  if (k0 === '$not') return !matchLocation(l, v0);
  return entries.every(([k, v]) => {
    const key = k.toLowerCase();
    const fields: Record<string, string> = { id: l.id, type: l.type, target: l.target, entityref: l.entityRef };
    if (!(key in fields)) throw badInput('INVALID_QUERY', `Invalid location filter key "${k}": use id, type, target or entityRef`, { field: k });
    const actual = fields[key];
    const norm = (x: unknown) => (key === 'id' ? String(x) : String(x).toUpperCase());
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, any>;
      if ('$exists' in o) return Boolean(o.$exists) === (actual !== undefined && actual !== null);
      if ('$in' in o) return (o.$in as unknown[]).some((x) => norm(x) === norm(actual));
      if ('$hasPrefix' in o) return norm(actual).startsWith(norm(o.$hasPrefix));
      if ('$contains' in o) return false;
      throw badInput('INVALID_QUERY', `Invalid location filter value for "${k}"`, { field: k });
    }
    return norm(v) === norm(actual);
  });
}

export { andPredicates };
