import { lazy, Suspense, useMemo, useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Anchor,
  Badge,
  Breadcrumbs,
  Button,
  Card,
  Code,
  CopyButton,
  Group,
  List,
  Loader,
  Modal,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  Title,
} from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { stringify } from 'yaml';
import { deleteEntity, getEntityByName, refreshEntity, type Entity, type EntityStatusItem } from '../api.ts';
import { useCan } from '../session.ts';
import { repoPath, useEntityRepository } from '../git.ts';
import { entityPathOf, entityRefOf, normalizeRef, parseRef, refPath, specString } from '../refs.ts';
import { relationLabel, RELATION_ORDER, uniqueTargets, useResolvedRefs } from '../relations.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { NotFoundPage } from './NotFoundPage.tsx';
import { PageFallback } from '../components/PageFallback.tsx';
import { RefLink } from '../components/RefLink.tsx';

const EntityGraph = lazy(() => import('./EntityGraph.tsx'));
const DocsReader = lazy(() => import('./DocsPage.tsx').then((m) => ({ default: m.DocsReader })));

const TABS = ['about', 'docs', 'relations', 'graph', 'yaml', 'errors'] as const;
type Tab = (typeof TABS)[number];

/** Spec fields that hold entity refs, with the default kind used to resolve short refs. */
const REF_FIELDS: Record<string, string> = {
  owner: 'group',
  system: 'system',
  domain: 'domain',
  parent: 'group',
  children: 'group',
  members: 'user',
  memberOf: 'group',
  providesApis: 'api',
  consumesApis: 'api',
  dependsOn: 'component',
  dependencyOf: 'component',
  subcomponentOf: 'component',
  subdomainOf: 'domain',
  target: '',
};

const SPEC_LABELS: Record<string, string> = {
  providesApis: 'Provides APIs',
  consumesApis: 'Consumes APIs',
  dependsOn: 'Depends on',
  dependencyOf: 'Dependency of',
  subcomponentOf: 'Subcomponent of',
  subdomainOf: 'Subdomain of',
  memberOf: 'Member of',
  parent: 'Parent group',
  children: 'Child groups',
  members: 'Members',
  target: 'Target',
  targets: 'Targets',
};

function specLabel(key: string) {
  return SPEC_LABELS[key] ?? key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

const ANNOTATIONS_OF_INTEREST: Array<{ key: string; label: string }> = [
  { key: 'backstage.io/source-location', label: 'Source location' },
  { key: 'backstage.io/managed-by-location', label: 'Managed by location' },
  { key: 'backstage.io/managed-by-origin-location', label: 'Origin location' },
  { key: 'backstage.io/techdocs-ref', label: 'TechDocs' },
  { key: 'backstage.io/view-url', label: 'View URL' },
  { key: 'backstage.io/edit-url', label: 'Edit URL' },
  { key: 'github.com/project-slug', label: 'GitHub project' },
  { key: 'backstage.io/kubernetes-id', label: 'Kubernetes id' },
  { key: 'pagerduty.com/service-id', label: 'PagerDuty service' },
];

function errorItems(entity: Entity): EntityStatusItem[] {
  return (entity.status?.items ?? []).filter((i) => i.level === 'error');
}


function UrlOrText({ value }: { value: string }) {
  const url = value.replace(/^url:/, '');
  if (/^https?:\/\//.test(url)) {
    return (
      <Anchor href={url} target="_blank" rel="noreferrer" size="sm" style={{ overflowWrap: 'anywhere' }}>
        {value}
      </Anchor>
    );
  }
  return (
    <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
      {value}
    </Text>
  );
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" fw={700} tt="uppercase" c="dimmed" component="dt">
        {label}
      </Text>
      <Text component="dd" size="sm" m={0} mt={2}>
        {children}
      </Text>
    </div>
  );
}

function AboutTab({ entity }: { entity: Entity }) {
  const ns = entity.metadata.namespace ?? 'default';
  const spec = entity.spec ?? {};
  const annotations = entity.metadata.annotations ?? {};
  const links = entity.metadata.links ?? [];
  const tags = entity.metadata.tags ?? [];
  const known = new Set(['type', 'lifecycle', 'owner', 'system', 'domain', 'definition', 'profile']);

  const extraSpec = Object.entries(spec).filter(
    ([k, v]) =>
      !known.has(k) &&
      (typeof v === 'string' ||
        typeof v === 'number' ||
        typeof v === 'boolean' ||
        (Array.isArray(v) && v.every((x) => typeof x === 'string'))),
  ) as Array<[string, string | number | boolean | string[]]>;

  const profile = (spec.profile ?? undefined) as { displayName?: string; email?: string; picture?: string } | undefined;
  const definition = typeof spec.definition === 'string' ? spec.definition : undefined;

  return (
    <Stack gap="md">
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
        <Card withBorder padding="lg" component="section" aria-labelledby="about-heading" style={{ alignSelf: 'start' }}>
          <Title order={3} size="h4" id="about-heading" mb="sm">
            About
          </Title>
          <Text size="sm" mb="md" data-testid="entity-description">
            {entity.metadata.description ?? <Text span c="dimmed" size="sm">No description.</Text>}
          </Text>
          <SimpleGrid cols={2} spacing="md" component="dl" m={0}>
            {specString(entity, 'owner') && (
              <Field label="Owner">
                <RefLink value={specString(entity, 'owner')!} defaultKind="group" namespace={ns} />
              </Field>
            )}
            {specString(entity, 'system') && (
              <Field label="System">
                <RefLink value={specString(entity, 'system')!} defaultKind="system" namespace={ns} />
              </Field>
            )}
            {specString(entity, 'domain') && (
              <Field label="Domain">
                <RefLink value={specString(entity, 'domain')!} defaultKind="domain" namespace={ns} />
              </Field>
            )}
            <Field label="Kind">{entity.kind}</Field>
            {specString(entity, 'type') && <Field label="Type">{specString(entity, 'type')}</Field>}
            {specString(entity, 'lifecycle') && <Field label="Lifecycle">{specString(entity, 'lifecycle')}</Field>}
            <Field label="Namespace">{ns}</Field>
            {profile?.displayName && <Field label="Display name">{profile.displayName}</Field>}
            {profile?.email && (
              <Field label="Email">
                <Anchor href={`mailto:${profile.email}`} size="sm">
                  {profile.email}
                </Anchor>
              </Field>
            )}
            <Field label="Tags">
              {tags.length ? (
                <Group gap={4} component="span">
                  {tags.map((t) => (
                    <Badge key={t} variant="outline" color="gray" size="sm" style={{ textTransform: 'none' }}>
                      {t}
                    </Badge>
                  ))}
                </Group>
              ) : (
                <Text span c="dimmed" size="sm">
                  None
                </Text>
              )}
            </Field>
          </SimpleGrid>
        </Card>

        <Stack gap="md">
          <Card withBorder padding="lg" component="section" aria-labelledby="links-heading">
            <Title order={3} size="h4" id="links-heading" mb="sm">
              Links
            </Title>
            {links.length ? (
              <List spacing={4} size="sm">
                {links.map((l) => (
                  <List.Item key={l.url}>
                    <Anchor href={l.url} target="_blank" rel="noreferrer" size="sm">
                      {l.title ?? l.url}
                    </Anchor>
                  </List.Item>
                ))}
              </List>
            ) : (
              <Text size="sm" c="dimmed">
                No links.
              </Text>
            )}
          </Card>

          {extraSpec.length > 0 && (
            <Card withBorder padding="lg" component="section" aria-labelledby="spec-heading">
              <Title order={3} size="h4" id="spec-heading" mb="sm">
                Specification
              </Title>
              <Stack gap="xs" component="dl" m={0}>
                {extraSpec.map(([k, v]) => {
                  const defaultKind = REF_FIELDS[k];
                  const values = Array.isArray(v) ? v : [String(v)];
                  return (
                    <Field key={k} label={specLabel(k)}>
                      <Group gap={8} component="span">
                        {values.map((val) =>
                          defaultKind !== undefined && k !== 'target' ? (
                            <RefLink key={val} value={val} defaultKind={defaultKind} namespace={ns} />
                          ) : (
                            <UrlOrText key={val} value={val} />
                          ),
                        )}
                      </Group>
                    </Field>
                  );
                })}
              </Stack>
            </Card>
          )}

          <Card withBorder padding="lg" component="section" aria-labelledby="annotations-heading">
            <Title order={3} size="h4" id="annotations-heading" mb="sm">
              Annotations of interest
            </Title>
            {ANNOTATIONS_OF_INTEREST.some((a) => annotations[a.key]) ? (
              <Stack gap="xs" component="dl" m={0}>
                {ANNOTATIONS_OF_INTEREST.filter((a) => annotations[a.key]).map((a) => (
                  <Field key={a.key} label={a.label}>
                    <UrlOrText value={annotations[a.key]!} />
                  </Field>
                ))}
              </Stack>
            ) : (
              <Text size="sm" c="dimmed">
                None.
              </Text>
            )}
          </Card>
        </Stack>
      </SimpleGrid>

      {definition && (
        <Card withBorder padding="lg" component="section" aria-labelledby="definition-heading">
          <Title order={3} size="h4" id="definition-heading" mb="sm">
            API definition
          </Title>
          <Code block className="pave-yaml" tabIndex={0} aria-label="API definition">
            {definition}
          </Code>
        </Card>
      )}
    </Stack>
  );
}

function RelationsTab({ entity }: { entity: Entity }) {
  const ns = entity.metadata.namespace ?? 'default';
  const targets = useMemo(() => uniqueTargets(entity), [entity]);
  const resolved = useResolvedRefs(targets);
  const groups = useMemo(() => {
    const byType = new Map<string, string[]>();
    for (const r of entity.relations ?? []) {
      const list = byType.get(r.type) ?? [];
      if (!list.includes(r.targetRef)) list.push(r.targetRef);
      byType.set(r.type, list);
    }
    const rank = (t: string) => {
      const i = RELATION_ORDER.indexOf(t);
      return i === -1 ? 999 : i;
    };
    return [...byType.entries()].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
  }, [entity]);

  if (groups.length === 0) {
    return <Text c="dimmed">This entity has no relations.</Text>;
  }
  return (
    <Stack gap="md">
      {resolved.error && <ErrorAlert error={resolved.error} title="Could not resolve related entities" />}
      <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }} spacing="md">
        {groups.map(([type, refs]) => (
          <Card
            key={type}
            withBorder
            padding="md"
            component="section"
            aria-labelledby={`rel-${type}`}
            data-testid="relation-group"
            data-relation-type={type}
          >
            <Group justify="space-between" mb="xs">
              <Title order={3} size="h5" id={`rel-${type}`}>
                {relationLabel(type)}
              </Title>
              <Badge variant="light" color="gray" size="sm" aria-label={`${refs.length} related`}>
                {refs.length}
              </Badge>
            </Group>
            <Stack gap={6} component="ul" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
              {refs.map((ref) => {
                const target = resolved.data?.get(normalizeRef(ref));
                const unresolved = resolved.data !== undefined && target === null;
                const parsed = parseRef(ref);
                return (
                  <li
                    key={ref}
                    data-testid="relation-item"
                    data-target-ref={ref}
                    data-unresolved={unresolved ? 'true' : 'false'}
                  >
                    <Group gap={6} wrap="nowrap">
                      <Badge variant="light" size="xs" color="indigo" style={{ flexShrink: 0 }}>
                        {parsed.kind}
                      </Badge>
                      <Anchor component={Link} to={refPath(ref)} size="sm" style={{ overflowWrap: 'anywhere' }}>
                        {target?.metadata.title ?? (parsed.namespace === ns ? parsed.name : `${parsed.namespace}/${parsed.name}`)}
                      </Anchor>
                      {unresolved && (
                        <Badge
                          color="orange"
                          variant="outline"
                          size="sm"
                          style={{ textTransform: 'none', flexShrink: 0 }}
                          title="This entity is not in the catalog yet"
                        >
                          unresolved
                        </Badge>
                      )}
                      {resolved.isLoading && <Loader size={12} aria-label="Resolving" />}
                    </Group>
                  </li>
                );
              })}
            </Stack>
          </Card>
        ))}
      </SimpleGrid>
    </Stack>
  );
}

function YamlTab({ entity }: { entity: Entity }) {
  const text = useMemo(() => stringify(entity, { lineWidth: 0 }), [entity]);
  return (
    <Stack gap="sm">
      <Group justify="flex-end">
        <CopyButton value={text}>
          {({ copied, copy }) => (
            <Button size="xs" variant="default" onClick={copy}>
              {copied ? 'Copied' : 'Copy YAML'}
            </Button>
          )}
        </CopyButton>
      </Group>
      <Code block className="pave-yaml" data-testid="raw-yaml" tabIndex={0} aria-label="Entity as YAML">
        {text}
      </Code>
    </Stack>
  );
}

function ErrorsTab({ entity }: { entity: Entity }) {
  const items = errorItems(entity);
  if (items.length === 0) return <Text c="dimmed">No processing errors.</Text>;
  return (
    <Table.ScrollContainer minWidth={600}>
      <Table striped withTableBorder>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Type</Table.Th>
            <Table.Th>Error</Table.Th>
            <Table.Th>Message</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((item, i) => (
            <Table.Tr key={i} data-testid="processing-error">
              <Table.Td>
                <Code>{item.type}</Code>
              </Table.Td>
              <Table.Td>{item.error?.name ?? ''}</Table.Td>
              <Table.Td style={{ whiteSpace: 'pre-wrap' }}>{item.error?.message ?? item.message}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** Refresh and Remove, shown only to those the policy lets do them to this entity. */
function EntityActions({ entity }: { entity: Entity }) {
  const ref = entityRefOf(entity);
  const canRefresh = useCan('catalog.entity.refresh', ref);
  const canDelete = useCan('catalog.entity.delete', ref);
  const repository = useEntityRepository(entity);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);

  const refresh = useMutation({
    mutationFn: () => refreshEntity(ref),
    // The location is read in the background; look at the entity again shortly after.
    onSuccess: () => setTimeout(() => void queryClient.invalidateQueries({ queryKey: ['entity'] }), 1000),
  });
  const remove = useMutation({
    mutationFn: () => deleteEntity(entity.metadata.uid!),
    onSuccess: () => {
      void queryClient.invalidateQueries();
      navigate('/catalog', { replace: true });
    },
  });

  const showDelete = canDelete.allowed && entity.metadata.uid !== undefined;
  if (!canRefresh.allowed && !showDelete && !repository) return null;
  return (
    <Stack gap="xs" mt="md">
      <Group gap="xs" aria-label="Entity actions" role="group">
        {repository && (
          <Button size="xs" variant="default" component={Link} to={repoPath(repository.org, repository.name)} data-testid="entity-repository">
            Repository
          </Button>
        )}
        {canRefresh.allowed && (
          <Button size="xs" variant="default" loading={refresh.isPending} onClick={() => refresh.mutate()}>
            Refresh
          </Button>
        )}
        {showDelete && (
          <Button size="xs" color="red" variant="light" onClick={() => setConfirming(true)}>
            Remove entity
          </Button>
        )}
        {refresh.isSuccess && (
          <Text size="sm" c="teal.9" role="status" data-testid="refresh-queued">
            Refresh queued: Pave reads its location again.
          </Text>
        )}
      </Group>
      {refresh.error && <ErrorAlert error={refresh.error} title="Could not refresh the entity" />}
      <Modal
        opened={confirming}
        onClose={() => {
          setConfirming(false);
          remove.reset();
        }}
        title="Remove entity?"
        centered
      >
        <Stack gap="sm">
          <Text size="sm">
            Pave removes <Code>{ref}</Code> from the catalog. If a registered location still describes it, the next read of
            that location brings it back: remove it from its file, or unregister the location, to remove it for good.
          </Text>
          {remove.error && <ErrorAlert error={remove.error} title="Could not remove the entity" />}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
              Remove entity
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

export default function EntityPage() {
  const { namespace = 'default', kind = '', name = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const tabParam = params.get('tab') as Tab | null;
  const tab: Tab = tabParam && TABS.includes(tabParam) ? tabParam : 'about';
  const docsSlug = params.get('page') ?? '';

  const query = useQuery({
    queryKey: ['entity', kind.toLowerCase(), namespace, name],
    queryFn: ({ signal }) => getEntityByName(kind.toLowerCase(), namespace, name, signal),
  });
  const entity = query.data;
  useDocumentTitle(`${entity?.metadata.title ?? name} · Pave`);

  if (query.isLoading) return <PageFallback />;
  if (query.error) return <ErrorAlert error={query.error} title="Could not load the entity" />;
  if (!entity) {
    return (
      <NotFoundPage title="Entity not found">
        <Text>
          There is no <Code>{kind.toLowerCase()}</Code> named <Code>{name}</Code> in namespace <Code>{namespace}</Code>.
          It may have been removed, or it has not been registered yet.
        </Text>
      </NotFoundPage>
    );
  }

  const errors = errorItems(entity);
  const ref = entityRefOf(entity);
  const type = specString(entity, 'type');
  const lifecycle = specString(entity, 'lifecycle');
  const hasDocs = Boolean(entity.metadata.annotations?.['backstage.io/techdocs-ref']);
  // The Docs tab's pages live in the URL: ?tab=docs&page=guides/setup.
  const docsHref = (slug: string) => `${entityPathOf(entity)}?${new URLSearchParams(slug ? { tab: 'docs', page: slug } : { tab: 'docs' })}`;
  const setTab = (t: string | null) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        next.delete('page');
        if (!t || t === 'about') next.delete('tab');
        else next.set('tab', t);
        return next;
      },
      { replace: true },
    );

  return (
    <Stack gap="md">
      <Breadcrumbs aria-label="Breadcrumb" separator="›">
        <Anchor component={Link} to="/catalog" size="sm">
          Catalog
        </Anchor>
        <Anchor component={Link} to={`/catalog?kind=${encodeURIComponent(entity.kind)}`} size="sm">
          {entity.kind}
        </Anchor>
        <Text size="sm" aria-current="page">
          {entity.metadata.name}
        </Text>
      </Breadcrumbs>

      {errors.length > 0 && (
        <Alert color="red" variant="filled" title="This entity has processing errors" role="alert" data-testid="errors-banner">
          <Stack gap={4}>
            {errors.slice(0, 3).map((e, i) => (
              <Text key={i} size="sm">
                {e.error?.message ?? e.message}
              </Text>
            ))}
            <Anchor component="button" type="button" c="white" size="sm" underline="always" onClick={() => setTab('errors')} style={{ alignSelf: 'flex-start' }}>
              View {errors.length} processing error{errors.length === 1 ? '' : 's'}
            </Anchor>
          </Stack>
        </Alert>
      )}

      <Paper withBorder p="lg">
        <Group justify="space-between" align="flex-start">
          <div>
            <Title order={2} data-testid="entity-title">
              {entity.metadata.title ?? entity.metadata.name}
            </Title>
            <Text size="sm" c="dimmed" ff="monospace">
              {ref}
            </Text>
          </div>
          <Group gap={6}>
            <Badge variant="filled" size="lg">
              {entity.kind}
            </Badge>
            {type && (
              <Badge variant="light" size="lg" style={{ textTransform: 'none' }}>
                {type}
              </Badge>
            )}
            {lifecycle && (
              <Badge variant="light" color="teal" size="lg" style={{ textTransform: 'none' }}>
                {lifecycle}
              </Badge>
            )}
          </Group>
        </Group>
        <EntityActions entity={entity} />
      </Paper>

      <Tabs value={tab} onChange={setTab} keepMounted={false} variant="outline">
        <Tabs.List>
          <Tabs.Tab value="about">About</Tabs.Tab>
          {hasDocs && <Tabs.Tab value="docs">Docs</Tabs.Tab>}
          <Tabs.Tab value="relations">
            Relations ({uniqueTargets(entity).length})
          </Tabs.Tab>
          <Tabs.Tab value="graph">Dependency graph</Tabs.Tab>
          <Tabs.Tab value="yaml">Raw YAML</Tabs.Tab>
          <Tabs.Tab
            value="errors"
            rightSection={
              errors.length ? (
                <Badge color="red" size="sm" circle aria-label={`${errors.length} errors`}>
                  {errors.length}
                </Badge>
              ) : null
            }
          >
            Processing errors
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="about" pt="md">
          <AboutTab entity={entity} />
        </Tabs.Panel>
        {hasDocs && (
          <Tabs.Panel value="docs" pt="md">
            <Suspense fallback={<PageFallback />}>
              <DocsReader
                entity={{ namespace: entity.metadata.namespace ?? 'default', kind: entity.kind.toLowerCase(), name: entity.metadata.name }}
                slug={docsSlug}
                pageHref={docsHref}
                embedded
              />
            </Suspense>
          </Tabs.Panel>
        )}
        <Tabs.Panel value="relations" pt="md">
          <RelationsTab entity={entity} />
        </Tabs.Panel>
        <Tabs.Panel value="graph" pt="md">
          <Suspense fallback={<PageFallback />}>
            <EntityGraph entity={entity} />
          </Suspense>
        </Tabs.Panel>
        <Tabs.Panel value="yaml" pt="md">
          <YamlTab entity={entity} />
        </Tabs.Panel>
        <Tabs.Panel value="errors" pt="md">
          <ErrorsTab entity={entity} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
