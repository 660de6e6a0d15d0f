import { useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import {
  Anchor,
  Badge,
  Button,
  Checkbox,
  Grid,
  Group,
  Loader,
  Paper,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue, useDocumentTitle } from '@mantine/hooks';
import {
  CATALOG_TYPE,
  DOCS_TYPE,
  resultContext,
  typeLabel,
  useSearch,
  type FacetName,
  type SearchParams,
  type SearchResult,
} from '../search.ts';
import { Highlighted, SearchIcon } from '../components/SearchDialog.tsx';
import { ErrorAlert } from '../components/ErrorAlert.tsx';

const PAGE_SIZE = 25;
const FACET_VALUES_SHOWN = 12;

/** The type filter: URL value → search types. */
const TYPES: Record<string, { label: string; types: string[] }> = {
  all: { label: 'All', types: [] },
  catalog: { label: 'Catalog', types: [CATALOG_TYPE] },
  docs: { label: 'Docs', types: [DOCS_TYPE] },
};

const FACETS: Array<{ name: FacetName; label: string }> = [
  { name: 'kind', label: 'Kind' },
  { name: 'owner', label: 'Owner' },
];

const shortOwner = (owner: string) => owner.replace(/^group:(default\/)?/, '');

function FacetGroup(props: {
  name: FacetName;
  label: string;
  counts: Array<{ value: string; count: number }>;
  selected: string[];
  onChange: (values: string[]) => void;
}) {
  const [all, setAll] = useState(false);
  const { name, label, counts, selected } = props;
  // Selected values stay listed (and tickable) when the current answer has none of them.
  const values = [...counts];
  for (const v of selected) if (!values.some((c) => c.value.toLowerCase() === v.toLowerCase())) values.push({ value: v, count: 0 });
  const visible = all ? values : values.filter((v, i) => i < FACET_VALUES_SHOWN || selected.includes(v.value));
  return (
    <Checkbox.Group label={label} value={selected} onChange={props.onChange} data-testid={`facet-${name}`}>
      <Stack gap={6} mt={6}>
        {visible.map((v) => (
          <Checkbox
            key={v.value}
            value={v.value}
            size="xs"
            title={v.value}
            label={`${name === 'owner' ? shortOwner(v.value) : v.value} (${v.count})`}
          />
        ))}
        {values.length === 0 && (
          <Text size="xs" c="dimmed">
            No values
          </Text>
        )}
        {values.length > visible.length && (
          <Anchor component="button" type="button" size="xs" onClick={() => setAll(true)} style={{ alignSelf: 'flex-start' }}>
            Show all {values.length}
          </Anchor>
        )}
      </Stack>
    </Checkbox.Group>
  );
}

function ResultItem({ result }: { result: SearchResult }) {
  const d = result.document;
  return (
    <li data-testid="search-result" data-type={result.type} data-location={d.location} className="pave-search-page-item">
      <Group gap={8} wrap="nowrap" align="flex-start" justify="space-between">
        <Anchor component={Link} to={d.location} fw={600} style={{ overflowWrap: 'anywhere' }}>
          <Highlighted result={result} field="title" />
        </Anchor>
        <Group gap={4} wrap="nowrap" style={{ flexShrink: 0 }}>
          <Badge size="sm" variant="light" color={result.type === DOCS_TYPE ? 'teal' : 'indigo'}>
            {typeLabel(result.type)}
          </Badge>
          {d.kind && result.type === CATALOG_TYPE && (
            <Badge size="sm" variant="outline" color="gray" style={{ textTransform: 'none' }}>
              {d.kind}
            </Badge>
          )}
        </Group>
      </Group>
      <Text size="xs" c="dimmed">
        {resultContext(result)}
      </Text>
      {(result.highlight?.fields.text || d.text) && (
        <Text size="sm" mt={4} lineClamp={3}>
          <Highlighted result={result} field="text" max={300} />
        </Text>
      )}
    </li>
  );
}

export default function SearchPage() {
  useDocumentTitle('Search · Pave');
  const [params, setParams] = useSearchParams();
  const urlTerm = params.get('term') ?? '';
  const typeKey = TYPES[params.get('type') ?? ''] ? params.get('type')! : 'all';
  const cursor = params.get('cursor') ?? undefined;
  const selected = useMemo(
    () => Object.fromEntries(FACETS.map((f) => [f.name, params.getAll(f.name).filter(Boolean)])) as Record<FacetName, string[]>,
    [params],
  );

  // The box is debounced before it becomes the URL's term.
  const [term, setTerm] = useState(urlTerm);
  const [debouncedTerm] = useDebouncedValue(term, 300);
  useEffect(() => {
    setTerm((t) => (t.trim() === urlTerm.trim() ? t : urlTerm));
  }, [urlTerm]);
  useEffect(() => {
    if (debouncedTerm.trim() === urlTerm.trim()) return;
    update((next) => {
      if (debouncedTerm.trim()) next.set('term', debouncedTerm.trim());
      else next.delete('term');
    }, true);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debouncedTerm]);

  /** Changes the URL; any change but paging goes back to the first page. */
  function update(change: (next: URLSearchParams) => void, replace = false, keepCursor = false) {
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (!keepCursor) next.delete('cursor');
        change(next);
        return next;
      },
      { replace },
    );
  }

  const filters = Object.fromEntries(FACETS.filter((f) => selected[f.name].length).map((f) => [f.name, selected[f.name]]));
  const base: SearchParams = { term: urlTerm, types: TYPES[typeKey]!.types, filters, pageLimit: PAGE_SIZE, pageCursor: cursor, facets: true };
  const search = useSearch(base);
  // A facet with a selection is counted without its own condition, so its other values stay selectable.
  const without = (name: FacetName): SearchParams => ({ ...base, filters: { ...filters, [name]: [] }, pageCursor: undefined, pageLimit: 1 });
  const kindCounts = useSearch(without('kind'), selected.kind.length > 0);
  const ownerCounts = useSearch(without('owner'), selected.owner.length > 0);
  const countsOf = (name: FacetName) =>
    ((name === 'kind' ? (selected.kind.length ? kindCounts : search) : selected.owner.length ? ownerCounts : search).data?.facets?.[name]) ?? [];

  const data = urlTerm.trim() ? search.data : undefined;
  const total = data?.numberOfResults ?? data?.results.length ?? 0;
  const firstRank = data?.results[0]?.rank ?? 1;
  const page = Math.floor((firstRank - 1) / PAGE_SIZE) + 1;

  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Search</Title>
        <Text c="dimmed" size="sm">
          The catalog and every documentation site, in one list.
        </Text>
      </div>

      <Paper withBorder p="md" component="section" aria-label="Search">
        <Stack gap="sm">
          <TextInput
            label="Search term"
            placeholder="payments, retries, team-a…"
            type="search"
            value={term}
            onChange={(e) => setTerm(e.currentTarget.value)}
            leftSection={<SearchIcon />}
            rightSection={search.isFetching ? <Loader size="xs" aria-label="Searching" /> : null}
            data-testid="search-page-input"
            autoFocus={!urlTerm}
          />
          <Group gap="sm">
            <Text size="sm" fw={500} id="search-type-label">
              Show
            </Text>
            <SegmentedControl
              aria-labelledby="search-type-label"
              data-testid="search-type"
              value={typeKey}
              onChange={(v) =>
                update((next) => {
                  if (v === 'all') next.delete('type');
                  else next.set('type', v);
                })
              }
              data={Object.entries(TYPES).map(([value, t]) => ({ value, label: t.label }))}
            />
          </Group>
        </Stack>
      </Paper>

      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 3 }}>
          <Paper withBorder p="md" component="section" aria-label="Filters">
            <Stack gap="md">
              {FACETS.map((f) => (
                <FacetGroup
                  key={f.name}
                  name={f.name}
                  label={f.label}
                  counts={countsOf(f.name)}
                  selected={selected[f.name]}
                  onChange={(values) =>
                    update((next) => {
                      next.delete(f.name);
                      for (const v of values) next.append(f.name, v);
                    })
                  }
                />
              ))}
              {(selected.kind.length > 0 || selected.owner.length > 0) && (
                <Button size="xs" variant="subtle" onClick={() => update((next) => FACETS.forEach((f) => next.delete(f.name)))}>
                  Clear filters
                </Button>
              )}
            </Stack>
          </Paper>
        </Grid.Col>

        <Grid.Col span={{ base: 12, md: 9 }}>
          <Paper withBorder p="md" component="section" aria-labelledby="search-results-heading">
            <Group justify="space-between" mb="sm">
              <Title order={3} size="h4" id="search-results-heading">
                {urlTerm.trim() ? (
                  <>
                    <span data-testid="search-total">{data ? total.toLocaleString('en-US') : '…'}</span> result{total === 1 ? '' : 's'}
                  </>
                ) : (
                  'Results'
                )}
              </Title>
              {data && total > 0 && (
                <Text size="sm" c="dimmed" aria-live="polite">
                  Showing {firstRank.toLocaleString('en-US')}–{(firstRank + data.results.length - 1).toLocaleString('en-US')}
                </Text>
              )}
            </Group>

            {search.error ? (
              <ErrorAlert error={search.error} title="Search failed" />
            ) : !urlTerm.trim() ? (
              <Text c="dimmed" size="sm">
                Type a term to search.
              </Text>
            ) : data && data.results.length === 0 ? (
              <Text c="dimmed" size="sm" role="status">
                Nothing matches “{urlTerm}”{Object.keys(filters).length || typeKey !== 'all' ? ' with these filters' : ''}.
              </Text>
            ) : !data ? (
              <Group justify="center" py="lg">
                <Loader aria-label="Searching" />
              </Group>
            ) : (
              <Stack
                component="ol"
                gap={0}
                className="pave-search-page-list"
                aria-busy={search.isFetching}
                style={{ opacity: search.isPlaceholderData ? 0.6 : 1 }}
              >
                {data.results.map((r) => (
                  <ResultItem key={`${r.type}:${r.document.location}`} result={r} />
                ))}
              </Stack>
            )}

            <Group justify="flex-end" mt="md" gap="sm" component="nav" aria-label="Pagination">
              <Button
                variant="default"
                disabled={!data?.previousPageCursor || search.isPlaceholderData}
                onClick={() => update((next) => next.set('cursor', data!.previousPageCursor!), false, true)}
              >
                ← Previous page
              </Button>
              <Text size="sm" c="dimmed">
                Page {page}
                {total > 0 ? ` of ${Math.max(1, Math.ceil(total / PAGE_SIZE)).toLocaleString('en-US')}` : ''}
              </Text>
              <Button
                variant="default"
                disabled={!data?.nextPageCursor || search.isPlaceholderData}
                onClick={() => update((next) => next.set('cursor', data!.nextPageCursor!), false, true)}
              >
                Next page →
              </Button>
            </Group>
          </Paper>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
