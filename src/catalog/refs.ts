import { parseEntityRef, stringifyEntityRef, type Entity } from '@backstage/catalog-model';

export type { Entity };

export interface EntityName {
  kind: string;
  namespace: string;
  name: string;
}

/** `Component:default/Foo` as Backstage prints it: kind lowercased, the rest as written. */
export function refOf(e: { kind: string; metadata: { namespace?: string; name: string } }): string {
  return stringifyEntityRef({ kind: e.kind, namespace: e.metadata.namespace ?? 'default', name: e.metadata.name });
}

/** Refs compare case-insensitively in Backstage; this is the form used for lookups and keys. */
export function refKey(ref: string): string {
  return ref.toLocaleLowerCase('en-US');
}

/**
 * Parses a ref the way Backstage does; `defaultKind` fills a short ref (`team-a` → group),
 * `defaultNamespace` the namespace. Throws with Backstage's message when the kind is missing.
 */
export function parseRef(ref: string, context: { defaultKind?: string; defaultNamespace?: string } = {}): EntityName {
  return parseEntityRef(ref, context);
}

export function stringifyRef(name: EntityName): string {
  return stringifyEntityRef(name);
}
