import type { Entity } from '@backstage/catalog-model';

export interface SearchRow {
  key: string;
  /** Lowercased, for matching. */
  value: string | null;
  /** As written, for facets. */
  original: string | null;
}

// As in Backstage these are indexed specially or not at all; kind, name, namespace and uid are
// read from the entity's own columns (predicates.ts ENTITY_COLUMNS).
const SPECIAL_KEYS = new Set(['attachments', 'relations', 'status', 'kind', 'metadata.name', 'metadata.namespace', 'metadata.uid', 'metadata.etag']);
const MAX_KEY_LENGTH = 200;
const MAX_VALUE_LENGTH = 200;

/**
 * Flattens an entity into lowercased key/value rows, the way Backstage's search table holds
 * them, so filters (`spec.type=service`, key-only existence, array membership) match alike.
 * Relations are not here: filters on `relations.*` read the relations table.
 */
export function searchRowsOf(entity: Entity): SearchRow[] {
  const rows: SearchRow[] = [];
  const walk = (value: unknown, key: string) => {
    if (SPECIAL_KEYS.has(key)) return;
    if (Array.isArray(value)) {
      for (const item of value) {
        walk(item, key);
        // Backstage also indexes `metadata.tags.java = true`, so a bare key can test membership.
        if (typeof item === 'string') leaf(`${key}.${item}`, true);
      }
      return;
    }
    if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>);
      for (const [k, v] of entries) walk(v, key ? `${key}.${k}` : k);
      return;
    }
    leaf(key, value);
  };
  const leaf = (key: string, value: unknown) => {
    if (key.length > MAX_KEY_LENGTH) return;
    const lower = key.toLowerCase();
    if (value === null || value === undefined) {
      rows.push({ key: lower, value: null, original: null });
      return;
    }
    const text = String(value);
    const long = text.length > MAX_VALUE_LENGTH;
    rows.push({ key: lower, value: long ? null : text.toLowerCase(), original: long ? null : text });
  };
  walk(entity, '');
  return dedupe(rows);
}

function dedupe(rows: SearchRow[]): SearchRow[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const k = `${r.key}\u0000${r.value}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** What Pave's default full-text search reads: name, title, description, tags and owner. */
export function searchTextOf(entity: Entity): string {
  const spec = (entity.spec ?? {}) as Record<string, unknown>;
  return [
    entity.metadata.name,
    entity.metadata.title,
    entity.metadata.description,
    ...(entity.metadata.tags ?? []),
    typeof spec.owner === 'string' ? spec.owner : undefined,
    entity.kind,
    typeof spec.type === 'string' ? spec.type : undefined,
  ]
    .filter((s): s is string => typeof s === 'string' && s.length > 0)
    .join(' ')
    .toLowerCase();
}
