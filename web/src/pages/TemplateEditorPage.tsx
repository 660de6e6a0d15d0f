import { useCallback, useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { useMutation } from '@tanstack/react-query';
import { Accordion, Alert, Anchor, Breadcrumbs, Button, Code, Group, Paper, Select, Stack, Table, Text, Textarea, TextInput, Title, UnstyledButton } from '@mantine/core';
import { useDebouncedValue, useDocumentTitle } from '@mantine/hooks';
import { parse, stringify, YAMLParseError } from 'yaml';
import { ApiError, getEntityByName } from '../api.ts';
import {
  decodeBase64,
  dryRun,
  encodeBase64,
  errorSchemaOf,
  secretFields,
  splitSecrets,
  stepsOfTemplate,
  useActions,
  useTemplates,
  type DryRunResult,
  type JsonObject,
  type ParameterError,
} from '../scaffolder.ts';
import { humanizeRef, refPath } from '../refs.ts';
import { useCan } from '../session.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { NotAllowed } from '../components/NotAllowed.tsx';
import { PageFallback } from '../components/PageFallback.tsx';
import { ParameterForm } from '../components/fields/FormTheme.tsx';

const SAMPLE_TEMPLATE = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: hello-service
  title: Hello service
  description: A service that says hello
spec:
  owner: team-a
  type: service
  parameters:
    - title: About the service
      required: [name]
      properties:
        name:
          type: string
          title: Name
          ui:field: EntityNamePicker
        owner:
          type: string
          title: Owner
          ui:field: OwnerPicker
  steps:
    - id: fetch
      name: Fetch skeleton
      action: fetch:template
      input:
        url: ./skeleton
        values:
          name: \${{ parameters.name }}
          owner: \${{ parameters.owner }}
    - id: log
      name: Log
      action: debug:log
      input:
        message: Hello, \${{ parameters.name }}!
  output:
    text:
      - title: Next
        content: Publish it with publish:pave.
`;

const SAMPLE_FILES: EditorFile[] = [{ path: 'skeleton/README.md', content: '# ${{ values.name }}\n\nOwned by ${{ values.owner }}.\n' }];

interface EditorFile {
  path: string;
  content: string;
}

type Parsed = { template: JsonObject; error?: undefined } | { template?: undefined; error: string };

function parseTemplate(text: string): Parsed {
  try {
    const doc = parse(text) as unknown;
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { error: 'The YAML must be one Template entity (a mapping).' };
    const t = doc as JsonObject;
    if (t.kind !== 'Template') return { error: `kind must be Template, got ${JSON.stringify(t.kind)}` };
    return { template: t };
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const at = e.linePos?.[0];
      return { error: `${at ? `Line ${at.line}, column ${at.col}: ` : ''}${e.message.split('\n')[0]}` };
    }
    return { error: (e as Error).message };
  }
}

/** The entity as an author writes it: without what the catalog adds. */
function authoredYaml(entity: JsonObject): string {
  const { relations: _r, status: _s, ...rest } = entity;
  const metadata = { ...(rest.metadata as JsonObject) };
  for (const k of ['uid', 'etag', 'generation']) delete metadata[k];
  return stringify({ ...rest, metadata }, { lineWidth: 0 });
}

function FileBrowser({ result }: { result: DryRunResult }) {
  const [selected, setSelected] = useState<string | undefined>(result.directoryContents[0]?.path);
  const file = result.directoryContents.find((f) => f.path === selected);
  const decoded = file ? decodeBase64(file.base64Content) : undefined;
  if (result.directoryContents.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        The run produced no files.
      </Text>
    );
  }
  return (
    <div className="pave-dry-run-files">
      <ul className="pave-dry-run-file-list" aria-label="Files produced">
        {result.directoryContents.map((f) => (
          <li key={f.path}>
            <UnstyledButton
              data-testid="dry-run-file"
              data-path={f.path}
              aria-current={f.path === selected ? 'true' : undefined}
              className="pave-dry-run-file"
              onClick={() => setSelected(f.path)}
            >
              {f.path}
              {f.executable ? ' *' : ''}
            </UnstyledButton>
          </li>
        ))}
      </ul>
      <div style={{ minWidth: 0 }}>
        {file && decoded && (
          <>
            <Text size="sm" fw={600} ff="monospace" mb={4}>
              {file.path}
            </Text>
            {decoded.binary ? (
              <Text size="sm" c="dimmed">
                A binary file ({atob(file.base64Content).length} bytes).
              </Text>
            ) : (
              <pre className="pave-repo-file" data-testid="dry-run-file-content" data-path={file.path}>
                {decoded.text}
              </pre>
            )}
          </>
        )}
      </div>
    </div>
  );
}

function ActionsReference() {
  const [opened, setOpened] = useState<string | null>(null);
  const actions = useActions(opened !== null);
  return (
    <Accordion value={opened} onChange={setOpened} variant="contained">
      <Accordion.Item value="actions">
        <Accordion.Control>Actions templates can use</Accordion.Control>
        <Accordion.Panel>
          {actions.error ? (
            <ErrorAlert error={actions.error} title="Could not list the actions" />
          ) : !actions.data ? (
            <Text size="sm" c="dimmed">
              Loading…
            </Text>
          ) : (
            <Stack gap="sm">
              {actions.data.map((a) => {
                const props = Object.entries(((a.schema?.input as { properties?: Record<string, { type?: string; title?: string; description?: string }> } | undefined)?.properties ?? {}));
                const required = ((a.schema?.input as { required?: string[] } | undefined)?.required ?? []) as string[];
                return (
                  <div key={a.id} data-testid="action" data-action={a.id}>
                    <Code fw={700}>{a.id}</Code>
                    {a.description && (
                      <Text size="sm" mt={2}>
                        {a.description}
                      </Text>
                    )}
                    {props.length > 0 && (
                      <Table withTableBorder mt={4} fz="xs" verticalSpacing={2}>
                        <Table.Tbody>
                          {props.map(([name, p]) => (
                            <Table.Tr key={name}>
                              <Table.Td ff="monospace" w="30%">
                                {name}
                                {required.includes(name) ? ' *' : ''}
                              </Table.Td>
                              <Table.Td w="15%">{p.type ?? ''}</Table.Td>
                              <Table.Td>{p.description ?? p.title ?? ''}</Table.Td>
                            </Table.Tr>
                          ))}
                        </Table.Tbody>
                      </Table>
                    )}
                  </div>
                );
              })}
            </Stack>
          )}
        </Accordion.Panel>
      </Accordion.Item>
    </Accordion>
  );
}

/**
 * `/create/edit`: write a template and try it: its form, live, from the YAML; then a dry run with
 * the skeleton files written here, which shows the log and the files the run would produce.
 */
export default function TemplateEditorPage() {
  useDocumentTitle('Template editor · Create · Pave');
  const canRun = useCan('scaffolder.task.create');
  const templates = useTemplates();
  const [yaml, setYaml] = useState(SAMPLE_TEMPLATE);
  const [debouncedYaml] = useDebouncedValue(yaml, 250);
  const [files, setFiles] = useState<EditorFile[]>(SAMPLE_FILES);
  const [formData, setFormData] = useState<JsonObject>({});
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [serverErrors, setServerErrors] = useState<ParameterError[]>([]);
  const [chosen, setChosen] = useState<string | null>(null);

  const parsed = useMemo(() => parseTemplate(debouncedYaml), [debouncedYaml]);
  const steps = useMemo(() => (parsed.template ? stepsOfTemplate(parsed.template) : []), [parsed]);
  const secretNames = useMemo(() => secretFields(steps), [steps]);
  const setSecret = useCallback((name: string, value: string) => setSecrets((s) => ({ ...s, [name]: value })), []);
  const secretsContext = useMemo(() => ({ secrets, setSecret }), [secrets, setSecret]);

  const load = useMutation({
    mutationFn: async (key: string) => {
      const [ns, name] = key.split('/');
      const entity = await getEntityByName('template', ns!, name!);
      if (!entity) throw new ApiError(404, 'TEMPLATE_NOT_FOUND', `No template ${key} in the catalog`);
      return entity;
    },
    onSuccess: (entity) => {
      setYaml(authoredYaml(entity as unknown as JsonObject));
      setFormData({});
      setSecrets({});
    },
  });

  const run = useMutation({
    mutationFn: () =>
      dryRun({
        template: parsed.template,
        ...splitSecrets(formData, secrets, secretNames),
        directoryContents: files.filter((f) => f.path.trim()).map((f) => ({ path: f.path.trim().replace(/^\.?\/+/, ''), base64Content: encodeBase64(f.content) })),
      }),
    onMutate: () => setServerErrors([]),
    onError: (e) => {
      if (e instanceof ApiError && e.code === 'TEMPLATE_PARAMETERS_INVALID') {
        setServerErrors(((e.details as { errors?: ParameterError[] } | undefined)?.errors ?? []).filter((x) => x && typeof x.field === 'string'));
      }
    },
  });
  const result = run.data;
  const failedStep = result?.log.find((l) => l.body.status === 'failed');

  if (canRun.loading) return <PageFallback />;
  if (!canRun.allowed) return <NotAllowed what="The template editor" permission="scaffolder.task.create" />;

  const updateFile = (i: number, patch: Partial<EditorFile>) => setFiles((fs) => fs.map((f, j) => (j === i ? { ...f, ...patch } : f)));

  return (
    <Stack gap="md">
      <Breadcrumbs aria-label="Breadcrumb" separator="›">
        <Anchor component={Link} to="/create" size="sm">
          Create
        </Anchor>
        <Text size="sm" aria-current="page">
          Template editor
        </Text>
      </Breadcrumbs>
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Template editor</Title>
          <Text c="dimmed" size="sm">
            Write a template, see its form as people will, and dry-run it: steps run with side effects simulated (nothing is published or registered).
          </Text>
        </div>
        <Select
          aria-label="Start from a template of the catalog"
          placeholder="Start from a template of the catalog…"
          data={(templates.data?.items ?? []).map((t) => ({ value: `${t.metadata.namespace ?? 'default'}/${t.metadata.name}`, label: t.metadata.title ?? t.metadata.name }))}
          value={chosen}
          onChange={(v) => {
            setChosen(v);
            if (v) load.mutate(v);
          }}
          searchable
          w={320}
        />
      </Group>
      {load.error && <ErrorAlert error={load.error} title="Could not load the template" />}

      <div className="pave-editor-layout">
        <Stack gap="md" style={{ minWidth: 0 }}>
          <Paper withBorder p="md" component="section" aria-labelledby="editor-yaml-heading">
            <Title order={3} size="h5" id="editor-yaml-heading" mb="xs">
              template.yaml
            </Title>
            <Textarea
              aria-labelledby="editor-yaml-heading"
              data-testid="editor-yaml"
              value={yaml}
              onChange={(e) => setYaml(e.currentTarget.value)}
              autosize
              minRows={18}
              maxRows={40}
              spellCheck={false}
              classNames={{ input: 'pave-editor-code' }}
            />
            {parsed.error && (
              <Alert color="red" variant="light" mt="xs" title="The template does not parse" data-testid="editor-parse-error" role="alert">
                <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
                  {parsed.error}
                </Text>
              </Alert>
            )}
          </Paper>

          <Paper withBorder p="md" component="section" aria-labelledby="editor-files-heading">
            <Group justify="space-between" mb="xs">
              <Title order={3} size="h5" id="editor-files-heading">
                Template files
              </Title>
              <Button size="xs" variant="default" onClick={() => setFiles((fs) => [...fs, { path: '', content: '' }])} data-testid="editor-add-file">
                Add file
              </Button>
            </Group>
            <Text size="xs" c="dimmed" mb="sm">
              Files beside template.yaml, e.g. <Code>skeleton/README.md</Code> for <Code>fetch:template</Code> with <Code>url: ./skeleton</Code>.
            </Text>
            <Stack gap="sm">
              {files.length === 0 && (
                <Text size="sm" c="dimmed">
                  No files.
                </Text>
              )}
              {files.map((f, i) => (
                <Paper key={i} withBorder p="xs" data-testid="editor-file">
                  <Group gap="xs" align="flex-end" mb={6}>
                    <TextInput
                      label="Path"
                      placeholder="skeleton/README.md"
                      value={f.path}
                      onChange={(e) => updateFile(i, { path: e.currentTarget.value })}
                      style={{ flexGrow: 1 }}
                      data-testid="editor-file-path"
                      classNames={{ input: 'pave-editor-code' }}
                    />
                    <Button size="xs" variant="subtle" color="red" onClick={() => setFiles((fs) => fs.filter((_, j) => j !== i))} aria-label={`Remove ${f.path || 'this file'}`}>
                      Remove
                    </Button>
                  </Group>
                  <Textarea
                    aria-label={`Content of ${f.path || 'the file'}`}
                    value={f.content}
                    onChange={(e) => updateFile(i, { content: e.currentTarget.value })}
                    autosize
                    minRows={3}
                    maxRows={16}
                    spellCheck={false}
                    data-testid="editor-file-content"
                    classNames={{ input: 'pave-editor-code' }}
                  />
                </Paper>
              ))}
            </Stack>
          </Paper>
          <ActionsReference />
        </Stack>

        <Stack gap="md" style={{ minWidth: 0 }}>
          <Paper withBorder p="md" component="section" aria-labelledby="editor-preview-heading" data-testid="editor-preview">
            <Title order={3} size="h5" id="editor-preview-heading" mb="xs">
              Form preview
            </Title>
            {!parsed.template ? (
              <Text size="sm" c="dimmed">
                Fix the YAML to see the form.
              </Text>
            ) : steps.length === 0 ? (
              <Text size="sm" c="dimmed">
                This template asks for nothing (no <Code>spec.parameters</Code>).
              </Text>
            ) : (
              <Stack gap="lg">
                {steps.map((step, i) => (
                  <div key={`${i}-${step.title}`}>
                    <Text fw={700} size="sm" mb={4}>
                      {i + 1}. {step.title}
                    </Text>
                    {step.description && (
                      <Text size="xs" c="dimmed" mb={4}>
                        {step.description}
                      </Text>
                    )}
                    <ParameterForm
                      idPrefix={`preview${i}`}
                      step={step}
                      formData={formData}
                      onChange={setFormData}
                      secrets={secretsContext}
                      extraErrors={serverErrors.length ? errorSchemaOf(serverErrors) : undefined}
                    />
                  </div>
                ))}
              </Stack>
            )}
            <Group justify="flex-end" mt="md">
              <Button onClick={() => run.mutate()} loading={run.isPending} disabled={!parsed.template} data-testid="editor-dry-run">
                Dry run
              </Button>
            </Group>
          </Paper>

          {run.error && <ErrorAlert error={run.error} title="The dry run was refused" />}
          {result && (
            <Paper withBorder p="md" component="section" aria-labelledby="dry-run-heading" data-testid="dry-run-result" data-failed={failedStep ? 'true' : 'false'}>
              <Title order={3} size="h5" id="dry-run-heading" mb="xs">
                Dry run {failedStep ? 'failed' : 'result'}
              </Title>
              <Text size="xs" fw={700} tt="uppercase" c="dimmed" mb={4}>
                Log
              </Text>
              <pre className="pave-task-log" data-testid="dry-run-log">
                {result.log.map((l, i) => (
                  <span key={i} className={l.body.status === 'failed' ? 'pave-task-log-failed' : undefined}>
                    {l.body.stepId ? `[${l.body.stepId}] ` : ''}
                    {l.body.message}
                    {'\n'}
                  </span>
                ))}
              </pre>
              <Text size="xs" fw={700} tt="uppercase" c="dimmed" mt="md" mb={4}>
                Files
              </Text>
              <FileBrowser key={run.submittedAt} result={result} />
              {((result.output?.links?.length ?? 0) > 0 || (result.output?.text?.length ?? 0) > 0) && (
                <>
                  <Text size="xs" fw={700} tt="uppercase" c="dimmed" mt="md" mb={4}>
                    Output
                  </Text>
                  <Stack gap={4}>
                    {result.output.links?.map((l, i) => (
                      <Text key={i} size="sm">
                        {l.title ?? 'Link'}:{' '}
                        {l.entityRef ? (
                          <Anchor component={Link} to={refPath(l.entityRef)} size="sm">
                            {humanizeRef(l.entityRef)}
                          </Anchor>
                        ) : (
                          <Code>{l.url}</Code>
                        )}
                      </Text>
                    ))}
                    {result.output.text?.map((t, i) => (
                      <Text key={i} size="sm">
                        <strong>{t.title}</strong> {t.content}
                      </Text>
                    ))}
                  </Stack>
                </>
              )}
            </Paper>
          )}
        </Stack>
      </div>
    </Stack>
  );
}
