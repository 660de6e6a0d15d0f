import { createHash, randomUUID } from 'node:crypto';
import type { EventLog, NewEvent } from '../core/events.ts';
import type { Queryable } from '../core/store.ts';
import type { Candidate, TreeRead } from './ingest.ts';
import type { LocationProblem } from './reader.ts';

/** A processing problem as Backstage shows it on the entity: `status.items[]`. */
export interface StatusItem {
  type: 'backstage.io/catalog-processing';
  level: 'error';
  message: string;
  error: { name: string; message: string; code: string; location?: string; line?: number; column?: number };
}

export function statusItem(p: LocationProblem): StatusItem {
  return {
    type: 'backstage.io/catalog-processing',
    level: 'error',
    message: `${p.code}: ${p.message}`,
    error: { name: p.code === 'ENTITY_INVALID' ? 'InputError' : 'Error', message: p.message, code: p.code, location: p.location, line: p.line, column: p.column },
  };
}

interface ExistingRow {
  id: number;
  uid: string;
  ref_key: string;
  location_key: string;
  origin_id: string;
  hash: string;
  spec_hash: string;
  generation: number;
  errors: StatusItem[];
  raw: any;
}

export interface ApplyResult {
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  problems: LocationProblem[];
}

const BATCH = 2000;
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

function chunks<T>(items: T[], size = BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Writes what a read of a location found, as one transaction: new and changed entities, the
 * removal of those gone from complete reads, relations and search rows, re-stitching of every
 * entity whose relations moved, and an event per change. Entities whose source failed keep
 * their last good version with the error beside them.
 */
export async function applyTree(
  q: Queryable,
  events: EventLog,
  locationId: string,
  tree: TreeRead,
  orphanStrategy: 'delete' | 'keep',
): Promise<ApplyResult> {
  const problems = [...tree.problems];
  const existing = await q.query<ExistingRow>(
    `select id, uid, ref_key, location_key, origin_id, hash, spec_hash, generation, errors, raw from catalog_entities where origin_id = $1`,
    [locationId],
  );
  const mine = new Map(existing.map((r) => [r.ref_key, r]));
  const candidates = [...tree.candidates.values()];
  const foreignKeys = candidates.filter((c) => !mine.has(c.key)).map((c) => c.key);
  const foreign = new Map<string, ExistingRow>();
  for (const batch of chunks(foreignKeys, 10_000)) {
    const rows = await q.query<ExistingRow>(
      `select id, uid, ref_key, location_key, origin_id, hash, spec_hash, generation, errors, raw from catalog_entities where ref_key = any($1::text[])`,
      [batch],
    );
    for (const r of rows) foreign.set(r.ref_key, r);
  }

  type Row = { c: Candidate; prev?: ExistingRow; raw: any; hash: string; errors: StatusItem[] };
  const inserts: Row[] = [];
  const updates: Row[] = [];
  let unchanged = 0;
  for (const c of candidates) {
    let prev = mine.get(c.key);
    if (!prev) {
      const other = foreign.get(c.key);
      if (other && other.location_key !== c.locationKey) {
        problems.push({
          code: 'ENTITY_CONFLICT',
          message: `${c.ref} is already provided by ${other.location_key}; the first location keeps it. Remove it from ${c.locationKey} or from the other file`,
          location: c.locationKey,
          entityRef: c.ref,
          details: { claimedBy: other.location_key, claimedByLocationId: other.origin_id },
        });
        continue;
      }
      prev = other; // the same file reached through another registered location takes it over
    }
    const errors: StatusItem[] = [];
    const body = JSON.stringify(c.entity);
    const hash = sha1(body + JSON.stringify(errors) + locationId);
    if (prev && prev.hash === hash) {
      unchanged++;
      continue;
    }
    const uid = prev?.uid ?? randomUUID();
    const generation = prev ? (prev.spec_hash === c.specHash ? prev.generation : prev.generation + 1) : 1;
    const raw = { ...c.entity, metadata: { ...c.entity.metadata, uid, generation } };
    (prev ? updates : inserts).push({ c, prev, raw, hash, errors });
  }

  // Entities this location made before and did not make now.
  const errorUpdates: { row: ExistingRow; errors: StatusItem[] }[] = [];
  const deletes: ExistingRow[] = [];
  const orphaned: ExistingRow[] = [];
  for (const row of existing) {
    if (tree.candidates.has(row.ref_key)) continue;
    const problem = tree.invalidRefs.get(row.ref_key) ?? tree.failedSources.get(row.location_key);
    if (problem) {
      const errors = [statusItem(problem)];
      if (JSON.stringify(errors) !== JSON.stringify(row.errors)) errorUpdates.push({ row, errors });
    } else if (!tree.complete) {
      continue; // part of the tree was unreadable: what we cannot see is not gone
    } else if (orphanStrategy === 'delete') {
      deletes.push(row);
    } else if (row.raw?.metadata?.annotations?.['backstage.io/orphan'] !== 'true') {
      orphaned.push(row);
    }
  }

  const touchedIds = [...updates.map((u) => u.prev!.id), ...deletes.map((d) => d.id)];
  const affected = new Set<string>();
  for (const batch of chunks(touchedIds, 10_000)) {
    const rows = await q.query<{ source_key: string; target_key: string }>(
      `select source_key, target_key from catalog_relations where origin_id = any($1::bigint[])`,
      [batch],
    );
    for (const r of rows) {
      affected.add(r.source_key);
      affected.add(r.target_key);
    }
    await q.query(`delete from catalog_relations where origin_id = any($1::bigint[])`, [batch]);
    await q.query(`delete from catalog_search where entity_id = any($1::bigint[])`, [batch]);
  }
  for (const batch of chunks(deletes.map((d) => d.id), 10_000)) {
    await q.query(`delete from catalog_entities where id = any($1::bigint[])`, [batch]);
  }

  const rowJson = (r: Row) => ({
    id: r.prev?.id,
    uid: r.raw.metadata.uid,
    ref_key: r.c.key,
    kind: r.c.entity.kind,
    namespace: r.c.entity.metadata.namespace ?? 'default',
    name: r.c.entity.metadata.name,
    location_key: r.c.locationKey,
    raw: r.raw,
    hash: r.hash,
    spec_hash: r.c.specHash,
    generation: r.raw.metadata.generation,
    errors: r.errors,
    search_text: r.c.searchText,
  });
  const RECORD = `x(id bigint, uid uuid, ref_key text, kind text, namespace text, name text, location_key text, raw jsonb,
    hash text, spec_hash text, generation int, errors jsonb, search_text text)`;
  const idOf = new Map<string, number>();
  for (const batch of chunks(updates)) {
    await q.query(
      `update catalog_entities e set ref_key = x.ref_key, kind = x.kind, namespace = x.namespace, name = x.name,
         origin_id = $2, location_key = x.location_key, raw = x.raw, final = x.raw, hash = x.hash, spec_hash = x.spec_hash,
         generation = x.generation, errors = x.errors, search_text = x.search_text, updated_at = now()
       from jsonb_to_recordset($1::jsonb) as ${RECORD} where e.id = x.id`,
      [JSON.stringify(batch.map(rowJson)), locationId],
    );
    for (const r of batch) idOf.set(r.c.key, r.prev!.id);
  }
  for (const batch of chunks(inserts)) {
    const rows = await q.query<{ id: number; ref_key: string }>(
      `insert into catalog_entities (uid, ref_key, kind, namespace, name, origin_id, location_key, raw, final, hash, spec_hash, generation, errors, search_text, etag)
       select x.uid, x.ref_key, x.kind, x.namespace, x.name, $2, x.location_key, x.raw, x.raw, x.hash, x.spec_hash, x.generation, x.errors, x.search_text, ''
       from jsonb_to_recordset($1::jsonb) as ${RECORD}
       returning id, ref_key`,
      [JSON.stringify(batch.map(rowJson)), locationId],
    );
    for (const r of rows) idOf.set(r.ref_key, Number(r.id));
  }

  const written = [...updates, ...inserts];
  const relationRows: { origin_id: number; source_key: string; type: string; target_key: string }[] = [];
  const searchRows: { entity_id: number; key: string; value: string | null; original_value: string | null }[] = [];
  for (const r of written) {
    const id = idOf.get(r.c.key)!;
    affected.add(r.c.key);
    for (const rel of r.c.relations) {
      relationRows.push({ origin_id: id, source_key: rel.source, type: rel.type, target_key: rel.target });
      affected.add(rel.source);
      affected.add(rel.target);
    }
    const rows = r.c.search.slice();
    rows.push({ key: 'metadata.uid', value: r.raw.metadata.uid, original: r.raw.metadata.uid });
    for (const s of rows) searchRows.push({ entity_id: id, key: s.key, value: s.value, original_value: s.original });
  }
  for (const batch of chunks(relationRows, 10_000)) {
    await q.query(
      `insert into catalog_relations (origin_id, source_key, type, target_key, target_ref)
       select origin_id, source_key, type, target_key, target_key from jsonb_to_recordset($1::jsonb) as x(origin_id bigint, source_key text, type text, target_key text)`,
      [JSON.stringify(batch)],
    );
  }
  for (const batch of chunks(searchRows, 20_000)) {
    await q.query(
      `insert into catalog_search (entity_id, key, value, original_value)
       select entity_id, key, value, original_value from jsonb_to_recordset($1::jsonb) as x(entity_id bigint, key text, value text, original_value text)`,
      [JSON.stringify(batch)],
    );
  }
  for (const { row, errors } of errorUpdates) {
    await q.query(`update catalog_entities set errors = $2::jsonb, hash = '', updated_at = now() where id = $1`, [row.id, JSON.stringify(errors)]);
    affected.add(row.ref_key);
  }
  for (const row of orphaned) {
    await q.query(
      `update catalog_entities set raw = jsonb_set(raw, '{metadata,annotations,backstage.io/orphan}', '"true"'), hash = '', updated_at = now() where id = $1`,
      [row.id],
    );
    affected.add(row.ref_key);
  }
  await stitch(q, [...affected]);

  const ev: NewEvent[] = [];
  for (const r of inserts) ev.push({ type: 'catalog.entity.added', subject: r.c.ref, payload: { locationId, uid: r.raw.metadata.uid } });
  for (const r of updates) ev.push({ type: 'catalog.entity.changed', subject: r.c.ref, payload: { locationId, uid: r.raw.metadata.uid, generation: r.raw.metadata.generation } });
  for (const r of deletes) ev.push({ type: 'catalog.entity.removed', subject: r.raw ? refOfRaw(r.raw) : r.ref_key, payload: { locationId, uid: r.uid } });
  for (const batch of chunks(ev, 10_000)) await events.append(q, batch);

  return { added: inserts.length, changed: updates.length + errorUpdates.length + orphaned.length, removed: deletes.length, unchanged, problems };
}

function refOfRaw(raw: any): string {
  return `${String(raw.kind).toLowerCase()}:${raw.metadata?.namespace ?? 'default'}/${raw.metadata?.name}`;
}

/**
 * Rebuilds the served form of entities: their own body, every relation that starts at them
 * (whoever declared it), processing errors as `status.items`, and a fresh etag.
 */
export async function stitch(q: Queryable, keys: string[]): Promise<void> {
  for (const batch of chunks(keys, 20_000)) {
    await q.query(
      `with keys as (select distinct k as key from unnest($1::text[]) as k),
       rels as (
         select r.source_key, jsonb_agg(jsonb_build_object('type', r.type, 'targetRef', r.target_ref) order by r.type, r.target_ref) as rels
         from (select distinct source_key, type, target_ref from catalog_relations where source_key in (select key from keys)) r
         group by r.source_key),
       built as (
         select e.id,
           jsonb_set(e.raw, '{relations}', coalesce(rels.rels, '[]'::jsonb))
             || case when jsonb_array_length(e.errors) > 0 then jsonb_build_object('status', jsonb_build_object('items', e.errors)) else '{}'::jsonb end as f
         from keys join catalog_entities e on e.ref_key = keys.key left join rels on rels.source_key = keys.key)
       update catalog_entities e set final = jsonb_set(built.f, '{metadata,etag}', to_jsonb(md5(built.f::text))), etag = md5(built.f::text)
       from built where e.id = built.id`,
      [batch],
    );
  }
}
