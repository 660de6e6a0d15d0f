import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  List,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { addLocation, type AddLocationResponse } from '../api.ts';
import { entityPathOf, entityRefOf } from '../refs.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { NotAllowed } from '../components/NotAllowed.tsx';
import { useCan } from '../session.ts';

export function locationTypeOf(target: string): 'url' | 'file' {
  return /^https?:\/\//i.test(target.trim()) ? 'url' : 'file';
}

function EntityPreview({ result }: { result: AddLocationResponse }) {
  return (
    <Table.ScrollContainer minWidth={480}>
      <Table striped withTableBorder data-testid="preview-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Kind</Table.Th>
            <Table.Th>Name</Table.Th>
            <Table.Th>Namespace</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {result.entities.map((e) => (
            <Table.Tr key={entityRefOf(e)} data-testid="preview-row">
              <Table.Td>{e.kind}</Table.Td>
              <Table.Td>{e.metadata.name}</Table.Td>
              <Table.Td>{e.metadata.namespace ?? 'default'}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export default function RegisterPage() {
  const can = useCan('catalog.location.create');
  if (!can.allowed) return <NotAllowed what="Registering components" permission="catalog.location.create" />;
  return <RegisterForm />;
}

function RegisterForm() {
  useDocumentTitle('Register existing component · Pave');
  const queryClient = useQueryClient();
  const [target, setTarget] = useState('');
  const trimmed = target.trim();
  const type = locationTypeOf(trimmed);

  const analyze = useMutation({
    mutationFn: (loc: { type: string; target: string }) => addLocation(loc, true),
  });
  const doImport = useMutation({
    mutationFn: (loc: { type: string; target: string }) => addLocation(loc, false),
    onSuccess: () => {
      void queryClient.invalidateQueries();
    },
  });

  const preview = analyze.data;
  // Pave (like Backstage) may process a new location in the background and answer with no
  // entities yet: then link to the entities the analysis found.
  const imported = doImport.data
    ? doImport.data.entities.length > 0
      ? doImport.data.entities
      : (preview?.entities ?? [])
    : [];
  const analyzedTarget = analyze.variables?.target;
  const previewIsCurrent = preview !== undefined && analyzedTarget === trimmed;

  const onAnalyze = (ev: FormEvent) => {
    ev.preventDefault();
    if (!trimmed) return;
    doImport.reset();
    analyze.mutate({ type, target: trimmed });
  };

  const onImport = () => {
    if (!previewIsCurrent) return;
    doImport.mutate({ type: analyze.variables!.type, target: analyze.variables!.target });
  };

  const startOver = () => {
    analyze.reset();
    doImport.reset();
    setTarget('');
  };

  return (
    <Stack gap="lg" maw={900}>
      <div>
        <Title order={2}>Register an existing component</Title>
        <Text c="dimmed" size="sm">
          Point Pave at a <Code>catalog-info.yaml</Code> file: a URL (http or https) or a path on the Pave server. Analyze
          it first to preview the entities it describes, then import it.
        </Text>
      </div>

      <Paper withBorder p="lg" component="form" onSubmit={onAnalyze} aria-labelledby="register-step-1">
        <Stack gap="sm">
          <Title order={3} size="h4" id="register-step-1">
            1. Select a location
          </Title>
          <TextInput
            label="Repository URL or local path"
            description="For example https://github.com/acme/payments/blob/main/catalog-info.yaml or /srv/repos/payments/catalog-info.yaml"
            placeholder="https://… or /path/to/catalog-info.yaml"
            value={target}
            onChange={(e) => setTarget(e.currentTarget.value)}
            required
            autoComplete="off"
            spellCheck={false}
            rightSectionWidth={60}
            rightSection={
              trimmed ? (
                <Badge size="sm" variant="light" aria-label={`Location type ${type}`} data-testid="location-type">
                  {type}
                </Badge>
              ) : null
            }
          />
          <Group>
            <Button type="submit" loading={analyze.isPending} disabled={!trimmed}>
              Analyze
            </Button>
            {(preview || analyze.error || doImport.data) && (
              <Button variant="subtle" onClick={startOver}>
                Start over
              </Button>
            )}
          </Group>
          {analyze.error && <ErrorAlert error={analyze.error} title="Analysis failed" />}
        </Stack>
      </Paper>

      {preview && !doImport.data && (
        <Paper withBorder p="lg" component="section" aria-labelledby="register-step-2">
          <Stack gap="sm">
            <Title order={3} size="h4" id="register-step-2">
              2. Review
            </Title>
            <Text size="sm">
              The <Code>{preview.location.type}</Code> location <Code>{preview.location.target}</Code> contains{' '}
              <strong>{preview.entities.length}</strong> {preview.entities.length === 1 ? 'entity' : 'entities'}:
            </Text>
            {preview.exists && (
              <Alert color="yellow" variant="light" title="Already registered">
                This location is already registered; importing it again refreshes it.
              </Alert>
            )}
            <EntityPreview result={preview} />
            {!previewIsCurrent && (
              <Text size="sm" c="orange.9">
                The location changed since the analysis: analyze it again before importing.
              </Text>
            )}
            <Group>
              <Button onClick={onImport} loading={doImport.isPending} disabled={!previewIsCurrent}>
                Import
              </Button>
            </Group>
            {doImport.error && <ErrorAlert error={doImport.error} title="Import failed" />}
          </Stack>
        </Paper>
      )}

      {doImport.data && (
        <Alert color="teal" variant="light" title="Imported" role="status" data-testid="import-success">
          <Stack gap="xs">
            <Text size="sm">
              Registered location <Code>{doImport.data.location.target}</Code> with {imported.length}{' '}
              {imported.length === 1 ? 'entity' : 'entities'}:
            </Text>
            <List size="sm" spacing={2}>
              {imported.map((e) => (
                <List.Item key={entityRefOf(e)}>
                  <Anchor component={Link} to={entityPathOf(e)} size="sm">
                    {entityRefOf(e)}
                  </Anchor>
                </List.Item>
              ))}
            </List>
            <Group gap="sm">
              <Button size="xs" variant="light" onClick={startOver}>
                Register another
              </Button>
              <Anchor component={Link} to="/locations" size="sm">
                View locations
              </Anchor>
            </Group>
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}
