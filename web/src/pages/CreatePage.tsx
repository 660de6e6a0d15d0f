import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { Anchor, Badge, Button, Card, Group, Loader, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import type { Entity } from '../api.ts';
import { useTemplates } from '../scaffolder.ts';
import { humanizeRef, refPath, specString } from '../refs.ts';
import { useCan } from '../session.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';

function templateFormPath(entity: Entity): string {
  return `/create/templates/${encodeURIComponent(entity.metadata.namespace ?? 'default')}/${encodeURIComponent(entity.metadata.name)}`;
}

function TemplateCard({ template }: { template: Entity }) {
  const owner = specString(template, 'owner');
  const type = specString(template, 'type');
  const tags = template.metadata.tags ?? [];
  const ns = template.metadata.namespace ?? 'default';
  const title = template.metadata.title ?? template.metadata.name;
  return (
    <Card withBorder padding="lg" component="article" aria-labelledby={`template-${ns}-${template.metadata.name}`} data-testid="template-card" data-template={`${ns}/${template.metadata.name}`} className="pave-template-card">
      <Group justify="space-between" align="flex-start" wrap="nowrap" mb="xs">
        <Title order={3} size="h4" id={`template-${ns}-${template.metadata.name}`}>
          {title}
        </Title>
        {type && (
          <Badge variant="light" style={{ textTransform: 'none', flexShrink: 0 }}>
            {type}
          </Badge>
        )}
      </Group>
      <Text size="sm" c={template.metadata.description ? undefined : 'dimmed'} mb="sm" style={{ flexGrow: 1 }}>
        {template.metadata.description ?? 'No description.'}
      </Text>
      {tags.length > 0 && (
        <Group gap={4} mb="sm" aria-label="Tags">
          {tags.map((t) => (
            <Badge key={t} variant="outline" color="gray" size="sm" style={{ textTransform: 'none' }}>
              {t}
            </Badge>
          ))}
        </Group>
      )}
      <Group justify="space-between" align="center" mt="auto">
        <Text size="xs" c="dimmed">
          {owner ? (
            <>
              Owned by{' '}
              <Anchor component={Link} to={refPath(owner, { kind: 'group', namespace: ns })} size="xs">
                {humanizeRef(owner, { kind: 'group', namespace: ns })}
              </Anchor>
            </>
          ) : (
            'No owner'
          )}
        </Text>
        <Button component={Link} to={templateFormPath(template)} aria-label={`Choose ${title}`} data-testid="choose-template">
          Choose
        </Button>
      </Group>
    </Card>
  );
}

/** `/create`: the golden paths, one card per template of the catalog. */
export default function CreatePage() {
  useDocumentTitle('Create · Pave');
  const templates = useTemplates();
  const canEdit = useCan('scaffolder.task.create');
  const [filter, setFilter] = useState('');
  const items = useMemo(() => {
    const all = templates.data?.items ?? [];
    const f = filter.trim().toLowerCase();
    if (!f) return all;
    return all.filter((t) =>
      [t.metadata.name, t.metadata.title, t.metadata.description, specString(t, 'type'), specString(t, 'owner'), ...(t.metadata.tags ?? [])].some((v) => v?.toLowerCase().includes(f)),
    );
  }, [templates.data, filter]);

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Create</Title>
          <Text c="dimmed" size="sm">
            Start something new from a template: a repository with its code, registered in the catalog.
          </Text>
        </div>
        <Group gap="xs">
          <Button component={Link} to="/create/tasks" variant="default">
            My runs
          </Button>
          <Button component={Link} to="/repos" variant="default">
            Repositories
          </Button>
          {canEdit.allowed && (
            <Button component={Link} to="/create/edit" variant="default">
              Template editor
            </Button>
          )}
        </Group>
      </Group>

      <TextInput aria-label="Filter templates" placeholder="Filter by name, type, tag, owner…" type="search" value={filter} onChange={(e) => setFilter(e.currentTarget.value)} maw={360} />

      {templates.error ? (
        <ErrorAlert error={templates.error} title="Could not load the templates" />
      ) : templates.isLoading ? (
        <Group justify="center" py="xl">
          <Loader aria-label="Loading templates" />
        </Group>
      ) : (templates.data?.items.length ?? 0) === 0 ? (
        <Card withBorder padding="xl">
          <Stack gap={4} align="center">
            <Text fw={600}>No templates yet</Text>
            <Text size="sm" c="dimmed" ta="center">
              Register a <code>template.yaml</code> (kind <code>Template</code>, apiVersion <code>scaffolder.backstage.io/v1beta3</code>) in the catalog, or
              write one in the{' '}
              <Anchor component={Link} to="/create/edit" size="sm">
                template editor
              </Anchor>
              .
            </Text>
          </Stack>
        </Card>
      ) : items.length === 0 ? (
        <Text c="dimmed" role="status">
          No template matches “{filter.trim()}”.
        </Text>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }} spacing="md">
          {items.map((t) => (
            <TemplateCard key={`${t.metadata.namespace ?? 'default'}/${t.metadata.name}`} template={t} />
          ))}
        </SimpleGrid>
      )}
    </Stack>
  );
}
