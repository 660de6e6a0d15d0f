import { useQuery } from '@tanstack/react-query';
import { getEntitiesByRefs, type Entity } from './api.ts';
import { normalizeRef } from './refs.ts';

export const RELATION_LABELS: Record<string, string> = {
  ownedBy: 'Owned by',
  ownerOf: 'Owner of',
  partOf: 'Part of',
  hasPart: 'Has part',
  dependsOn: 'Depends on',
  dependencyOf: 'Dependency of',
  providesApi: 'Provides API',
  apiProvidedBy: 'API provided by',
  consumesApi: 'Consumes API',
  apiConsumedBy: 'API consumed by',
  memberOf: 'Member of',
  hasMember: 'Has member',
  childOf: 'Child of',
  parentOf: 'Parent of',
};

/** Forward name of each relation pair; the inverse is drawn as the forward edge reversed. */
export const INVERSE_OF: Record<string, string> = {
  ownerOf: 'ownedBy',
  hasPart: 'partOf',
  dependencyOf: 'dependsOn',
  apiProvidedBy: 'providesApi',
  apiConsumedBy: 'consumesApi',
  hasMember: 'memberOf',
  parentOf: 'childOf',
};

export const RELATION_ORDER = [
  'ownedBy',
  'partOf',
  'hasPart',
  'providesApi',
  'consumesApi',
  'apiProvidedBy',
  'apiConsumedBy',
  'dependsOn',
  'dependencyOf',
  'memberOf',
  'hasMember',
  'parentOf',
  'childOf',
  'ownerOf',
];

export function relationLabel(type: string): string {
  return RELATION_LABELS[type] ?? type.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

export function uniqueTargets(entity: Entity): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of entity.relations ?? []) {
    const key = normalizeRef(r.targetRef);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(r.targetRef);
    }
  }
  return out;
}

/**
 * Resolves entity refs through `POST /entities/by-refs`. The result maps each normalized ref
 * to its entity, or to null when the target does not exist (unresolved).
 */
export function useResolvedRefs(refs: string[], enabled = true) {
  const sorted = [...new Set(refs)].sort();
  return useQuery({
    queryKey: ['by-refs', sorted],
    enabled: enabled && sorted.length > 0,
    queryFn: async ({ signal }) => {
      const map = new Map<string, Entity | null>();
      // Keep request bodies reasonable for entities with very many relations.
      for (let i = 0; i < sorted.length; i += 500) {
        const chunk = sorted.slice(i, i + 500);
        const items = await getEntitiesByRefs(chunk, signal);
        chunk.forEach((ref, j) => map.set(normalizeRef(ref), items[j] ?? null));
      }
      return map;
    },
  });
}
