import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { Anchor, Badge, Group, Loader, Paper, Stack, Table, Text, TextInput, Title, Tooltip, VisuallyHidden } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { docsPath, problemPosition, useDocsSites, type DocsSiteSummary, type DocsStatus } from '../docs.ts';
import { refPath } from '../refs.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { RefLink } from '../components/RefLink.tsx';

const STATUS_COLORS: Record<DocsStatus, string> = { ready: 'teal', building: 'blue', pending: 'gray', failed: 'red' };

export function DocsStatusBadge({ status, title }: { status: DocsStatus; title?: string }) {
  return (
    <Badge color={STATUS_COLORS[status] ?? 'gray'} variant="light" size="sm" data-testid="docs-status" data-status={status} title={title}>
      {status}
    </Badge>
  );
}

function formatDate(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' }) : '';
}

function SiteRow({ site }: { site: DocsSiteSummary }) {
  const readable = site.pages > 0;
  const error = site.error ? `${site.error.message}${problemPosition(site.error) ? ` (${problemPosition(site.error)})` : ''}` : undefined;
  return (
    <Table.Tr data-testid="docs-site" data-entity-ref={site.entityRef} data-status={site.status}>
      <Table.Td>
        {readable ? (
          <Anchor component={Link} to={docsPath(site)} fw={600} size="sm" style={{ overflowWrap: 'anywhere' }}>
            {site.siteName}
          </Anchor>
        ) : (
          <Text fw={600} size="sm">
            {site.siteName}
          </Text>
        )}
        {site.description && (
          <Text size="xs" c="dimmed" lineClamp={2}>
            {site.description}
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <Anchor component={Link} to={refPath(site.entityRef)} size="sm" style={{ overflowWrap: 'anywhere' }}>
          {site.title ?? site.name}
        </Anchor>
        <Text size="xs" c="dimmed">
          {site.kind}
          {site.namespace !== 'default' ? ` · ${site.namespace}` : ''}
        </Text>
      </Table.Td>
      <Table.Td>
        {site.owner && (
          <RefLink value={site.owner} defaultKind="group" />
        )}
      </Table.Td>
      <Table.Td>
        {error ? (
          <Tooltip label={error} multiline w={360} withArrow>
            <span tabIndex={0} aria-label={`failed: ${error}`}>
              <DocsStatusBadge status={site.status} />
            </span>
          </Tooltip>
        ) : (
          <DocsStatusBadge status={site.status} />
        )}
      </Table.Td>
      <Table.Td>
        <Text size="sm">{site.pages}</Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm" c="dimmed">
          {formatDate(site.builtAt)}
        </Text>
      </Table.Td>
    </Table.Tr>
  );
}

export default function DocsHomePage() {
  useDocumentTitle('Docs · Pave');
  const sites = useDocsSites();
  const [filter, setFilter] = useState('');
  const items = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const all = sites.data?.items ?? [];
    if (!f) return all;
    return all.filter((s) => [s.siteName, s.entityRef, s.title, s.description, s.owner].some((v) => v?.toLowerCase().includes(f)));
  }, [sites.data, filter]);

  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Docs</Title>
        <Text c="dimmed" size="sm">
          Documentation of the catalog's components, written beside their code (MkDocs, as TechDocs reads it).
        </Text>
      </div>

      <Paper withBorder p="md" component="section" aria-labelledby="docs-sites-heading">
        <Group justify="space-between" mb="sm" align="flex-end">
          <Title order={3} size="h4" id="docs-sites-heading">
            {sites.data ? `${items.length} site${items.length === 1 ? '' : 's'}` : 'Sites'}
          </Title>
          <TextInput
            aria-label="Filter sites"
            placeholder="Filter by name, owner…"
            type="search"
            value={filter}
            onChange={(e) => setFilter(e.currentTarget.value)}
            w={280}
          />
        </Group>
        {sites.error ? (
          <ErrorAlert error={sites.error} title="Could not load the docs" />
        ) : sites.isLoading ? (
          <Group justify="center" py="lg">
            <Loader aria-label="Loading docs" />
          </Group>
        ) : (sites.data?.items.length ?? 0) === 0 ? (
          <Stack gap={4} py="md" align="center">
            <Text fw={600}>No documentation yet</Text>
            <Text size="sm" c="dimmed" ta="center">
              Add the annotation <code>backstage.io/techdocs-ref: dir:.</code> to a component and an <code>mkdocs.yml</code> beside a{' '}
              <code>docs/</code> folder.
            </Text>
          </Stack>
        ) : (
          <Table.ScrollContainer minWidth={760}>
            <Table striped highlightOnHover verticalSpacing="xs" className="pave-table-wrap">
              <VisuallyHidden component="caption">Documentation sites</VisuallyHidden>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th style={{ width: '30%' }}>Site</Table.Th>
                  <Table.Th>Entity</Table.Th>
                  <Table.Th>Owner</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Pages</Table.Th>
                  <Table.Th>Built</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((s) => (
                  <SiteRow key={s.entityRef} site={s} />
                ))}
                {items.length === 0 && (
                  <Table.Tr>
                    <Table.Td colSpan={6}>
                      <Text ta="center" c="dimmed" py="md">
                        No site matches “{filter}”.
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                )}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Paper>
    </Stack>
  );
}
