import { badInput } from '../core/errors.ts';

/** Backstage's filter predicate language, as the catalog client sends it. */
export type Primitive = string | number | boolean;
export type Predicate = Record<string, any>;

/**
 * Turns `filter` query params into a predicate with Backstage's rules: comma-separated
 * statements are ANDed, repeated params ORed, a bare key tests existence, and one key with
 * several values in one param matches any of them.
 */
export function filtersToPredicate(filters: string[]): Predicate | undefined {
  const anyOf: Predicate[] = [];
  for (const filter of filters) {
    const byKey = new Map<string, { values: string[]; exists: boolean }>();
    for (const raw of filter.split(',')) {
      const statement = raw.trim();
      if (!statement) continue;
      const eq = statement.indexOf('=');
      const key = (eq === -1 ? statement : statement.slice(0, eq)).trim();
      if (!key) {
        throw badInput('INVALID_FILTER', `Invalid filter, '${statement}' is not a valid statement (expected a string on the form a=b or a= or a)`, { statement });
      }
      const slot = byKey.get(key) ?? { values: [], exists: false };
      if (eq === -1) slot.exists = true;
      else slot.values.push(statement.slice(eq + 1).trim());
      byKey.set(key, slot);
    }
    const parts: Predicate[] = [];
    for (const [key, { values }] of byKey) {
      if (values.length === 0) parts.push({ [key]: { $exists: true } });
      else if (values.length === 1) parts.push({ [key]: values[0] });
      else parts.push({ [key]: { $in: values } });
    }
    if (parts.length === 0) continue;
    anyOf.push(parts.length === 1 ? parts[0] : { $all: parts });
  }
  if (anyOf.length === 0) return undefined;
  return anyOf.length === 1 ? anyOf[0] : { $any: anyOf };
}

export function andPredicates(...ps: (Predicate | undefined)[]): Predicate | undefined {
  const present = ps.filter((p): p is Predicate => p !== undefined);
  if (present.length === 0) return undefined;
  return present.length === 1 ? present[0] : { $all: present };
}

/**
 * Fields every entity has live in their own indexed columns, not in the search table:
 * `match` is the lowercased form filters compare, `original` the value as written (facets).
 */
export const ENTITY_COLUMNS: Record<string, { match: string; original: string }> = {
  kind: { match: 'lower(e.kind)', original: 'e.kind' },
  'metadata.name': { match: 'lower(e.name)', original: 'e.name' },
  'metadata.namespace': { match: 'lower(e.namespace)', original: 'e.namespace' },
  'metadata.uid': { match: 'e.uid::text', original: 'e.uid::text' },
};

const isPrimitive = (v: unknown): v is Primitive => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const lower = (v: Primitive) => String(v).toLowerCase();

/**
 * Compiles a predicate to a SQL condition over `catalog_entities e`. Values go into `params`;
 * keys are matched lowercased against the search table, `relations.<type>` against relations.
 */
export function predicateToSql(p: unknown, params: unknown[]): string {
  const param = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const compile = (node: unknown): string => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      throw badInput('INVALID_QUERY', 'Invalid query: a predicate must be an object such as {"kind": "component"} or {"$all": [...]}', { predicate: node });
    }
    const entries = Object.entries(node as Record<string, unknown>);
    for (const op of ['$all', '$any', '$not']) {
      if (op in (node as object) && entries.length !== 1) {
        throw badInput('INVALID_QUERY', `Invalid query: ${op} must be the only key of its object`, { predicate: node });
      }
    }
    if (entries.length === 0) return 'true';
    const [firstKey, firstValue] = entries[0];
    if (firstKey === '$all' || firstKey === '$any') {
      if (!Array.isArray(firstValue)) throw badInput('INVALID_QUERY', `Invalid query: ${firstKey} takes a list of predicates`, { predicate: node });
      if (firstValue.length === 0) return firstKey === '$all' ? 'true' : 'false';
      return `(${firstValue.map(compile).join(firstKey === '$all' ? ' and ' : ' or ')})`;
    }
    if (firstKey === '$not') return `(not ${compile(firstValue)})`;
    return `(${entries.map(([k, v]) => field(k, v)).join(' and ')})`;
  };
  const field = (rawKey: string, value: unknown): string => {
    if (rawKey.startsWith('$')) throw badInput('INVALID_QUERY', `Invalid query: unknown operator ${rawKey}`, { operator: rawKey });
    const key = rawKey.toLowerCase();
    const rel = key.startsWith('relations.') ? key.slice('relations.'.length) : undefined;
    const column = ENTITY_COLUMNS[key]?.match;
    const match = (cond: string) =>
      column
        ? cond
          ? `${column} ${cond}`
          : 'true'
        : rel !== undefined
          ? `e.ref_key in (select source_key from catalog_relations where lower(type) = ${param(rel)}${cond ? ` and target_key ${cond}` : ''})`
          : `e.id in (select entity_id from catalog_search where key = ${param(key)}${cond ? ` and value ${cond}` : ''})`;
    if (isPrimitive(value)) return match(`= ${param(lower(value))}`);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw badInput('INVALID_QUERY', `Invalid filter predicate value for field "${rawKey}": expected a string, number, boolean or an operator object`, { field: rawKey });
    }
    const ops = Object.entries(value as Record<string, unknown>);
    if (ops.length !== 1) throw badInput('INVALID_QUERY', `Invalid filter predicate value for field "${rawKey}": use exactly one operator`, { field: rawKey });
    const [op, arg] = ops[0];
    switch (op) {
      case '$exists':
        return arg ? match('') : `not ${match('')}`;
      case '$in': {
        if (!Array.isArray(arg) || !arg.every(isPrimitive)) {
          throw badInput('INVALID_QUERY', `Invalid filter predicate value for field "${rawKey}": $in takes a list of values`, { field: rawKey });
        }
        return match(`= any(${param(arg.map(lower))}::text[])`);
      }
      case '$hasPrefix': {
        if (typeof arg !== 'string') throw badInput('INVALID_QUERY', `Invalid filter predicate value for field "${rawKey}": $hasPrefix takes a string`, { field: rawKey });
        return match(`like ${param(lower(arg).replace(/[\\%_]/g, (c) => `\\${c}`) + '%')}`);
      }
      case '$contains': {
        if (isPrimitive(arg)) return match(`= ${param(lower(arg))}`);
        if (key === 'relations' && arg && typeof arg === 'object') {
          const { type, targetRef, ...rest } = arg as Record<string, unknown>;
          if (typeof type !== 'string' || Object.keys(rest).length) {
            throw badInput('INVALID_QUERY', `Invalid filter predicate value for field "relations": $contains takes {type, targetRef?}`, { field: rawKey });
          }
          let cond = '';
          if (isPrimitive(targetRef)) cond = ` and target_key = ${param(lower(targetRef))}`;
          else if (targetRef && typeof targetRef === 'object' && Array.isArray((targetRef as any).$in)) {
            const list = (targetRef as any).$in as Primitive[];
            if (list.length === 0) throw badInput('INVALID_QUERY', 'Invalid query: targetRef $in must not be empty', { field: rawKey });
            cond = ` and target_key = any(${param(list.map(lower))}::text[])`;
          }
          return `e.ref_key in (select source_key from catalog_relations where lower(type) = ${param(type.toLowerCase())}${cond})`;
        }
        throw badInput('INVALID_QUERY', `Invalid filter predicate value for field "${rawKey}": an object under $contains is only allowed on "relations"`, { field: rawKey });
      }
      default:
        throw badInput('INVALID_QUERY', `Invalid filter predicate value for field "${rawKey}": unknown operator ${op}`, { field: rawKey, operator: op });
    }
  };
  return compile(p);
}
