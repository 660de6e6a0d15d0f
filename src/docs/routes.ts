import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Catalog } from '../catalog/index.ts';
import { predicateToSql, type Predicate } from '../catalog/predicates.ts';
import { ownerJoin } from '../catalog/sql.ts';
import { notFound } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import '../identity/access.ts';
import type { DocsBuilder } from './builder.ts';

const READ = 'catalog.entity.read';
const tags = ['docs'];
const EntityParams = Type.Object({ namespace: Type.String(), kind: Type.String(), name: Type.String() });
type EntityParams = { namespace: string; kind: string; name: string };
// Files in a docs folder are the authors' own: an SVG or HTML file is shown, never run in Pave's origin.
const ASSET_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

/** Docs of catalog entities: `GET /api/docs`, a site, its pages and files, and a rebuild. */
export async function docsRoutes(app: FastifyInstance, deps: { store: Store; catalog: Catalog; builder: DocsBuilder }): Promise<void> {
  const { store, catalog, builder } = deps;

  /** The entity the docs belong to, if the caller may read it (else it does not exist for them). */
  async function entityOf(req: FastifyRequest<{ Params: EntityParams }>): Promise<{ key: string; entity: any }> {
    const { namespace, kind, name } = req.params;
    const entity = await catalog.byName(kind, namespace, name);
    if (!req.access.allows(READ, entity)) throw notFound('ENTITY_NOT_FOUND', `No entity named ${kind}:${namespace}/${name}`.toLowerCase(), {});
    return { key: `${kind}:${namespace}/${name}`.toLowerCase(), entity };
  }

  app.get(
    '/',
    { config: { permission: READ }, schema: { tags, summary: 'Every documented entity the caller may read, with the state of its docs' } },
    async (req) => {
      const params: unknown[] = [];
      const scope = req.access.filter<Predicate>(READ);
      const where = scope ? predicateToSql(scope, params) : 'true';
      const rows = await store.query<any>(
        `select e.ref_key, e.kind, e.namespace, e.name, e.final->'metadata'->>'title' as title, e.final->'metadata'->>'description' as description,
           o.owner, s.site_name, s.status, s.built_at, s.error, (select count(*)::int from docs_pages p where p.entity_key = s.entity_key) as pages
         from docs_sites s join catalog_entities e on e.ref_key = s.entity_key
         ${ownerJoin('e', 'o')}
         where ${where}
         order by coalesce(s.site_name, e.name)`,
        params,
      );
      return {
        items: rows.map((r) => ({
          entityRef: r.ref_key,
          kind: r.kind,
          namespace: r.namespace,
          name: r.name,
          title: r.title ?? undefined,
          description: r.description ?? undefined,
          owner: r.owner ?? undefined,
          siteName: r.site_name ?? r.name,
          status: r.status,
          builtAt: r.built_at ?? undefined,
          pages: r.pages,
          error: r.error ?? undefined,
        })),
      };
    },
  );

  app.get<{ Params: EntityParams }>(
    '/:namespace/:kind/:name',
    { config: { permission: READ }, schema: { tags, summary: "A site: name, nav, pages, and how its latest build went", params: EntityParams } },
    async (req) => {
      const { key } = await entityOf(req);
      const [site] = await store.query<any>('select * from docs_sites where entity_key = $1', [key]);
      if (!site) throw notFound('DOCS_NOT_FOUND', `${key} has no docs: add the annotation backstage.io/techdocs-ref (e.g. dir:.) and an mkdocs.yml beside a docs/ folder`, { entityRef: key });
      const pages = await store.query<{ path: string; slug: string; title: string }>('select path, slug, title from docs_pages where entity_key = $1 order by position', [key]);
      return {
        entityRef: key,
        siteName: site.site_name ?? req.params.name,
        siteDescription: site.site_description ?? undefined,
        source: site.source,
        nav: site.nav,
        pages,
        status: site.status,
        builtAt: site.built_at ?? undefined,
        buildMs: site.build_ms ?? undefined,
        lastAttemptAt: site.last_attempt_at ?? undefined,
        error: site.error ?? undefined,
        problems: site.problems,
      };
    },
  );

  app.get<{ Params: EntityParams & { '*': string } }>(
    '/:namespace/:kind/:name/pages/*',
    {
      config: { permission: READ },
      schema: { tags, summary: 'One rendered page (its address inside the site: "" for the home page, "guides/setup" for guides/setup.md), with its table of contents and neighbours', params: Type.Object({ namespace: Type.String(), kind: Type.String(), name: Type.String(), '*': Type.String() }) },
    },
    async (req) => {
      const { key } = await entityOf(req);
      const slug = req.params['*'].replace(/^\/+|\/+$/g, '').replace(/\.md$/i, '');
      const [page] = await store.query<any>('select path, slug, position, title, html, toc, edit_url from docs_pages where entity_key = $1 and slug = $2', [key, slug]);
      if (!page) throw notFound('DOCS_PAGE_NOT_FOUND', `${key} has no docs page "${slug || '(home)'}"`, { entityRef: key, page: slug });
      const near = await store.query<{ slug: string; title: string; position: number }>(
        'select slug, title, position from docs_pages where entity_key = $1 and position in ($2, $3)',
        [key, page.position - 1, page.position + 1],
      );
      const neighbour = (position: number) => {
        const n = near.find((x) => x.position === position);
        return n ? { slug: n.slug, title: n.title } : undefined;
      };
      return { path: page.path, slug: page.slug, title: page.title, html: page.html, toc: page.toc, editUrl: page.edit_url ?? undefined, previous: neighbour(page.position - 1), next: neighbour(page.position + 1) };
    },
  );

  app.get<{ Params: EntityParams & { '*': string } }>(
    '/:namespace/:kind/:name/assets/*',
    {
      config: { permission: READ },
      schema: { tags, summary: 'A file of the docs folder (an image)', params: Type.Object({ namespace: Type.String(), kind: Type.String(), name: Type.String(), '*': Type.String() }) },
    },
    async (req, reply) => {
      const { key } = await entityOf(req);
      const file = req.params['*'];
      const [asset] = await store.query<{ content_type: string; bytes: Buffer }>('select content_type, bytes from docs_assets where entity_key = $1 and path = $2', [key, file]);
      if (!asset) throw notFound('DOCS_ASSET_NOT_FOUND', `${key} has no docs file "${file}"`, { entityRef: key, path: file });
      return reply.header('content-security-policy', ASSET_CSP).header('cache-control', 'private, max-age=60').type(asset.content_type).send(asset.bytes);
    },
  );

  app.post<{ Params: EntityParams }>(
    '/:namespace/:kind/:name/build',
    { config: { permission: 'catalog.entity.refresh' }, schema: { tags, summary: 'Rebuild the docs now (as a job); the current build stays served meanwhile', params: EntityParams } },
    async (req, reply) => {
      const { key, entity } = await entityOf(req);
      req.audit.target = key;
      req.access.authorize('catalog.entity.refresh', entity);
      const jobId = await builder.enqueue(key);
      return reply.status(202).send({ jobId });
    },
  );
}
