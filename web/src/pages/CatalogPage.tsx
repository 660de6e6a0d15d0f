import { useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { keepPreviousData, useQueries, useQuery } from '@tanstack/react-query';
import {
  Anchor,
  Badge,
  Button,
  Group,
  Loader,
  MultiSelect,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  UnstyledButton,
  VisuallyHidden,
} from '@mantine/core';
import { useDebouncedValue, useDocumentTitle } from '@mantine/hooks';
import {
  getEntityFacets,
  queryEntities,
  type Entity,
  type FacetCount,
  type FilterSet,
  type QueryEntitiesResponse,
} from '../api.ts';
import { entityPathOf, specString } from '../refs.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { RefLink } from '../components/RefLink.tsx';

const PAGE_SIZE = 50;

/** Facets shown as filters: URL parameter name → catalog field. */
const FACETS = [
  { param: 'kind', field: 'kind', label: 'Kind' },
  { param: 'type', field: 'spec.type', label: 'Type' },
  { param: 'owner', field: 'spec.owner', label: 'Owner' },
  { param: 'lifecycle', field: 'spec.lifecycle', label: 'Lifecycle' },
  { param: 'tag', field: 'metadata.tags', label: 'Tags' },
  { param: 'namespace', field: 'metadata.namespace', label: 'Namespace' },
] as const;

type FacetField = (typeof FACETS)[number]['field'];
type Selection = Partial<Record<FacetField, string[]>>;

const SORTABLE = {
  name: 'metadata.name',
  kind: 'kind',
  type: 'spec.type',
  owner: 'spec.owner',
  lifecycle: 'spec.lifecycle',
} as const;

/**
 * Builds the catalog filter: values of one facet are ORed, facets are ANDed.
 * The API ANDs the conditions inside one `filter` parameter (comma separated) and
 * ORs repeated `filter` parameters, so this expands to disjunctive normal form.
 */
export function buildFilters(selection: Selection, exclude?: FacetField): FilterSet {
  let result: FilterSet = [{}];
  for (const { field } of FACETS) {
    if (field === exclude) continue;
    const values = selection[field];
    if (!values || values.length === 0) continue;
    result = result.flatMap((conj) => values.map((v) => ({ ...conj, [field]: v })));
  }
  return result.filter((c) => Object.keys(c).length > 0);
}

function useFacets(selection: Selection) {
  // Facets without a selection share one request with the full filter; a facet with a
  // selection is counted without its own condition, so its other values stay selectable.
  const unselected = FACETS.filter((f) => !selection[f.field]?.length).map((f) => f.field);
  const selected = FACETS.filter((f) => selection[f.field]?.length).map((f) => f.field);
  const requests: Array<{ facets: FacetField[]; filters: FilterSet }> = [];
  if (unselected.length) requests.push({ facets: unselected, filters: buildFilters(selection) });
  for (const field of selected) requests.push({ facets: [field], filters: buildFilters(selection, field) });

  const results = useQueries({
    queries: requests.map((r) => ({
      queryKey: ['facets', r.facets, r.filters],
      queryFn: ({ signal }: { signal: AbortSignal }) => getEntityFacets(r.facets, r.filters, signal),
      placeholderData: keepPreviousData,
    })),
  });
  const facets: Partial<Record<FacetField, FacetCount[]>> = {};
  results.forEach((res, i) => {
    for (const f of requests[i]!.facets) facets[f] = res.data?.facets?.[f];
  });
  const error = results.find((r) => r.error)?.error;
  return { facets, error };
}

function readSelection(params: URLSearchParams): Selection {
  const sel: Selection = {};
  for (const f of FACETS) {
    const values = params.getAll(f.param).filter(Boolean);
    if (values.length) sel[f.field] = values;
  }
  return sel;
}

function OwnerLink({ entity }: { entity: Entity }) {
  const owner = specString(entity, 'owner');
  if (!owner) return null;
  return <RefLink value={owner} defaultKind="group" namespace={entity.metadata.namespace ?? 'default'} />;
}

function SortHeader(props: {
  column: keyof typeof SORTABLE;
  label: string;
  sort: string;
  onSort: (orderField: string) => void;
}) {
  const field = SORTABLE[props.column];
  const [currentField, currentDir] = props.sort.split(',');
  const width = { name: '16%', kind: '9%', type: '9%', owner: '11%', lifecycle: '10%' }[props.column];
  const active = currentField === field;
  const dir = active ? currentDir : undefined;
  const next = active && dir === 'asc' ? 'desc' : 'asc';
  return (
    <Table.Th aria-sort={active ? (dir === 'asc' ? 'ascending' : 'descending') : undefined} style={{ width }}>
      <UnstyledButton
        onClick={() => props.onSort(`${field},${next}`)}
        fw={700}
        fz="sm"
        style={{ whiteSpace: 'nowrap' }}
        aria-label={`Sort by ${props.label.toLowerCase()} ${next === 'asc' ? 'ascending' : 'descending'}`}
      >
        {props.label}{' '}
        <span aria-hidden="true" style={{ opacity: active ? 1 : 0.35 }}>
          {active ? (dir === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </UnstyledButton>
    </Table.Th>
  );
}

function EntityRow({ entity }: { entity: Entity }) {
  const type = specString(entity, 'type');
  const lifecycle = specString(entity, 'lifecycle');
  const tags = entity.metadata.tags ?? [];
  return (
    <Table.Tr data-testid="entity-row" data-entity-name={entity.metadata.name}>
      <Table.Td>
        <Anchor component={Link} to={entityPathOf(entity)} fw={600} size="sm" style={{ overflowWrap: 'anywhere' }}>
          {entity.metadata.title ?? entity.metadata.name}
        </Anchor>
        {entity.metadata.title && (
          <Text size="xs" c="dimmed">
            {entity.metadata.name}
          </Text>
        )}
        {entity.metadata.namespace && entity.metadata.namespace !== 'default' && (
          <Text size="xs" c="dimmed">
            namespace {entity.metadata.namespace}
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <Text size="sm">{entity.kind}</Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{type ?? ''}</Text>
      </Table.Td>
      <Table.Td>
        <OwnerLink entity={entity} />
      </Table.Td>
      <Table.Td style={{ whiteSpace: 'nowrap' }}>
        {lifecycle && (
          <Badge
            variant="light"
            color={lifecycle === 'production' ? 'teal' : lifecycle === 'deprecated' ? 'red' : 'gray'}
            size="sm"
            style={{ textTransform: 'none', maxWidth: 'none' }}
          >
            {lifecycle}
          </Badge>
        )}
      </Table.Td>
      <Table.Td>
        <Group gap={4}>
          {tags.map((t) => (
            <Badge key={t} variant="outline" color="gray" size="sm" style={{ textTransform: 'none', maxWidth: 'none' }}>
              {t}
            </Badge>
          ))}
        </Group>
      </Table.Td>
      <Table.Td>
        <Text size="sm" lineClamp={2}>
          {entity.metadata.description ?? ''}
        </Text>
      </Table.Td>
    </Table.Tr>
  );
}

export function CatalogPage() {
  useDocumentTitle('Catalog · Pave');
  const [params, setParams] = useSearchParams();
  const selection = useMemo(() => readSelection(params), [params]);
  const urlTerm = params.get('q') ?? '';
  const sort = params.get('sort') ?? 'metadata.name,asc';

  // Search box: typed text is debounced before it becomes `fullTextFilterTerm`.
  const [term, setTerm] = useState(urlTerm);
  const [debouncedTerm] = useDebouncedValue(term, 300);
  useEffect(() => {
    setTerm((t) => (t.trim() === urlTerm.trim() ? t : urlTerm));
  }, [urlTerm]);
  useEffect(() => {
    if (debouncedTerm.trim() === urlTerm.trim()) return;
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (debouncedTerm.trim()) next.set('q', debouncedTerm.trim());
        else next.delete('q');
        return next;
      },
      { replace: true },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debouncedTerm]);

  const filters = useMemo(() => buildFilters(selection), [selection]);
  const baseKey = JSON.stringify([filters, urlTerm, sort]);

  // Cursor paging: the cursor returned by the server carries the query.
  const [page, setPage] = useState<{ base: string; cursor?: string; index: number }>({ base: baseKey, index: 0 });
  const current = page.base === baseKey ? page : { base: baseKey, index: 0, cursor: undefined };

  const entities = useQuery<QueryEntitiesResponse>({
    queryKey: ['entities', baseKey, current.cursor ?? null],
    queryFn: ({ signal }) =>
      current.cursor
        ? queryEntities({ cursor: current.cursor, limit: PAGE_SIZE }, signal)
        : queryEntities({ filters, fullTextFilterTerm: urlTerm, orderField: sort, limit: PAGE_SIZE }, signal),
    placeholderData: keepPreviousData,
  });

  const { facets, error: facetsError } = useFacets(selection);

  const setFacet = (param: string, values: string[]) => {
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      next.delete(param);
      for (const v of values) next.append(param, v);
      return next;
    });
  };
  const setSort = (orderField: string) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      if (orderField === 'metadata.name,asc') next.delete('sort');
      else next.set('sort', orderField);
      return next;
    });
  const clearAll = () => {
    setTerm('');
    setParams(new URLSearchParams());
  };

  const data = entities.data;
  const total = data?.totalItems ?? 0;
  const start = current.index * PAGE_SIZE;
  const hasFilters = filters.length > 0 || urlTerm.length > 0;
  const showingPlaceholder = entities.isPlaceholderData;

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Catalog</Title>
          <Text c="dimmed" size="sm">
            Every component, API, resource, system, domain, group and user known to Pave.
          </Text>
        </div>
        <Button component={Link} to="/register" variant="light">
          Register existing component
        </Button>
      </Group>

      <Paper withBorder p="md" component="section" aria-label="Filters">
        <Stack gap="sm">
          <Group align="flex-end" gap="sm">
            <TextInput
              label="Search"
              placeholder="Name, title, description, tags…"
              value={term}
              onChange={(e) => setTerm(e.currentTarget.value)}
              style={{ flex: 1, minWidth: 240 }}
              type="search"
              rightSection={entities.isFetching ? <Loader size="xs" aria-label="Searching" /> : null}
            />
            {hasFilters && (
              <Button variant="subtle" onClick={clearAll}>
                Clear all filters
              </Button>
            )}
          </Group>
          <SimpleGrid cols={{ base: 1, xs: 2, md: 3, xl: 6 }} spacing="sm">
            {FACETS.map((f) => {
              const counts = facets[f.field] ?? [];
              const options = counts.map((c) => ({ value: c.value, label: `${c.value} (${c.count})` }));
              // Values match case-insensitively: show a selected value as the option it matches.
              const selected = (selection[f.field] ?? []).map(
                (v) => options.find((o) => o.value.toLowerCase() === v.toLowerCase())?.value ?? v,
              );
              for (const v of selected) {
                if (!options.some((o) => o.value === v)) options.push({ value: v, label: v });
              }
              return (
                <MultiSelect
                  key={f.param}
                  label={f.label}
                  placeholder={selected.length ? undefined : 'Any'}
                  data={options}
                  value={selected}
                  onChange={(values) => setFacet(f.param, values)}
                  searchable
                  clearable
                  nothingFoundMessage="No values"
                  maxDropdownHeight={300}
                  limit={300}
                  data-testid={`facet-${f.param}`}
                />
              );
            })}
          </SimpleGrid>
          {facetsError && <ErrorAlert error={facetsError} title="Could not load filters" />}
        </Stack>
      </Paper>

      <Paper withBorder p="md" component="section" aria-labelledby="results-heading">
        <Group justify="space-between" mb="sm">
          <Title order={3} size="h4" id="results-heading">
            <span data-testid="total-items">{data ? total.toLocaleString('en-US') : '…'}</span>{' '}
            {total === 1 ? 'entity' : 'entities'}
          </Title>
          {data && total > 0 && (
            <Text size="sm" c="dimmed" aria-live="polite" data-testid="page-range">
              Showing {(start + 1).toLocaleString('en-US')}–
              {(start + data.items.length).toLocaleString('en-US')} of{' '}
              {total.toLocaleString('en-US')}
            </Text>
          )}
        </Group>

        {entities.error ? (
          <ErrorAlert error={entities.error} title="Could not load the catalog" />
        ) : (
          <Table.ScrollContainer minWidth={900}>
            <Table
              striped
              highlightOnHover
              layout="fixed"
              verticalSpacing="xs"
              className="pave-table-wrap"
              style={{ opacity: showingPlaceholder ? 0.6 : 1, transition: 'opacity 120ms' }}
              aria-busy={entities.isFetching}
            >
              <VisuallyHidden component="caption">Catalog entities</VisuallyHidden>
              <Table.Thead>
                <Table.Tr>
                  <SortHeader column="name" label="Name" sort={sort} onSort={setSort} />
                  <SortHeader column="kind" label="Kind" sort={sort} onSort={setSort} />
                  <SortHeader column="type" label="Type" sort={sort} onSort={setSort} />
                  <SortHeader column="owner" label="Owner" sort={sort} onSort={setSort} />
                  <SortHeader column="lifecycle" label="Lifecycle" sort={sort} onSort={setSort} />
                  <Table.Th style={{ width: '14%' }}>Tags</Table.Th>
                  <Table.Th style={{ width: '31%' }}>Description</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {data?.items.map((e) => (
                  <EntityRow key={e.metadata.uid ?? `${e.kind}:${e.metadata.namespace}/${e.metadata.name}`} entity={e} />
                ))}
                {data && data.items.length === 0 && (
                  <Table.Tr>
                    <Table.Td colSpan={7}>
                      <Stack align="center" py="lg" gap="xs">
                        <Text fw={600}>No entities match</Text>
                        {hasFilters ? (
                          <Button variant="light" size="xs" onClick={clearAll}>
                            Clear all filters
                          </Button>
                        ) : (
                          <Anchor component={Link} to="/register">
                            Register your first component
                          </Anchor>
                        )}
                      </Stack>
                    </Table.Td>
                  </Table.Tr>
                )}
                {!data && entities.isLoading && (
                  <Table.Tr>
                    <Table.Td colSpan={7}>
                      <Group justify="center" py="lg">
                        <Loader aria-label="Loading entities" />
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                )}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}

        <Group justify="flex-end" mt="md" gap="sm" component="nav" aria-label="Pagination">
          <Button
            variant="default"
            disabled={current.index === 0 || (current.index > 1 && !data?.pageInfo?.prevCursor) || showingPlaceholder}
            onClick={() =>
              setPage(
                current.index <= 1
                  ? { base: baseKey, index: 0 }
                  : { base: baseKey, cursor: data?.pageInfo.prevCursor, index: current.index - 1 },
              )
            }
          >
            ← Previous page
          </Button>
          <Text size="sm" c="dimmed">
            Page {current.index + 1}
            {total > 0 ? ` of ${Math.max(1, Math.ceil(total / PAGE_SIZE)).toLocaleString('en-US')}` : ''}
          </Text>
          <Button
            variant="default"
            disabled={!data?.pageInfo?.nextCursor || showingPlaceholder}
            onClick={() => setPage({ base: baseKey, cursor: data?.pageInfo.nextCursor, index: current.index + 1 })}
          >
            Next page →
          </Button>
        </Group>
      </Paper>
    </Stack>
  );
}
