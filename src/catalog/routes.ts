import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { FastifyRequest } from 'fastify';
import { badInput, notFound } from '../core/errors.ts';
import '../identity/access.ts';
import { parseFields } from './fields.ts';
import { andPredicates, filtersToPredicate, type Predicate } from './predicates.ts';
import { refOf } from './refs.ts';
import { decodeCursor, type Catalog, type EntityJson, type EntityPage, type Location, type OrderField } from './service.ts';

// Entities leave the store as JSON text and are sent as they are, never parsed on the way.
const jsonList = (items: (EntityJson | null)[]) => `[${items.map((i) => i ?? 'null').join(',')}]`;
const jsonPage = (p: EntityPage) => `{"items":${jsonList(p.items)},"totalItems":${p.totalItems},"pageInfo":${JSON.stringify(p.pageInfo)}}`;
const JSON_TYPE = 'application/json; charset=utf-8';

const StringList = Type.Array(Type.String());
const Entity = Type.Object({}, { additionalProperties: true, description: 'A Backstage entity' });
const EntityList = Type.Array(Entity);
const LocationSpec = Type.Object(
  { type: Type.String({ description: 'file or url' }), target: Type.String(), presence: Type.Optional(Type.Union([Type.Literal('required'), Type.Literal('optional')])) },
  { additionalProperties: false },
);
const Location = Type.Object({ id: Type.String(), type: Type.String(), target: Type.String(), entityRef: Type.String(), status: Type.Optional(Type.Any()) });
const EntityPath = Type.Object({ kind: Type.String(), namespace: Type.String(), name: Type.String() });
const Page = Type.Object({
  items: EntityList,
  totalItems: Type.Integer(),
  pageInfo: Type.Object({ nextCursor: Type.Optional(Type.String()), prevCursor: Type.Optional(Type.String()) }),
});
const Facets = Type.Object({ facets: Type.Record(Type.String(), Type.Array(Type.Object({ value: Type.String(), count: Type.Integer() }))) });

const tags = ['catalog'];
const READ = 'catalog.entity.read';

/** What the caller may read, as a predicate every entity query adds (undefined: everything). */
const readScope = (req: FastifyRequest) => req.access.filter<Predicate>(READ);

/** An entity the caller may not read is reported as missing, as Backstage does. */
function readable<T>(req: FastifyRequest, entity: T, what: string): T {
  if (!req.access.allows(READ, entity)) throw notFound('ENTITY_NOT_FOUND', `No entity ${what}`, {});
  return entity;
}

function visibleLocation(req: FastifyRequest, l: Location): Location {
  if (!req.access.allows('catalog.location.read', l)) throw notFound('LOCATION_NOT_FOUND', `Found no location with ID ${l.id}`, { id: l.id });
  return l;
}


function parseOrder(raw: string[] | undefined): OrderField[] | undefined {
  return raw?.map((o) => {
    const m = /^(asc|desc):(.+)$/.exec(o.trim());
    if (!m) throw badInput('INVALID_ORDER', `Invalid order parameter "${o}", expected "<asc or desc>:<field name>"`, { order: o });
    return { order: m[1] as 'asc' | 'desc', field: m[2] };
  });
}

function parseOrderFields(raw: string[] | undefined): OrderField[] | undefined {
  return raw?.map((o) => {
    const [field, order = 'asc'] = o.split(',').map((s) => s.trim());
    if (!field || (order !== 'asc' && order !== 'desc')) {
      throw badInput('INVALID_ORDER', `Invalid orderField "${o}", expected "<field>,<asc or desc>"`, { orderField: o });
    }
    return { field, order };
  });
}

function limitOf(raw: number | undefined, name = 'limit'): number | undefined {
  if (raw === undefined) return undefined;
  if (!Number.isInteger(raw) || raw < 0) throw badInput('INVALID_REQUEST', `${name} must be a whole number of 0 or more`, { [name]: raw });
  return raw;
}

/** The catalog's HTTP API, wire-compatible with Backstage's catalog backend. */
export async function catalogRoutes(app: FastifyInstance, catalog: Catalog): Promise<void> {
  const EntitiesQuery = Type.Object({
    filter: Type.Optional(StringList),
    fields: Type.Optional(StringList),
    order: Type.Optional(StringList),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1 })),
    after: Type.Optional(Type.String({ minLength: 1 })),
  });
  app.get<{ Querystring: Static<typeof EntitiesQuery> }>(
    '/entities',
    { config: { permission: READ }, schema: { tags, summary: 'List entities (filter, fields, order, offset/limit/after)', querystring: EntitiesQuery, response: { 200: EntityList } } },
    async (req, reply) => {
      const q = req.query;
      let { offset, limit } = q;
      if (q.after) {
        try {
          ({ offset, limit } = JSON.parse(Buffer.from(q.after, 'base64').toString('utf8')));
        } catch {
          throw badInput('INVALID_CURSOR', 'Malformed after cursor: pass back the one from the Link header', { after: q.after });
        }
      }
      const { items, more } = await catalog.listEntities({
        predicate: andPredicates(filtersToPredicate(q.filter ?? []), readScope(req)),
        fields: parseFields(q.fields),
        order: parseOrder(q.order),
        offset,
        limit,
      });
      if (more && limit !== undefined) {
        const url = new URL(req.url, 'http://x');
        url.searchParams.delete('offset');
        url.searchParams.set('after', Buffer.from(JSON.stringify({ limit, offset: (offset ?? 0) + limit })).toString('base64'));
        reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
      }
      return reply.type(JSON_TYPE).send(jsonList(items));
    },
  );

  const ByQueryGet = Type.Object({
    filter: Type.Optional(StringList),
    fields: Type.Optional(StringList),
    orderField: Type.Optional(StringList),
    cursor: Type.Optional(Type.String()),
    limit: Type.Optional(Type.Integer({ minimum: 0 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
    totalItems: Type.Optional(Type.Union([Type.Literal('include'), Type.Literal('exclude')])),
    fullTextFilterTerm: Type.Optional(Type.String()),
    fullTextFilterFields: Type.Optional(StringList),
  });
  app.get<{ Querystring: Static<typeof ByQueryGet> }>(
    '/entities/by-query',
    { config: { permission: READ }, schema: { tags, summary: 'Query entities with cursor paging', querystring: ByQueryGet, response: { 200: Page } } },
    async (req, reply) => {
      const q = req.query;
      const scope = readScope(req);
      if (q.cursor !== undefined) {
        return reply.type(JSON_TYPE).send(jsonPage(await catalog.queryEntities({ cursor: decodeCursor(q.cursor), limit: limitOf(q.limit), fields: parseFields(q.fields), scope })));
      }
      const page = await catalog.queryEntities({
        scope,
        predicate: filtersToPredicate(q.filter ?? []),
        orderFields: parseOrderFields(q.orderField),
        fullTextFilter: q.fullTextFilterTerm ? { term: q.fullTextFilterTerm, fields: parseFields(q.fullTextFilterFields) } : undefined,
        limit: limitOf(q.limit),
        offset: q.offset,
        fields: parseFields(q.fields),
        totalItems: q.totalItems,
      });
      return reply.type(JSON_TYPE).send(jsonPage(page));
    },
  );

  const ByQueryBody = Type.Object({
    cursor: Type.Optional(Type.String()),
    query: Type.Optional(Type.Any()),
    limit: Type.Optional(Type.Integer({ minimum: 0 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
    orderBy: Type.Optional(Type.Array(Type.Object({ field: Type.String(), order: Type.Union([Type.Literal('asc'), Type.Literal('desc')]) }))),
    fullTextFilter: Type.Optional(Type.Object({ term: Type.String(), fields: Type.Optional(StringList) })),
    fields: Type.Optional(StringList),
    totalItems: Type.Optional(Type.Union([Type.Literal('include'), Type.Literal('exclude')])),
  });
  app.post<{ Body: Static<typeof ByQueryBody> }>(
    '/entities/by-query',
    { config: { permission: READ }, schema: { tags, summary: 'Query entities with a predicate', body: ByQueryBody, response: { 200: Page } } },
    async (req, reply) => {
      const b = req.body ?? {};
      const scope = readScope(req);
      if (b.cursor !== undefined) {
        if (b.cursor === '') throw badInput('INVALID_CURSOR', 'Cursor cannot be empty');
        return reply.type(JSON_TYPE).send(jsonPage(await catalog.queryEntities({ cursor: decodeCursor(b.cursor), limit: limitOf(b.limit), fields: parseFields(b.fields), scope })));
      }
      const page = await catalog.queryEntities({
        scope,
        predicate: checkPredicate(b.query),
        orderFields: b.orderBy,
        fullTextFilter: b.fullTextFilter,
        limit: limitOf(b.limit),
        offset: b.offset,
        fields: parseFields(b.fields),
        totalItems: b.totalItems,
      });
      return reply.type(JSON_TYPE).send(jsonPage(page));
    },
  );

  const ByRefsBody = Type.Object({ entityRefs: StringList, fields: Type.Optional(StringList), query: Type.Optional(Type.Any()) });
  app.post<{ Body: Static<typeof ByRefsBody>; Querystring: { filter?: string[]; fields?: string[] } }>(
    '/entities/by-refs',
    {
      config: { permission: READ },
      schema: {
        tags,
        summary: 'Fetch entities by ref, in order (null for a miss)',
        body: ByRefsBody,
        querystring: Type.Object({ filter: Type.Optional(StringList), fields: Type.Optional(StringList) }),
        response: { 200: Type.Object({ items: Type.Array(Type.Union([Entity, Type.Null()])) }) },
      },
    },
    async (req, reply) => {
      const fields = parseFields([...(req.body.fields ?? []), ...(req.query.fields ?? [])]);
      const predicate = andPredicates(checkPredicate(req.body.query), filtersToPredicate(req.query.filter ?? []), readScope(req));
      return reply.type(JSON_TYPE).send(`{"items":${jsonList(await catalog.byRefs(req.body.entityRefs, predicate, fields))}}`);
    },
  );

  app.get<{ Params: { uid: string } }>(
    '/entities/by-uid/:uid',
    { config: { permission: READ }, schema: { tags, summary: 'Fetch an entity by uid', params: Type.Object({ uid: Type.String() }), response: { 200: Entity } } },
    async (req) => readable(req, await catalog.byUid(req.params.uid), `with uid ${req.params.uid}`),
  );
  app.delete<{ Params: { uid: string } }>(
    '/entities/by-uid/:uid',
    { config: { permission: 'catalog.entity.delete' }, schema: { tags, summary: 'Remove an entity (its location may produce it again)', params: Type.Object({ uid: Type.String() }) } },
    async (req, reply) => {
      const entity = await catalog.byUid(req.params.uid).catch(() => undefined);
      // Nothing to remove answers as a removal did; the caller learns nothing about other entities.
      if (entity === undefined) {
        req.access.nothingToDecide('catalog.entity.delete');
        return reply.status(204).send();
      }
      req.audit.target = refOf(entity);
      req.access.authorize('catalog.entity.delete', entity);
      await catalog.deleteByUid(req.params.uid);
      return reply.status(204).send();
    },
  );
  app.get<{ Params: Static<typeof EntityPath> }>(
    '/entities/by-name/:kind/:namespace/:name',
    { config: { permission: READ }, schema: { tags, summary: 'Fetch an entity by kind, namespace and name', params: EntityPath, response: { 200: Entity } } },
    async (req) => {
      const { kind, namespace, name } = req.params;
      return readable(req, await catalog.byName(kind, namespace, name), `named ${kind}:${namespace}/${name}`.toLowerCase());
    },
  );
  app.get<{ Params: Static<typeof EntityPath> }>(
    '/entities/by-name/:kind/:namespace/:name/ancestry',
    {
      config: { permission: READ },
      schema: {
        tags,
        summary: 'The entity and the locations it came through',
        params: EntityPath,
        response: { 200: Type.Object({ rootEntityRef: Type.String(), items: Type.Array(Type.Object({ entity: Entity, parentEntityRefs: StringList })) }) },
      },
    },
    async (req) => {
      const { kind, namespace, name } = req.params;
      readable(req, await catalog.byName(kind, namespace, name), `named ${kind}:${namespace}/${name}`.toLowerCase());
      return catalog.ancestry(kind, namespace, name);
    },
  );

  const FacetsQuery = Type.Object({ facet: StringList, filter: Type.Optional(StringList) });
  app.get<{ Querystring: Static<typeof FacetsQuery> }>(
    '/entity-facets',
    { config: { permission: READ }, schema: { tags, summary: 'Count entities by the values of fields', querystring: FacetsQuery, response: { 200: Facets } } },
    async (req) => {
      if (!req.query.facet?.length) throw badInput('INVALID_REQUEST', 'Missing facet parameter');
      return { facets: await catalog.facets(req.query.facet, andPredicates(filtersToPredicate(req.query.filter ?? []), readScope(req))) };
    },
  );
  const FacetsBody = Type.Object({ facets: StringList, query: Type.Optional(Type.Any()) });
  app.post<{ Body: Static<typeof FacetsBody> }>(
    '/entity-facets',
    { config: { permission: READ }, schema: { tags, summary: 'Count entities by the values of fields, with a predicate', body: FacetsBody, response: { 200: Facets } } },
    async (req) => {
      if (!req.body.facets.length) throw badInput('INVALID_REQUEST', 'Missing facets: name at least one field');
      return { facets: await catalog.facets(req.body.facets, andPredicates(checkPredicate(req.body.query), readScope(req))) };
    },
  );

  const AddLocationQuery = Type.Object({
    dryRun: Type.Optional(Type.Union([Type.Boolean(), Type.String()])),
    onConflict: Type.Optional(Type.Union([Type.Literal('refresh'), Type.Literal('reject')])),
  });
  app.post<{ Body: Static<typeof LocationSpec>; Querystring: Static<typeof AddLocationQuery> }>(
    '/locations',
    {
      config: { permission: 'catalog.location.create' },
      schema: {
        tags,
        summary: 'Register a location (file path, glob or folder, or URL); dryRun previews its entities',
        body: LocationSpec,
        querystring: AddLocationQuery,
        response: { 201: Type.Object({ location: Location, entities: EntityList, exists: Type.Optional(Type.Boolean()) }) },
      },
    },
    async (req, reply) => {
      const dryRun = req.query.dryRun === true || /^(true|yes|1|y)$/i.test(String(req.query.dryRun ?? ''));
      req.audit.target = `${req.body.type}:${req.body.target}`;
      const result = await catalog.addLocation(req.body as any, { dryRun, onConflict: req.query.onConflict, createdBy: req.principal.ref });
      return reply.status(201).send(result);
    },
  );
  app.get(
    '/locations',
    {
      config: { permission: 'catalog.location.read' },
      schema: { tags, summary: 'List registered locations with their state and errors', response: { 200: Type.Array(Type.Object({ data: Location })) } },
    },
    async (req) =>
      (await catalog.listLocations()).filter((l) => req.access.allows('catalog.location.read', l)).map((l) => ({ data: catalog.publicLocation(l) })),
  );
  const LocationsQueryBody = Type.Object({ cursor: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1 })), query: Type.Optional(Type.Any()) });
  app.post<{ Body: Static<typeof LocationsQueryBody> }>(
    '/locations/by-query',
    {
      config: { permission: 'catalog.location.read' },
      schema: {
        tags,
        summary: 'Query locations with a predicate and cursor',
        body: LocationsQueryBody,
        response: { 200: Type.Object({ items: Type.Array(Location), totalItems: Type.Integer(), pageInfo: Type.Object({ nextCursor: Type.Optional(Type.String()) }) }) },
      },
    },
    async (req) => {
      const b = req.body ?? {};
      const visible = (l: Location) => req.access.allows('catalog.location.read', l);
      if (b.cursor !== undefined) {
        if (b.cursor === '') throw badInput('INVALID_CURSOR', 'Cursor cannot be empty');
        let c: { limit: number; afterId: string; query?: Predicate };
        try {
          c = JSON.parse(Buffer.from(b.cursor, 'base64').toString('utf8'));
        } catch {
          throw badInput('INVALID_CURSOR', 'Malformed cursor: pass back pageInfo.nextCursor unchanged');
        }
        return catalog.queryLocations(c.query, b.limit ?? c.limit, c.afterId, visible);
      }
      return catalog.queryLocations(checkPredicate(b.query), b.limit ?? 1000, undefined, visible);
    },
  );
  app.get<{ Params: { id: string } }>(
    '/locations/:id',
    {
      config: { permission: 'catalog.location.read' },
      schema: { tags, summary: 'One location with its state and errors', params: Type.Object({ id: Type.String() }), response: { 200: Location } },
    },
    async (req) => catalog.publicLocation(visibleLocation(req, await catalog.getLocation(req.params.id))),
  );
  app.put<{ Params: { id: string }; Body: Static<typeof LocationSpec> }>(
    '/locations/:id',
    {
      config: { permission: 'catalog.location.update' },
      schema: { tags, summary: 'Change where a location points', params: Type.Object({ id: Type.String() }), body: LocationSpec, response: { 200: Location } },
    },
    async (req) => {
      req.access.authorize('catalog.location.update', await catalog.getLocation(req.params.id));
      return catalog.publicLocation(await catalog.updateLocation(req.params.id, req.body as any));
    },
  );
  app.delete<{ Params: { id: string } }>(
    '/locations/:id',
    { config: { permission: 'catalog.location.delete' }, schema: { tags, summary: 'Unregister a location and remove its entities', params: Type.Object({ id: Type.String() }) } },
    async (req, reply) => {
      const location = await catalog.getLocation(req.params.id);
      req.audit.target = `${location.type}:${location.target}`;
      req.access.authorize('catalog.location.delete', location);
      await catalog.deleteLocation(req.params.id);
      return reply.status(204).send();
    },
  );
  app.post<{ Params: { id: string } }>(
    '/locations/:id/refresh',
    {
      config: { permission: 'catalog.location.refresh' },
      schema: { tags, summary: 'Re-read a location now (Pave extension)', params: Type.Object({ id: Type.String() }), response: { 202: Type.Object({ jobId: Type.Integer() }) } },
    },
    async (req, reply) => {
      req.access.authorize('catalog.location.refresh', await catalog.getLocation(req.params.id));
      return reply.status(202).send({ jobId: await catalog.refreshLocation(req.params.id) });
    },
  );
  app.get<{ Params: Static<typeof EntityPath> }>(
    '/locations/by-entity/:kind/:namespace/:name',
    {
      config: { permission: 'catalog.location.read' },
      schema: { tags, summary: 'The registered location an entity came from', params: EntityPath, response: { 200: Location } },
    },
    async (req) => catalog.publicLocation(visibleLocation(req, await catalog.locationByEntity(`${req.params.kind}:${req.params.namespace}/${req.params.name}`))),
  );

  app.post<{ Body: { entityRef: string } }>(
    '/refresh',
    {
      config: { permission: 'catalog.entity.refresh' },
      schema: { tags, summary: 'Re-read the location an entity came from', body: Type.Object({ entityRef: Type.String(), authorizationToken: Type.Optional(Type.String()) }, { additionalProperties: false }) },
    },
    async (req, reply) => {
      req.audit.target = req.body.entityRef;
      const entity = await catalog.byRef(req.body.entityRef);
      req.access.authorize('catalog.entity.refresh', entity);
      await catalog.refreshEntity(req.body.entityRef);
      return reply.status(200).send();
    },
  );

  app.post<{ Body: { entity: unknown; location: string } }>(
    '/validate-entity',
    { config: { permission: 'catalog.entity.validate' }, schema: { tags, summary: 'Validate an entity as processing would', body: Type.Object({ entity: Type.Any(), location: Type.String() }) } },
    async (req, reply) => {
      const errors = await catalog.validateEntity(req.body.entity, req.body.location);
      if (errors.length) return reply.status(400).send({ errors });
      return reply.status(200).send();
    },
  );

  const AnalyzeBody = Type.Object({
    location: Type.Object({ type: Type.Optional(Type.String()), target: Type.String(), presence: Type.Optional(Type.String()) }),
    catalogFilename: Type.Optional(Type.String()),
  });
  app.post<{ Body: Static<typeof AnalyzeBody> }>(
    '/analyze-location',
    { config: { permission: 'catalog.location.analyze' }, schema: { tags, summary: 'Find the entity files at a location, or suggest one', body: AnalyzeBody } },
    async (req) => {
      const { location } = req.body;
      const type = (location.type ?? 'url') as 'file' | 'url';
      try {
        const dry = await catalog.addLocation({ type, target: location.target }, { dryRun: true });
        const existing = await catalog.listLocations();
        const registered = existing.some((l) => l.type === dry.location.type && l.target === dry.location.target);
        return {
          existingEntityFiles: dry.entities
            .filter((e: any) => !e.metadata.name.startsWith('generated-'))
            .map((entity: unknown) => ({ location: { type, target: location.target }, isRegistered: registered, entity })),
          generateEntities: [],
        };
      } catch (e: any) {
        if (e?.code !== 'LOCATION_INVALID' && e?.code !== 'LOCATION_TARGET_INVALID') throw e;
        const name = (location.target.replace(/\/+$/, '').split('/').pop() ?? 'component').replace(/\.git$/, '').replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 63) || 'component';
        return {
          existingEntityFiles: [],
          generateEntities: [
            { entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name }, spec: { type: 'other', lifecycle: 'unknown' } }, fields: [] },
          ],
        };
      }
    },
  );
}

function checkPredicate(p: unknown): Predicate | undefined {
  if (p === undefined) return undefined;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) throw badInput('INVALID_QUERY', 'Query must be an object', { query: p });
  return p as Predicate;
}
