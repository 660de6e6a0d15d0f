import type { Entity } from './api.ts';

export interface CompoundRef {
  kind: string;
  namespace: string;
  name: string;
}

/**
 * Parses `kind:namespace/name`, `kind:name`, `namespace/name` or `name`,
 * falling back to the given defaults. Kinds are lowercased (refs are case-insensitive).
 */
export function parseRef(ref: string, defaults: { kind?: string; namespace?: string } = {}): CompoundRef {
  let rest = ref.trim();
  let kind = defaults.kind;
  const colon = rest.indexOf(':');
  if (colon > 0) {
    kind = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
  }
  let namespace = defaults.namespace ?? 'default';
  const slash = rest.indexOf('/');
  if (slash > 0) {
    namespace = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
  }
  return { kind: (kind ?? 'component').toLowerCase(), namespace, name: rest };
}

export function stringifyRef(ref: CompoundRef): string {
  return `${ref.kind.toLowerCase()}:${ref.namespace}/${ref.name}`;
}

export function entityRefOf(entity: Entity): string {
  return stringifyRef({
    kind: entity.kind,
    namespace: entity.metadata.namespace ?? 'default',
    name: entity.metadata.name,
  });
}

/** Normalized form used to compare refs (kind and namespace are case-insensitive). */
export function normalizeRef(ref: string): string {
  const r = parseRef(ref);
  return `${r.kind}:${r.namespace.toLowerCase()}/${r.name.toLowerCase()}`;
}

export function entityPath(ref: CompoundRef): string {
  return `/catalog/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(ref.kind.toLowerCase())}/${encodeURIComponent(ref.name)}`;
}

export function entityPathOf(entity: Entity): string {
  return entityPath({ kind: entity.kind, namespace: entity.metadata.namespace ?? 'default', name: entity.metadata.name });
}

export function refPath(ref: string, defaults?: { kind?: string; namespace?: string }): string {
  return entityPath(parseRef(ref, defaults));
}

/** Short human form: drops the `default` namespace, and the kind when it is the expected one. */
export function humanizeRef(ref: string, defaults?: { kind?: string; namespace?: string }): string {
  const r = parseRef(ref, defaults);
  const ns = r.namespace === (defaults?.namespace ?? 'default') ? '' : `${r.namespace}/`;
  const kind = defaults?.kind && defaults.kind.toLowerCase() === r.kind ? '' : `${r.kind}:`;
  return `${kind}${ns}${r.name}`;
}

export function specString(entity: Entity, key: string): string | undefined {
  const v = entity.spec?.[key];
  return typeof v === 'string' ? v : undefined;
}
