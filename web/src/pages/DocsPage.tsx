import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router-dom';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Anchor, Breadcrumbs, Button, Code, Group, Loader, NavLink, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue, useDocumentTitle } from '@mantine/hooks';
import { ApiError } from '../api.ts';
import {
  docsPath,
  normalizeSlug,
  parseDocsPath,
  problemPosition,
  rebuildDocs,
  useDocsPage,
  useDocsSite,
  type DocsEntity,
  type DocsProblem,
  type DocsSite,
  type NavNode,
  type TocEntry,
} from '../docs.ts';
import { DOCS_TYPE, useSearch } from '../search.ts';
import { useCan, useSession } from '../session.ts';
import { humanizeRef, refPath } from '../refs.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { Highlighted, SearchIcon } from '../components/SearchDialog.tsx';
import { DocsStatusBadge } from './DocsHomePage.tsx';
import { formatDate } from '../format.ts';

/** How long after asking for a rebuild the site is polled for its outcome. */
const REBUILD_WATCH_MS = 60_000;

export interface DocsReaderProps {
  entity: DocsEntity;
  /** The page shown: `""` for the home page, `guides/setup` for `guides/setup.md`. */
  slug: string;
  /** Where a page of this site is shown (the entity page's Docs tab uses its own URLs); `/docs/...` by default. */
  pageHref?: (slug: string) => string;
  /** Inside the entity page: no breadcrumbs or page title of its own. */
  embedded?: boolean;
}

const sameEntity = (a: DocsEntity, b: DocsEntity) =>
  a.namespace.toLowerCase() === b.namespace.toLowerCase() && a.kind.toLowerCase() === b.kind.toLowerCase() && a.name.toLowerCase() === b.name.toLowerCase();

/** The element of a heading id, looked for in the docs first (their ids are the authors'). */
function headingElement(container: HTMLElement | null, id: string): HTMLElement | null {
  if (!id) return null;
  return (container?.querySelector<HTMLElement>(`[id="${CSS.escape(id)}"]`) ?? document.getElementById(id)) || null;
}

function decodeHash(hash: string): string {
  try {
    return decodeURIComponent(hash.replace(/^#/, ''));
  } catch {
    return hash.replace(/^#/, '');
  }
}

type MermaidApi = typeof import('mermaid').default;
let mermaidReady: Promise<MermaidApi> | undefined;

/** Mermaid is big: it is loaded the first time a page has a diagram. */
function loadMermaid(): Promise<MermaidApi> {
  mermaidReady ??= import('mermaid').then(({ default: mermaid }) => {
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'default', fontFamily: 'inherit' });
    return mermaid;
  });
  return mermaidReady;
}

function NavTree(props: { nodes: NavNode[]; slugOf: (path: string) => string | undefined; current: string; hrefFor: (slug: string) => string }) {
  const { nodes, slugOf, current, hrefFor } = props;
  return (
    <>
      {nodes.map((n, i) => {
        if (n.children?.length) {
          return (
            <NavLink key={`${n.title}-${i}`} label={n.title} defaultOpened childrenOffset={12} className="pave-docs-nav-section">
              <NavTree {...props} nodes={n.children} />
            </NavLink>
          );
        }
        if (n.url) {
          return (
            <NavLink
              key={`${n.url}-${i}`}
              component="a"
              href={n.url}
              target="_blank"
              rel="noreferrer"
              label={`${n.title} ↗`}
              className="pave-docs-nav-link"
            />
          );
        }
        const slug = n.path !== undefined ? slugOf(n.path) : undefined;
        if (slug === undefined) {
          return <NavLink key={`${n.title}-${i}`} label={n.title} disabled description="Missing page" className="pave-docs-nav-link" />;
        }
        const active = slug === current;
        return (
          <NavLink
            key={`${n.path}-${i}`}
            component={Link}
            to={hrefFor(slug)}
            label={n.title}
            active={active}
            aria-current={active ? 'page' : undefined}
            data-active-page={active ? 'true' : undefined}
            variant="light"
            className="pave-docs-nav-link"
          />
        );
      })}
    </>
  );
}

function Toc({ toc, onGo }: { toc: TocEntry[]; onGo: (id: string) => void }) {
  const minLevel = Math.min(...toc.map((t) => t.level));
  return (
    <nav aria-labelledby="docs-toc-heading" data-testid="docs-toc" className="pave-docs-toc">
      <Text id="docs-toc-heading" size="xs" fw={700} tt="uppercase" c="dimmed" mb={6}>
        On this page
      </Text>
      <ul>
        {toc.map((t) => (
          <li key={t.id} style={{ paddingLeft: (t.level - minLevel) * 12 }}>
            <a
              href={`#${encodeURIComponent(t.id)}`}
              onClick={(e) => {
                e.preventDefault();
                onGo(t.id);
              }}
            >
              {t.text}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function BuildError({ site }: { site: DocsSite }) {
  const error = site.error;
  const where = error ? problemPosition(error) : undefined;
  return (
    <Alert color="red" variant="light" title="The latest build of these docs failed" role="alert" data-testid="docs-build-error">
      <Stack gap={4}>
        {error?.code && (
          <Text size="sm">
            <Code>{error.code}</Code>
          </Text>
        )}
        {where && (
          <Text size="sm" ff="monospace" data-testid="docs-build-error-position">
            {where}
          </Text>
        )}
        <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
          {error?.message ?? 'The build failed without saying why.'}
        </Text>
        {site.pages.length > 0 && (
          <Text size="xs" c="dimmed">
            Showing the last good build{site.builtAt ? ` from ${formatDate(site.builtAt)}` : ''}.
          </Text>
        )}
      </Stack>
    </Alert>
  );
}

function Problems({ problems }: { problems: DocsProblem[] }) {
  return (
    <details className="pave-docs-problems" data-testid="docs-problems">
      <summary>
        {problems.length} warning{problems.length === 1 ? '' : 's'} in these docs (broken links, missing pages)
      </summary>
      <ul>
        {problems.map((p, i) => (
          <li key={i}>
            <Code mr={6}>{p.code}</Code>
            {problemPosition(p) && (
              <Text span ff="monospace" size="sm" mr={6}>
                {problemPosition(p)}
              </Text>
            )}
            <Text span size="sm">
              {p.message}
            </Text>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** "Search in these docs": Pave's search for docs pages, kept to this site's. */
function SiteSearch({ entity, entityRef, openLocation }: { entity: DocsEntity; entityRef: string; openLocation: (location: string) => void }) {
  const [term, setTerm] = useState('');
  const [debounced] = useDebouncedValue(term.trim(), 200);
  const search = useSearch({
    term: debounced,
    types: [DOCS_TYPE],
    filters: { kind: [entity.kind], namespace: [entity.namespace] },
    pageLimit: 50,
  });
  const results = debounced
    ? (search.data?.results ?? []).filter((r) => r.document.entityRef?.toLowerCase() === entityRef.toLowerCase())
    : [];
  const open = (location: string) => {
    setTerm('');
    openLocation(location);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' && results[0]) {
      e.preventDefault();
      open(results[0].document.location);
    } else if (e.key === 'Escape') {
      setTerm('');
    }
  };
  return (
    <div className="pave-docs-search">
      <TextInput
        data-testid="docs-search"
        aria-label="Search in these docs"
        placeholder="Search in these docs"
        size="xs"
        type="search"
        value={term}
        onChange={(e) => setTerm(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        leftSection={<SearchIcon size={14} />}
        rightSection={search.isFetching ? <Loader size={12} aria-label="Searching" /> : null}
      />
      {debounced && search.data && (
        <Paper withBorder shadow="sm" p={4} mt={4} className="pave-docs-search-results" role="region" aria-label="Results in these docs">
          {results.length === 0 ? (
            <Text size="xs" c="dimmed" p={6} role="status">
              Nothing in these docs matches “{debounced}”.
            </Text>
          ) : (
            <ul>
              {results.map((r) => (
                <li key={r.document.location}>
                  <a
                    href={r.document.location}
                    data-testid="docs-search-result"
                    data-location={r.document.location}
                    onClick={(e) => {
                      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
                      e.preventDefault();
                      open(r.document.location);
                    }}
                  >
                    <Text size="sm" fw={600} component="span" display="block">
                      <Highlighted result={r} field="title" />
                    </Text>
                    <Text size="xs" c="dimmed" component="span" display="block" lineClamp={2}>
                      <Highlighted result={r} field="text" max={140} />
                    </Text>
                  </a>
                </li>
              ))}
            </ul>
          )}
        </Paper>
      )}
    </div>
  );
}

/**
 * A docs site: its navigation, the page (rendered by Pave, sanitized), the page's table of
 * contents, neighbours, the state of the latest build, and a rebuild for those allowed.
 */
export function DocsReader({ entity: given, slug, pageHref, embedded = false }: DocsReaderProps) {
  // The same entity, whichever object names it: hooks below depend on it.
  const entity = useMemo(() => given, [given.namespace, given.kind, given.name]); // eslint-disable-line react-hooks/exhaustive-deps
  const navigate = useNavigate();
  const location = useLocation();
  const queryClient = useQueryClient();
  const [watchUntil, setWatchUntil] = useState(0);
  const site = useDocsSite(entity, watchUntil);
  const page = useDocsPage(entity, slug);
  const contentRef = useRef<HTMLDivElement>(null);
  const rootRef = useRef<HTMLDivElement>(null);
  const hrefFor = useCallback((s: string) => (pageHref ? pageHref(s) : docsPath(entity, s)), [pageHref, entity]);
  const entityRef = site.data?.entityRef ?? `${entity.kind}:${entity.namespace}/${entity.name}`.toLowerCase();
  const canRebuild = useCan('catalog.entity.refresh', entityRef);
  const searchDecision = useSession().data?.permissions['search.query'];
  const canSearch = searchDecision === 'ALLOW' || searchDecision === 'CONDITIONAL';

  const rebuild = useMutation({
    mutationFn: () => rebuildDocs(entity),
    onSuccess: () => setWatchUntil(Date.now() + REBUILD_WATCH_MS),
  });

  // A new build: the pages may have changed.
  const builtAt = site.data?.builtAt;
  const seenBuild = useRef<string | null | undefined>(undefined);
  useEffect(() => {
    if (!site.data) return;
    const was = seenBuild.current;
    seenBuild.current = builtAt ?? null;
    if (was !== undefined && was !== seenBuild.current) {
      setWatchUntil(0);
      void queryClient.invalidateQueries({ queryKey: ['docs-page', entity.namespace, entity.kind.toLowerCase(), entity.name] });
    }
  }, [site.data, builtAt, queryClient, entity]);

  /** Where a portal docs URL goes: pages of this site stay in this reader (tab or not). */
  const internalHref = useCallback(
    (target: string): string => {
      const url = new URL(target, window.location.origin);
      const docs = parseDocsPath(url.pathname);
      if (!docs) return url.pathname + url.search + url.hash;
      return (sameEntity(docs, entity) ? hrefFor(docs.slug) : docsPath(docs, docs.slug)) + url.hash;
    },
    [entity, hrefFor],
  );

  const goToHeading = useCallback(
    (id: string) => {
      headingElement(contentRef.current, id)?.scrollIntoView({ block: 'start' });
      navigate({ pathname: location.pathname, search: location.search, hash: `#${encodeURIComponent(id)}` }, { replace: true });
    },
    [navigate, location.pathname, location.search],
  );

  // Links inside the page: portal pages (other docs pages above all) open without a reload, anchors scroll.
  const onContentClick = (e: MouseEvent<HTMLDivElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const anchor = (e.target as Element).closest('a');
    if (!anchor || !e.currentTarget.contains(anchor)) return;
    const raw = anchor.getAttribute('href');
    if (!raw || (anchor.target && anchor.target !== '_self')) return;
    if (raw.startsWith('#')) {
      e.preventDefault();
      goToHeading(decodeHash(raw));
      return;
    }
    const url = new URL(anchor.href);
    // Files of the site (/api/docs/.../assets/...) and other sites open as the browser does.
    if (url.origin !== window.location.origin || url.pathname.startsWith('/api/')) return;
    e.preventDefault();
    navigate(internalHref(url.href));
  };

  // The page's diagrams are drawn in the browser, after every render: the content may be mounted
  // again (a tab shown, a refetch) with the same HTML, and its diagrams must be drawn again then.
  useEffect(() => {
    const nodes = [...(contentRef.current?.querySelectorAll<HTMLElement>('pre.mermaid:not([data-processed]):not([data-drawing])') ?? [])];
    if (nodes.length === 0) return;
    for (const node of nodes) node.setAttribute('data-drawing', '');
    loadMermaid()
      .then((mermaid) => mermaid.run({ nodes, suppressErrors: true }))
      .catch((e: unknown) => console.error('Could not draw the Mermaid diagrams', e));
  });

  // A new page starts at its top, or at the heading its URL names.
  const shownPage = page.data ? `${page.data.slug}` : undefined;
  const firstPage = useRef(true);
  useEffect(() => {
    if (shownPage === undefined) return;
    const id = decodeHash(location.hash);
    const heading = headingElement(contentRef.current, id);
    if (heading) heading.scrollIntoView({ block: 'start' });
    else if (!firstPage.current) {
      if (embedded) rootRef.current?.scrollIntoView({ block: 'start' });
      else window.scrollTo({ top: 0 });
    }
    firstPage.current = false;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shownPage, location.hash]);

  const slugOf = useMemo(() => {
    const bySlug = new Map((site.data?.pages ?? []).map((p) => [p.path, p.slug]));
    return (path: string) => bySlug.get(path);
  }, [site.data]);
  const nav = useMemo<NavNode[]>(() => {
    const s = site.data;
    if (!s) return [];
    return s.nav.length ? s.nav : s.pages.map((p) => ({ title: p.title, path: p.path }));
  }, [site.data]);

  useDocumentTitle(embedded ? '' : `${page.data?.title ? `${page.data.title} · ` : ''}${site.data?.siteName ?? entity.name} · Docs · Pave`);

  if (site.isLoading) {
    return (
      <Group justify="center" py="xl">
        <Loader aria-label="Loading the docs" />
      </Group>
    );
  }
  if (site.error) {
    const code = site.error instanceof ApiError ? site.error.code : undefined;
    if (code === 'DOCS_NOT_FOUND' || code === 'ENTITY_NOT_FOUND') {
      return (
        <Stack gap="md" data-testid="docs-not-found">
          <Title order={2}>{code === 'DOCS_NOT_FOUND' ? 'No docs here yet' : 'Entity not found'}</Title>
          <Text>{site.error.message}</Text>
          <Group gap="md">
            <Anchor component={Link} to="/docs">
              All docs
            </Anchor>
            {code === 'DOCS_NOT_FOUND' && (
              <Anchor component={Link} to={refPath(entityRef)}>
                {humanizeRef(entityRef)} in the catalog
              </Anchor>
            )}
          </Group>
        </Stack>
      );
    }
    return <ErrorAlert error={site.error} title="Could not load the docs" />;
  }
  const data = site.data!;
  const busy = data.status === 'pending' || data.status === 'building';

  const header = (
    <Stack gap="xs">
      {!embedded && (
        <Breadcrumbs aria-label="Breadcrumb" separator="›">
          <Anchor component={Link} to="/docs" size="sm">
            Docs
          </Anchor>
          <Text size="sm" aria-current="page">
            {data.siteName}
          </Text>
        </Breadcrumbs>
      )}
      <Group justify="space-between" align="flex-start" gap="sm">
        <div>
          <Title order={embedded ? 3 : 2} data-testid="docs-site-name">
            {data.siteName}
          </Title>
          {data.siteDescription && (
            <Text size="sm" c="dimmed">
              {data.siteDescription}
            </Text>
          )}
          <Group gap={8} mt={4}>
            <DocsStatusBadge status={data.status} />
            <Text size="xs" c="dimmed">
              {data.builtAt ? `Built ${formatDate(data.builtAt)}` : 'Not built yet'}
              {data.buildMs !== undefined ? ` in ${data.buildMs.toLocaleString('en-US')} ms` : ''}
            </Text>
          </Group>
        </div>
        <Group gap="sm">
          {embedded ? (
            <Anchor component={Link} to={docsPath(entity, slug) + location.hash} size="sm">
              Open full page
            </Anchor>
          ) : (
            <Anchor component={Link} to={refPath(data.entityRef)} size="sm">
              {humanizeRef(data.entityRef)} in the catalog
            </Anchor>
          )}
          {canRebuild.allowed && (
            <Button
              size="xs"
              variant="default"
              loading={rebuild.isPending}
              disabled={busy}
              onClick={() => rebuild.mutate()}
              data-testid="docs-rebuild"
            >
              Rebuild
            </Button>
          )}
        </Group>
      </Group>
      {rebuild.isSuccess && watchUntil > 0 && (
        <Text size="sm" c="teal.9" role="status" data-testid="docs-rebuild-queued">
          Rebuild queued: this page updates when it is done.
        </Text>
      )}
      {rebuild.error && <ErrorAlert error={rebuild.error} title="Could not rebuild the docs" />}
      {data.status === 'failed' && <BuildError site={data} />}
      {data.problems.length > 0 && <Problems problems={data.problems} />}
    </Stack>
  );

  if (data.pages.length === 0) {
    return (
      <Stack gap="md" ref={rootRef} className="pave-docs-reader">
        {header}
        {busy ? (
          <Group gap="sm" py="lg" role="status" data-testid="docs-building">
            <Loader size="sm" />
            <Text>Pave is building these docs…</Text>
          </Group>
        ) : data.status === 'ready' ? (
          <Text c="dimmed">This site has no pages.</Text>
        ) : null}
      </Stack>
    );
  }

  const pageMissing = page.error instanceof ApiError && page.error.code === 'DOCS_PAGE_NOT_FOUND';
  const current = page.data?.slug ?? slug;

  return (
    <Stack gap="md" ref={rootRef} className="pave-docs-reader">
      {header}
      <div className="pave-docs-layout">
        <aside className="pave-docs-sidebar">
          {canSearch && <SiteSearch entity={entity} entityRef={data.entityRef} openLocation={(loc) => navigate(internalHref(loc))} />}
          <nav aria-label={`${data.siteName} documentation`} data-testid="docs-nav" className="pave-docs-nav">
            <NavTree nodes={nav} slugOf={slugOf} current={current} hrefFor={hrefFor} />
          </nav>
        </aside>

        <article className="pave-docs-main" aria-busy={page.isFetching}>
          {pageMissing ? (
            <Stack gap="xs" data-testid="docs-page-not-found">
              <Title order={3}>Page not found</Title>
              <Text>{page.error!.message}</Text>
              <Anchor component={Link} to={hrefFor('')}>
                Go to the home page of {data.siteName}
              </Anchor>
            </Stack>
          ) : page.error ? (
            <ErrorAlert error={page.error} title="Could not load the page" />
          ) : !page.data ? (
            <Group justify="center" py="xl">
              <Loader aria-label="Loading the page" />
            </Group>
          ) : (
            <>
              {page.data.editUrl && (
                <Group justify="flex-end" mb={-8}>
                  <Anchor href={page.data.editUrl} target="_blank" rel="noreferrer" size="sm" data-testid="docs-edit">
                    Edit this page ↗
                  </Anchor>
                </Group>
              )}
              {!/^\s*<h1[\s>]/i.test(page.data.html) && (
                <Title order={1} size="h2" mb="sm">
                  {page.data.title}
                </Title>
              )}
              <div
                ref={contentRef}
                className="pave-docs-content"
                data-testid="docs-content"
                data-page={page.data.slug}
                onClick={onContentClick}
                dangerouslySetInnerHTML={{ __html: page.data.html }}
              />
              {(page.data.previous || page.data.next) && (
                <nav aria-label="Previous and next page" className="pave-docs-pager">
                  {page.data.previous ? (
                    <Link to={hrefFor(page.data.previous.slug)} data-testid="docs-previous" rel="prev" className="pave-docs-pager-link">
                      <Text size="xs" c="dimmed" component="span" display="block">
                        ← Previous
                      </Text>
                      <Text fw={600} component="span" display="block">
                        {page.data.previous.title}
                      </Text>
                    </Link>
                  ) : (
                    <span />
                  )}
                  {page.data.next && (
                    <Link to={hrefFor(page.data.next.slug)} data-testid="docs-next" rel="next" className="pave-docs-pager-link is-next">
                      <Text size="xs" c="dimmed" component="span" display="block">
                        Next →
                      </Text>
                      <Text fw={600} component="span" display="block">
                        {page.data.next.title}
                      </Text>
                    </Link>
                  )}
                </nav>
              )}
            </>
          )}
        </article>

        <aside className="pave-docs-toc-column">{page.data && page.data.toc.length > 0 && <Toc toc={page.data.toc} onGo={goToHeading} />}</aside>
      </div>
    </Stack>
  );
}

/** `/docs/:namespace/:kind/:name/*`: a site's page on its own. */
export default function DocsPage() {
  const { namespace = 'default', kind = '', name = '', '*': rest = '' } = useParams();
  const entity = useMemo(() => ({ namespace, kind: kind.toLowerCase(), name }), [namespace, kind, name]);
  return <DocsReader key={`${namespace}/${kind}/${name}`.toLowerCase()} entity={entity} slug={normalizeSlug(rest)} />;
}
