import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Predicate } from '../catalog/predicates.ts';
import { badInput } from '../core/errors.ts';
import '../identity/access.ts';
import { definePermission } from '../identity/permissions.ts';
import type { SearchIndexer } from './indexer.ts';
import type { SearchService } from './service.ts';

definePermission({ name: 'search.query', action: 'read', description: 'Search the catalog, docs and templates' });
definePermission({ name: 'search.reindex', action: 'update', adminScope: true, description: 'Rebuild the search index' });

/** Reads `types[]=a`, `types[0]=a`, `types=a` and `filters[kind]=x` as Backstage's search client writes them. */
function parseQuery(url: string) {
  const qs = new URL(url, 'http://pave.invalid').searchParams;
  const types: string[] = [];
  const filters: Record<string, string[]> = {};
  for (const [k, v] of qs) {
    if (k === 'types' || /^types\[\d*\]$/.test(k)) types.push(v);
    const f = /^filters\[([^\]]+)\](\[\d*\])?$/.exec(k);
    if (f) (filters[f[1]] ??= []).push(v);
  }
  const limit = qs.get('pageLimit');
  if (limit !== null && !/^\d+$/.test(limit)) throw badInput('INVALID_REQUEST', 'pageLimit must be a whole number from 1 to 100', { pageLimit: limit });
  const facets = qs.get('facets');
  if (facets !== null && facets !== 'true' && facets !== 'false') throw badInput('INVALID_REQUEST', 'facets is true or false', { facets });
  return { term: qs.get('term') ?? '', types, filters, facets: facets === 'true', pageCursor: qs.get('pageCursor') ?? undefined, pageLimit: limit === null ? undefined : Number(limit) };
}

/** Backstage-compatible search: `GET /api/search/query`. */
export async function searchRoutes(app: FastifyInstance, deps: { search: SearchService; indexer: SearchIndexer }): Promise<void> {
  app.get(
    '/query',
    {
      config: { permission: 'search.query' },
      schema: {
        tags: ['search'],
        summary:
          "Search everything: term, types[], filters[kind|owner|namespace|lifecycle], pageCursor, pageLimit (Backstage's result shape); facets=true adds counts per kind, owner, namespace and lifecycle",
        querystring: Type.Object({}, { additionalProperties: true }),
      },
    },
    async (req) => {
      const q = parseQuery(req.url);
      // Entities the caller may not read are left out of the results rather than refused.
      const hidden = req.access.decide('catalog.entity.read').result === 'DENY';
      const catalogScope = hidden ? undefined : req.access.filter<Predicate>('catalog.entity.read');
      return deps.search.query({ ...q, catalogScope, catalogHidden: hidden });
    },
  );
  app.post('/reindex', { config: { permission: 'search.reindex' }, schema: { tags: ['search'], summary: 'Rebuild the whole index from its sources' } }, async () =>
    deps.indexer.reindex(),
  );
}
