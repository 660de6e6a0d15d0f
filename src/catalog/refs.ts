import type { Entity } from '@backstage/catalog-model';

export type { Entity };

export interface EntityName {
  kind: string;
  namespace: string;
  name: string;
}

const DEFAULT_NAMESPACE = 'default';

// Backstage's ref grammar, kept here so reading refs does not load the whole model package
// (refs.test.ts checks these functions against @backstage/catalog-model case by case).

/** `component:default/foo`: Backstage prints refs lowercased throughout. */
export function stringifyRef(name: { kind: string; namespace?: string; name: string }): string {
  return `${name.kind}:${name.namespace ?? DEFAULT_NAMESPACE}/${name.name}`.toLowerCase();
}

export function refOf(e: { kind: string; metadata: { namespace?: string; name: string } }): string {
  return stringifyRef({ kind: e.kind, namespace: e.metadata.namespace, name: e.metadata.name });
}

/** Refs compare case-insensitively in Backstage; this is the form used for lookups and keys. */
export function refKey(ref: string): string {
  return ref.toLowerCase();
}

/**
 * Parses `[kind:][namespace/]name` the way Backstage does; `defaultKind` fills a short ref
 * (`team-a` → group), `defaultNamespace` the namespace. Throws Backstage's messages.
 */
export function parseRef(ref: string, context: { defaultKind?: string; defaultNamespace?: string } = {}): EntityName {
  if (!ref) throw new Error('Entity reference must not be empty');
  let colon = ref.indexOf(':');
  const slash = ref.indexOf('/');
  // A slash before the first colon belongs to the name: `a/b:c` has no kind.
  if (slash !== -1 && slash < colon) colon = -1;
  const kind = colon === -1 ? undefined : ref.slice(0, colon);
  const namespace = slash === -1 ? undefined : ref.slice(colon + 1, slash);
  const name = ref.slice(Math.max(colon + 1, slash + 1));
  if (kind === '' || namespace === '' || !name) {
    throw new TypeError(`Entity reference "${ref}" was not on the form [<kind>:][<namespace>/]<name>`);
  }
  const finalKind = kind ?? context.defaultKind;
  if (!finalKind) {
    throw new Error(`Entity reference "${ref}" had missing or empty kind (e.g. did not start with "component:" or similar)`);
  }
  const finalNamespace = namespace ?? context.defaultNamespace ?? DEFAULT_NAMESPACE;
  if (!finalNamespace) throw new Error(`Entity reference "${ref}" had missing or empty namespace`);
  return { kind: finalKind, namespace: finalNamespace, name };
}
