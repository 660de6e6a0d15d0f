import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Entity } from '@backstage/catalog-model';
import { expandLocation, GLOB_CHARS, locationKey, readSource, resolveTarget, type LocationProblem, type LocationSpec, type ParsedDocument, type ReaderOptions, type SourceRead } from './reader.ts';
import { refKey, refOf } from './refs.ts';
import { RelationError, relationsOf, type Relation } from './relations.ts';
import { searchTextOf } from './search.ts';
import type { EntityValidator } from './validation.ts';

export const ANNOTATION_LOCATION = 'backstage.io/managed-by-location';
export const ANNOTATION_ORIGIN_LOCATION = 'backstage.io/managed-by-origin-location';

/** An entity read from a location, validated, with everything derived from it. */
export interface Candidate {
  entity: Entity;
  ref: string;
  key: string;
  locationKey: string;
  relations: Relation[];
  searchText: string;
  specHash: string;
}

/** Everything one read of a registered location found. */
export interface TreeRead {
  /** In the order found: the generated Location entity first, then depth-first. */
  candidates: Map<string, Candidate>;
  problems: LocationProblem[];
  /** Refs of entities that are in the files but invalid now: their last good version stays. */
  invalidRefs: Map<string, LocationProblem>;
  /** Sources that could not be read or parsed: what they produced before stays. */
  failedSources: Map<string, LocationProblem>;
  /** True when every source was read and parsed, so an entity not found was really removed. */
  complete: boolean;
  /** A failure that may pass by itself (a URL that did not answer): worth retrying soon. */
  transient: boolean;
  /** Local files read and folders globbed, for watching. */
  watch: string[];
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

/** The Location entity Backstage generates for a registered location, named after its hash. */
export function generatedLocationEntity(spec: LocationSpec, name = generatedLocationName(spec)): Entity {
  const key = locationKey(spec);
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Location',
    metadata: {
      name,
      namespace: 'default',
      annotations: { [ANNOTATION_LOCATION]: key, [ANNOTATION_ORIGIN_LOCATION]: key },
    },
    spec: { type: spec.type, target: spec.target },
  };
}

export function generatedLocationName(spec: LocationSpec): string {
  return `generated-${sha1(locationKey(spec))}`;
}

const MAX_DEPTH = 32;

/**
 * Reads a registered location and every Location entity reachable from it. Reads in parallel,
 * validates each document and keeps each problem with its file, line and column.
 */
export async function readTree(root: LocationSpec, validator: EntityValidator, opts: ReaderOptions, generatedName?: string): Promise<TreeRead> {
  const rootKey = locationKey(root);
  const out: TreeRead = {
    candidates: new Map(),
    problems: [],
    invalidRefs: new Map(),
    failedSources: new Map(),
    complete: true,
    transient: false,
    watch: [],
  };
  const seen = new Set<string>();

  const accept = async (data: unknown, sourceKey: string, parsed?: ParsedDocument): Promise<Candidate | undefined> => {
    const placeOf = (field?: string) => (parsed ? { location: sourceKey, ...parsed.positionOf(field) } : { location: sourceKey });
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      out.problems.push({
        code: 'ENTITY_INVALID',
        message: `Expected an entity (a mapping with apiVersion, kind, metadata) at the root of the document, got ${Array.isArray(data) ? 'a list' : typeof data}`,
        ...placeOf(),
      });
      return undefined;
    }
    const doc = data as Record<string, any>;
    const guessedRef = typeof doc.kind === 'string' && typeof doc.metadata?.name === 'string' ? safeRef(doc) : undefined;
    if (doc.metadata && typeof doc.metadata === 'object' && !Array.isArray(doc.metadata)) {
      doc.metadata.annotations = { ...(doc.metadata.annotations ?? {}), [ANNOTATION_LOCATION]: sourceKey, [ANNOTATION_ORIGIN_LOCATION]: rootKey };
    }
    const verdict = await validator.validate(doc);
    const refuse = (problem: LocationProblem) => {
      out.problems.push(problem);
      if (guessedRef) out.invalidRefs.set(refKey(guessedRef), problem);
      return undefined;
    };
    if ('problem' in verdict) {
      const p = verdict.problem;
      const who = guessedRef ? `${guessedRef}: ` : '';
      return refuse({
        code: p.code,
        message: `${who}${p.message}`,
        ...placeOf(p.field),
        entityRef: guessedRef,
        details: { field: p.field, value: p.value, rule: p.rule },
      });
    }
    const entity = verdict.entity;
    const ref = refOf(entity);
    let relations: Relation[];
    try {
      relations = relationsOf(entity);
    } catch (e) {
      if (!(e instanceof RelationError)) throw e;
      return refuse({ code: 'ENTITY_INVALID', message: `${ref}: ${e.message}`, ...placeOf(e.field), entityRef: ref, details: { field: e.field, value: e.value, rule: 'an entity ref with its kind' } });
    }
    const key = refKey(ref);
    const existing = out.candidates.get(key);
    if (existing) {
      out.problems.push({
        code: 'ENTITY_CONFLICT',
        message: `${ref} is declared twice: in ${existing.locationKey} and in ${sourceKey}; the first is kept. Remove one of them`,
        ...placeOf(),
        entityRef: ref,
      });
      return undefined;
    }
    const candidate: Candidate = {
      entity,
      ref,
      key,
      locationKey: sourceKey,
      relations,
      searchText: searchTextOf(entity),
      specHash: sha1(JSON.stringify(entity.spec ?? null)),
    };
    out.candidates.set(key, candidate);
    return candidate;
  };

  const generated = generatedLocationEntity(root, generatedName);
  await accept(generated, rootKey);

  let frontier: LocationSpec[] = [root];
  for (let depth = 0; frontier.length > 0 && depth < MAX_DEPTH; depth++) {
    const files: LocationSpec[] = [];
    for (const spec of frontier) {
      const expanded = await expandLocation(spec);
      if (!Array.isArray(expanded)) {
        out.problems.push(expanded);
        out.failedSources.set(locationKey(spec), expanded);
        out.complete = false;
        continue;
      }
      // A folder or glob is watched from its fixed base folder, so new files there are noticed too
      // (chokidar has no globs; a folder with a single catalog-info file is still a folder).
      if (spec.type === 'file' && (expanded.length !== 1 || expanded[0].target !== path.resolve(spec.target))) out.watch.push(staticBase(spec.target));
      for (const f of expanded) {
        const k = locationKey(f);
        if (seen.has(k)) continue;
        seen.add(k);
        files.push(f);
      }
    }
    const reads = await mapLimit(files, 8, (f) => readSource(f, opts));
    const next: LocationSpec[] = [];
    for (const read of reads) {
      if (read.spec.type === 'file') out.watch.push(read.spec.target);
      if (!read.ok) {
        noteFailure(out, read);
        continue;
      }
      for (const doc of read.documents) {
        const c = await accept(doc.data, read.key, doc);
        if (c && c.entity.kind.toLowerCase() === 'location') {
          const spec = c.entity.spec as { type?: string; target?: string; targets?: string[] };
          const type = (spec.type ?? read.spec.type) as LocationSpec['type'];
          for (const t of [spec.target, ...(spec.targets ?? [])]) {
            if (typeof t === 'string' && t.length > 0) next.push(resolveTarget(read.spec, type, t));
          }
        }
      }
    }
    frontier = next;
  }
  return out;
}

/** The folder a glob starts from (`/a/b/{x,y}/c.yaml` gives `/a/b`), or the path itself when it has no glob. */
function staticBase(target: string): string {
  const parts = path.resolve(target).split(path.sep);
  const i = parts.findIndex((p) => GLOB_CHARS.test(p));
  return i === -1 ? parts.join(path.sep) : parts.slice(0, i).join(path.sep) || path.sep;
}

function noteFailure(out: TreeRead, read: Extract<SourceRead, { ok: false }>): void {
  out.problems.push(read.problem);
  out.failedSources.set(read.key, read.problem);
  out.complete = false;
  out.transient ||= read.transient;
}

function safeRef(doc: Record<string, any>): string | undefined {
  try {
    return refOf({ kind: doc.kind, metadata: { name: doc.metadata.name, namespace: typeof doc.metadata.namespace === 'string' ? doc.metadata.namespace : undefined } });
  } catch {
    return undefined;
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
