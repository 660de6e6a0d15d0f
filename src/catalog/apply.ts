import { createHash, randomUUID } from 'node:crypto';
import type { EventLog, NewEvent } from '../core/events.ts';
import type { Queryable } from '../core/store.ts';
import type { Candidate, TreeRead } from './ingest.ts';
import type { Relation } from './relations.ts';
import type { LocationProblem } from './reader.ts';
import { searchRowsOf } from './search.ts';

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
  body_hash: string;
  spec_hash: string;
  generation: number;
  errors: StatusItem[];
  orphan: boolean;
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

const EXISTING_COLUMNS = `id, uid, ref_key, location_key, origin_id, hash, body_hash, spec_hash, generation, errors,
  coalesce(final->'metadata'->'annotations'->>'backstage.io/orphan' = 'true', false) as orphan`;

/** An entity's relations as Backstage serves them: once each, by type, then target. */
function servedRelations(relations: Relation[] | undefined): { type: string; targetRef: string }[] {
  if (!relations) return [];
  const unique = new Map<string, { type: string; targetRef: string }>();
  for (const r of relations) unique.set(`${r.type}\u0000${r.target}`, { type: r.type, targetRef: r.target });
  return [...unique.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.targetRef < b.targetRef ? -1 : a.targetRef > b.targetRef ? 1 : 0));
}

/**
 * Writes what a read of a location found, as one transaction: new and changed entities with
 * their served form (relations from every side, etag) built here in one pass, the removal of
 * those gone from complete reads, relations and search rows, re-stitching of entities outside
 * this location whose relations moved, and an event per change. Entities whose source failed
 * keep their last good version with the error beside them.
 */
export async function applyTree(
  q: Queryable,
  events: EventLog,
  locationId: string,
  tree: TreeRead,
  orphanStrategy: 'delete' | 'keep',
): Promise<ApplyResult> {
  await q.exec(`set local work_mem = '64MB'`);
  const problems = [...tree.problems];
  const existing = await q.query<ExistingRow>(`select ${EXISTING_COLUMNS} from catalog_entities where origin_id = $1`, [locationId]);
  const mine = new Map(existing.map((r) => [r.ref_key, r]));
  const foreign = new Map<string, ExistingRow>();
  for (const batch of chunks([...tree.candidates.keys()].filter((k) => !mine.has(k)), 10_000)) {
    for (const r of await q.query<ExistingRow>(`select ${EXISTING_COLUMNS} from catalog_entities where ref_key = any($1::text[])`, [batch])) {
      foreign.set(r.ref_key, r);
    }
  }

  // Which candidates this location may write: a ref another file already provides stays there.
  const accepted: { c: Candidate; prev?: ExistingRow }[] = [];
  for (const c of tree.candidates.values()) {
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
    accepted.push({ c, prev });
  }
  const acceptedKeys = new Set(accepted.map((a) => a.c.key));

  // Entities this location made before and did not make now.
  const errorUpdates: { row: ExistingRow; errors: StatusItem[] }[] = [];
  const deletes: ExistingRow[] = [];
  const orphaned: ExistingRow[] = [];
  const kept: ExistingRow[] = [];
  for (const row of existing) {
    if (acceptedKeys.has(row.ref_key)) continue;
    const problem = tree.invalidRefs.get(row.ref_key) ?? tree.failedSources.get(row.location_key);
    if (problem) {
      kept.push(row);
      const errors = [statusItem(problem)];
      if (JSON.stringify(errors) !== JSON.stringify(row.errors)) errorUpdates.push({ row, errors });
    } else if (!tree.complete) {
      kept.push(row); // part of the tree was unreadable: what we cannot see is not gone
    } else if (orphanStrategy === 'delete') {
      deletes.push(row);
    } else {
      kept.push(row);
      if (!row.orphan) orphaned.push(row);
    }
  }

  // Every relation that starts at an accepted entity: those declared in this read, plus those
  // declared by entities it does not cover (other locations, or kept ones of this one).
  const outgoing = new Map<string, Relation[]>();
  const note = (r: Relation) => {
    if (!acceptedKeys.has(r.source)) return;
    const list = outgoing.get(r.source);
    if (list) list.push(r);
    else outgoing.set(r.source, [r]);
  };
  for (const { c } of accepted) for (const r of c.relations) note(r);
  const keptKeys = kept.map((k) => k.ref_key);
  for (const batch of chunks([...acceptedKeys], 10_000)) {
    const rows = await q.query<{ source_key: string; type: string; target_ref: string }>(
      `select r.source_key, r.type, r.target_ref from catalog_relations r join catalog_entities o on o.id = r.origin_id
       where r.source_key = any($1::text[]) and (o.origin_id <> $2 or o.ref_key = any($3::text[]))`,
      [batch, locationId, keptKeys],
    );
    for (const r of rows) note({ source: r.source_key, type: r.type, target: r.target_ref });
  }

  const affected = new Set<string>();
  for (const key of await removeDerivedRows(q, deletes.map((d) => d.id))) affected.add(key);
  for (const batch of chunks(deletes.map((d) => d.id), 10_000)) {
    await q.query(`delete from catalog_entities where id = any($1::bigint[])`, [batch]);
  }

  // Accepted entities are built and written a batch at a time, so memory stays bounded by the
  // read itself whatever its size.
  type Write = { c: Candidate; prev?: ExistingRow; final: any; hash: string; bodyHash: string };
  const rowJson = (w: Write) => ({
    id: w.prev?.id,
    uid: w.final.metadata.uid,
    ref_key: w.c.key,
    kind: w.c.entity.kind,
    namespace: w.c.entity.metadata.namespace ?? 'default',
    name: w.c.entity.metadata.name,
    location_key: w.c.locationKey,
    final: w.final,
    hash: w.hash,
    body_hash: w.bodyHash,
    spec_hash: w.c.specHash,
    generation: w.final.metadata.generation,
    search_text: w.c.searchText,
    etag: w.final.metadata.etag,
  });
  const RECORD = `x(id bigint, uid uuid, ref_key text, kind text, namespace text, name text, location_key text, final jsonb,
    hash text, body_hash text, spec_hash text, generation int, search_text text, etag text)`;
  const ev: NewEvent[] = [];
  let unchanged = 0;

  /** The CPU half of a batch: served forms, hashes, the JSON and the rows to send. */
  const prepare = (batch: typeof accepted) => {
    const inserts: Write[] = [];
    const updates: Write[] = [];
    for (const { c, prev } of batch) {
      const bodyHash = sha1(JSON.stringify(c.entity));
      const uid = prev?.uid ?? randomUUID();
      const generation = prev ? (prev.spec_hash === c.specHash ? prev.generation : prev.generation + 1) : 1;
      const raw = { ...c.entity, metadata: { ...c.entity.metadata, uid, generation } };
      const relations = servedRelations(outgoing.get(c.key));
      const body = JSON.stringify({ ...raw, relations });
      const hash = sha1(body + locationId);
      if (prev && prev.hash === hash) {
        unchanged++;
        continue;
      }
      const final = { ...raw, metadata: { ...raw.metadata, etag: sha1(body) }, relations };
      (prev ? updates : inserts).push({ c, prev, final, hash, bodyHash });
    }
    // Declared relations and search rows change only with the entity's own body.
    const rebodied = updates.filter((u) => u.prev!.body_hash !== u.bodyHash);
    const relationRows = { owner: [] as string[], source: [] as string[], type: [] as string[], target: [] as string[] };
    const searchRows = { owner: [] as string[], key: [] as string[], value: [] as (string | null)[], original: [] as (string | null)[] };
    for (const w of [...inserts, ...rebodied]) {
      for (const rel of w.c.relations) {
        relationRows.owner.push(w.c.key);
        relationRows.source.push(rel.source);
        relationRows.type.push(rel.type);
        relationRows.target.push(rel.target);
        affected.add(rel.source);
        affected.add(rel.target);
      }
      for (const row of searchRowsOf(w.final)) {
        searchRows.owner.push(w.c.key);
        searchRows.key.push(row.key);
        searchRows.value.push(row.value);
        searchRows.original.push(row.original);
      }
    }
    for (const w of inserts) ev.push({ type: 'catalog.entity.added', subject: w.c.ref, payload: { locationId, uid: w.final.metadata.uid } });
    for (const w of updates) {
      ev.push({ type: 'catalog.entity.changed', subject: w.c.ref, payload: { locationId, uid: w.final.metadata.uid, generation: w.final.metadata.generation } });
    }
    return {
      inserts: inserts.length ? JSON.stringify(inserts.map(rowJson)) : undefined,
      updates: updates.length ? JSON.stringify(updates.map(rowJson)) : undefined,
      updatedIds: new Map(updates.map((w) => [w.c.key, w.prev!.id])),
      rebodiedIds: rebodied.map((u) => u.prev!.id),
      relationRows,
      searchRows,
      counts: { added: inserts.length, changed: updates.length },
    };
  };

  /** The database half of a batch. */
  const write = async (b: ReturnType<typeof prepare>) => {
    for (const key of await removeDerivedRows(q, b.rebodiedIds)) affected.add(key);
    const idOf = b.updatedIds;
    if (b.updates) {
      await q.query(
        `update catalog_entities e set ref_key = x.ref_key, kind = x.kind, namespace = x.namespace, name = x.name,
           origin_id = $2, location_key = x.location_key, final = x.final, hash = x.hash, body_hash = x.body_hash,
           spec_hash = x.spec_hash, generation = x.generation, errors = '[]', search_text = x.search_text, etag = x.etag, updated_at = now()
         from jsonb_to_recordset($1::jsonb) as ${RECORD} where e.id = x.id`,
        [b.updates, locationId],
      );
    }
    if (b.inserts) {
      const rows = await q.query<{ id: number; ref_key: string }>(
        `insert into catalog_entities (uid, ref_key, kind, namespace, name, origin_id, location_key, final, hash, body_hash, spec_hash, generation, search_text, etag)
         select x.uid, x.ref_key, x.kind, x.namespace, x.name, $2, x.location_key, x.final, x.hash, x.body_hash, x.spec_hash, x.generation, x.search_text, x.etag
         from jsonb_to_recordset($1::jsonb) as ${RECORD}
         returning id, ref_key`,
        [b.inserts, locationId],
      );
      for (const r of rows) idOf.set(r.ref_key, Number(r.id));
    }
    const rel = b.relationRows;
    if (rel.owner.length) {
      await q.query(
        `insert into catalog_relations (origin_id, source_key, type, target_key, target_ref)
         select o, s, t, k, k from unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) as x(o, s, t, k)`,
        [rel.owner.map((k) => idOf.get(k)), rel.source, rel.type, rel.target],
      );
    }
    const search = b.searchRows;
    if (search.owner.length) {
      await q.query(`insert into catalog_search (entity_id, key, value, original_value) select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[])`, [
        search.owner.map((k) => idOf.get(k)),
        search.key,
        search.value,
        search.original,
      ]);
    }
  };

  // Batches are pipelined: the next one is prepared while the database writes the last.
  let added = 0;
  let changed = 0;
  let writing: Promise<void> = Promise.resolve();
  for (const batch of chunks(accepted)) {
    const prepared = prepare(batch);
    added += prepared.counts.added;
    changed += prepared.counts.changed;
    await writing;
    writing = write(prepared);
    writing.catch(() => undefined); // awaited (and thrown) on the next turn; never unhandled meanwhile
  }
  await writing;

  for (const { row, errors } of errorUpdates) {
    await q.query(`update catalog_entities set errors = $2::jsonb, hash = '', updated_at = now() where id = $1`, [row.id, JSON.stringify(errors)]);
    affected.add(row.ref_key);
  }
  for (const row of orphaned) {
    await q.query(
      `update catalog_entities set final = jsonb_set(final, '{metadata,annotations,backstage.io/orphan}', '"true"'), hash = '', updated_at = now() where id = $1`,
      [row.id],
    );
    affected.add(row.ref_key);
  }
  // The served form of the accepted entities was built above; everything else touched is stitched.
  await stitch(q, [...affected].filter((k) => !acceptedKeys.has(k)));

  for (const { row } of errorUpdates) ev.push({ type: 'catalog.entity.changed', subject: row.ref_key, payload: { locationId, uid: row.uid, reason: 'processing-error' } });
  for (const row of orphaned) ev.push({ type: 'catalog.entity.changed', subject: row.ref_key, payload: { locationId, uid: row.uid, reason: 'orphaned' } });
  for (const r of deletes) ev.push({ type: 'catalog.entity.removed', subject: r.ref_key, payload: { locationId, uid: r.uid } });
  for (const batch of chunks(ev, 10_000)) await events.append(q, batch);

  return { added, changed: changed + errorUpdates.length + orphaned.length, removed: deletes.length, unchanged, problems };
}

/**
 * Deletes the relations and search rows derived from these entities, returning every ref at
 * either end of a removed relation (they need stitching).
 */
export async function removeDerivedRows(q: Queryable, entityIds: number[]): Promise<Set<string>> {
  const affected = new Set<string>();
  for (const batch of chunks(entityIds, 10_000)) {
    const rows = await q.query<{ source_key: string; target_key: string }>(
      `delete from catalog_relations where origin_id = any($1::bigint[]) returning source_key, target_key`,
      [batch],
    );
    for (const r of rows) {
      affected.add(r.source_key);
      affected.add(r.target_key);
    }
    await q.query(`delete from catalog_search where entity_id = any($1::bigint[])`, [batch]);
  }
  return affected;
}

/** Removes entities with everything derived from them, and re-stitches their neighbours. */
export async function removeEntities(q: Queryable, entityIds: number[]): Promise<void> {
  const affected = await removeDerivedRows(q, entityIds);
  for (const batch of chunks(entityIds, 10_000)) await q.query(`delete from catalog_entities where id = any($1::bigint[])`, [batch]);
  await stitch(q, [...affected]);
}

/**
 * Rebuilds the served form of entities in SQL: their own body, every relation that starts at
 * them (whoever declared it), processing errors as `status.items`, and a fresh etag.
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
           jsonb_set((e.final - 'relations' - 'status') #- '{metadata,etag}', '{relations}', coalesce(rels.rels, '[]'::jsonb))
             || case when jsonb_array_length(e.errors) > 0 then jsonb_build_object('status', jsonb_build_object('items', e.errors)) else '{}'::jsonb end as f
         from keys join catalog_entities e on e.ref_key = keys.key left join rels on rels.source_key = keys.key),
       tagged as (select id, f, md5(f::text) as etag from built)
       update catalog_entities e set final = jsonb_set(tagged.f, '{metadata,etag}', to_jsonb(tagged.etag)), etag = tagged.etag
       from tagged where e.id = tagged.id`,
      [batch],
    );
  }
}
