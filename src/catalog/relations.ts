import type { Entity } from '@backstage/catalog-model';
import { parseRef, refKey, refOf, stringifyRef } from './refs.ts';

export interface Relation {
  source: string;
  type: string;
  target: string;
}

/** One spec field that names other entities, the relation it makes, and its reverse. */
interface RelationRule {
  field: string;
  /** The kind a short ref (`team-a`) stands for; absent means the ref must name its kind. */
  defaultKind?: string;
  forward: string;
  reverse: string;
}

// The relations Backstage's built-in kinds processor emits, field by field.
const RULES: Record<string, RelationRule[]> = {
  component: [
    { field: 'owner', defaultKind: 'Group', forward: 'ownedBy', reverse: 'ownerOf' },
    { field: 'subcomponentOf', defaultKind: 'Component', forward: 'partOf', reverse: 'hasPart' },
    { field: 'providesApis', defaultKind: 'API', forward: 'providesApi', reverse: 'apiProvidedBy' },
    { field: 'consumesApis', defaultKind: 'API', forward: 'consumesApi', reverse: 'apiConsumedBy' },
    { field: 'dependsOn', forward: 'dependsOn', reverse: 'dependencyOf' },
    { field: 'dependencyOf', forward: 'dependencyOf', reverse: 'dependsOn' },
    { field: 'system', defaultKind: 'System', forward: 'partOf', reverse: 'hasPart' },
  ],
  api: [
    { field: 'owner', defaultKind: 'Group', forward: 'ownedBy', reverse: 'ownerOf' },
    { field: 'system', defaultKind: 'System', forward: 'partOf', reverse: 'hasPart' },
  ],
  resource: [
    { field: 'owner', defaultKind: 'Group', forward: 'ownedBy', reverse: 'ownerOf' },
    { field: 'dependsOn', forward: 'dependsOn', reverse: 'dependencyOf' },
    { field: 'dependencyOf', forward: 'dependencyOf', reverse: 'dependsOn' },
    { field: 'system', defaultKind: 'System', forward: 'partOf', reverse: 'hasPart' },
  ],
  system: [
    { field: 'owner', defaultKind: 'Group', forward: 'ownedBy', reverse: 'ownerOf' },
    { field: 'domain', defaultKind: 'Domain', forward: 'partOf', reverse: 'hasPart' },
  ],
  domain: [
    { field: 'owner', defaultKind: 'Group', forward: 'ownedBy', reverse: 'ownerOf' },
    { field: 'subdomainOf', defaultKind: 'Domain', forward: 'partOf', reverse: 'hasPart' },
  ],
  user: [{ field: 'memberOf', defaultKind: 'Group', forward: 'memberOf', reverse: 'hasMember' }],
  group: [
    { field: 'parent', defaultKind: 'Group', forward: 'childOf', reverse: 'parentOf' },
    { field: 'children', defaultKind: 'Group', forward: 'parentOf', reverse: 'childOf' },
    { field: 'members', defaultKind: 'User', forward: 'hasMember', reverse: 'memberOf' },
  ],
  template: [{ field: 'owner', defaultKind: 'Group', forward: 'ownedBy', reverse: 'ownerOf' }],
};

export class RelationError extends Error {
  constructor(
    message: string,
    readonly field: string,
    readonly value: unknown,
  ) {
    super(message);
  }
}

/**
 * The relations an entity declares, both directions. A target that does not exist yet is still
 * a relation: it shows as unresolved until that entity arrives.
 */
export function relationsOf(entity: Entity): Relation[] {
  const rules = RULES[entity.kind.toLowerCase()];
  if (!rules || !entity.spec) return [];
  // Backstage keeps relation refs lowercased.
  const self = refKey(refOf(entity));
  const namespace = entity.metadata.namespace ?? 'default';
  const out: Relation[] = [];
  for (const rule of rules) {
    const raw = (entity.spec as Record<string, unknown>)[rule.field];
    if (raw === undefined || raw === null) continue;
    const values = Array.isArray(raw) ? raw : [raw];
    for (const value of values) {
      if (typeof value !== 'string' || value.trim() === '') {
        throw new RelationError(`spec.${rule.field} must hold entity refs as strings, but found ${JSON.stringify(value)}`, `spec.${rule.field}`, value);
      }
      let target: string;
      try {
        target = refKey(stringifyRef(parseRef(value, { defaultKind: rule.defaultKind, defaultNamespace: namespace })));
      } catch (e) {
        throw new RelationError(
          `spec.${rule.field} has "${value}": ${(e as Error).message}${rule.defaultKind ? '' : `; write it with its kind, e.g. "component:${value}" or "resource:${value}"`}`,
          `spec.${rule.field}`,
          value,
        );
      }
      out.push({ source: self, type: rule.forward, target });
      out.push({ source: target, type: rule.reverse, target: self });
    }
  }
  return out;
}
