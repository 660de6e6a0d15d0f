import { useCallback, useMemo, useState } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router-dom';
import { useMutation } from '@tanstack/react-query';
import { Alert, Anchor, Breadcrumbs, Button, Code, Group, Paper, Stack, Stepper, Table, Text, Title } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { ApiError } from '../api.ts';
import {
  createTask,
  errorSchemaOf,
  reviewEntries,
  secretFields,
  splitSecrets,
  stepOfField,
  useParameterSchema,
  type JsonObject,
  type ParameterError,
  type ParameterStep,
  type TemplateParameterSchema,
} from '../scaffolder.ts';
import { useCan } from '../session.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { NotAllowed } from '../components/NotAllowed.tsx';
import { NotFoundPage } from './NotFoundPage.tsx';
import { PageFallback } from '../components/PageFallback.tsx';
import { ParameterForm } from '../components/fields/FormTheme.tsx';
import { parseRepoPickerUrl } from '../components/fields/RepoUrlPicker.tsx';

interface ButtonLabels {
  backButtonText?: string;
  createButtonText?: string;
  reviewButtonText?: string;
}

/** The fields whose values changed between two versions of the form. */
function changedFields(before: JsonObject, after: JsonObject): Set<string> {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return new Set([...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])));
}

/** The field a taken repository name came from: a RepoUrlPicker value naming it, or a value equal to it. */
function fieldNamingRepo(values: JsonObject, repo: { org?: string; name?: string }): string | undefined {
  const entries = Object.entries(values);
  const picker = entries.find(([, v]) => {
    const p = parseRepoPickerUrl(v);
    return typeof v === 'string' && v.includes('?') && p.repo.toLowerCase() === repo.name && (!repo.org || p.owner.toLowerCase() === repo.org);
  });
  if (picker) return picker[0];
  return entries.find(([, v]) => typeof v === 'string' && v.toLowerCase() === repo.name)?.[0];
}

/**
 * A template's form: one page per `parameters` entry (a stepper), a review of the values (secrets
 * masked), then Create, which starts the run and opens it.
 */
function TemplateWizard({ templateRef, parameters, initialValues }: { templateRef: string; parameters: TemplateParameterSchema; initialValues?: JsonObject }) {
  const navigate = useNavigate();
  const steps: ParameterStep[] = parameters.steps;
  const secretNames = useMemo(() => secretFields(steps), [steps]);
  const [active, setActive] = useState(0);
  const [formData, setFormData] = useState<JsonObject>(() => {
    // Secrets are never prefilled (a run's stored values do not hold them).
    const start = { ...(initialValues ?? {}) };
    for (const s of secretNames) delete start[s];
    return start;
  });
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [serverErrors, setServerErrors] = useState<ParameterError[]>([]);
  const labels = ((parameters as { presentation?: { buttonLabels?: ButtonLabels } }).presentation?.buttonLabels ?? {}) as ButtonLabels;
  const reviewIndex = steps.length;

  const setSecret = useCallback((name: string, value: string) => setSecrets((s) => ({ ...s, [name]: value })), []);
  const secretsContext = useMemo(() => ({ secrets, setSecret }), [secrets, setSecret]);

  const create = useMutation({
    mutationFn: () => createTask({ templateRef, ...splitSecrets(formData, secrets, secretNames) }),
    onSuccess: ({ id }) => navigate(`/create/tasks/${encodeURIComponent(id)}`),
    onError: (e) => {
      if (!(e instanceof ApiError)) return;
      if (e.code === 'TEMPLATE_PARAMETERS_INVALID') {
        const errors = ((e.details as { errors?: ParameterError[] } | undefined)?.errors ?? []).filter((x) => x && typeof x.field === 'string');
        setServerErrors(errors);
        const first = errors.map((x) => stepOfField(steps, x.field)).filter((i) => i >= 0);
        if (first.length) setActive(Math.min(...first));
      } else if (e.code === 'GIT_REPO_EXISTS') {
        const details = (e.details ?? {}) as { org?: string; name?: string };
        const field = fieldNamingRepo(formData, { org: details.org?.toLowerCase(), name: details.name?.toLowerCase() });
        if (field) {
          setServerErrors([{ field, message: `${details.org}/${details.name} already exists on this Pave: choose another name` }]);
          const step = stepOfField(steps, field);
          if (step >= 0) setActive(step);
        }
      }
    },
  });

  const onChange = (next: JsonObject) => {
    const changed = changedFields(formData, next);
    if (changed.size && serverErrors.length) setServerErrors((errs) => errs.filter((e) => !changed.has(e.field.split('.')[0]!)));
    setFormData(next);
  };

  const createError = create.error;
  const conflict = createError instanceof ApiError && createError.code === 'GIT_REPO_EXISTS' ? createError : undefined;
  const createErrorAlert = createError && (
    <div data-testid="create-error" data-code={createError instanceof ApiError ? createError.code : undefined}>
      {conflict ? (
        <Alert color="orange" variant="light" title="That name is taken" role="alert">
          <Text size="sm">{conflict.message}</Text>
          <Text size="sm" mt={4}>
            Nothing was created. Change the name and create again.
          </Text>
        </Alert>
      ) : (
        <ErrorAlert error={createError} title={createError instanceof ApiError && createError.code === 'TEMPLATE_PARAMETERS_INVALID' ? 'Pave refused some values' : 'Could not start the run'} />
      )}
    </div>
  );

  const entries = reviewEntries(steps, formData, secretNames);

  return (
    <Stack gap="md">
      <Stepper active={active} onStepClick={setActive} allowNextStepsSelect={false} size="sm" aria-label="Form pages" className="pave-form-stepper">
        {steps.map((s, i) => (
          <Stepper.Step key={i} label={s.title} data-testid="form-step" />
        ))}
        <Stepper.Step label="Review" data-testid="form-step" />
      </Stepper>

      <Paper withBorder p="lg" component="section" aria-labelledby="form-page-title">
        {active < reviewIndex ? (
          <Stack gap="md">
            <div>
              <Title order={3} size="h4" id="form-page-title">
                {steps[active]!.title}
              </Title>
              {steps[active]!.description && (
                <Text size="sm" c="dimmed">
                  {steps[active]!.description}
                </Text>
              )}
            </div>
            {serverErrors.length > 0 && createErrorAlert}
            <ParameterForm
              key={active}
              idPrefix={`page${active}`}
              step={steps[active]!}
              formData={formData}
              onChange={onChange}
              onSubmit={(data) => {
                setFormData(data);
                setActive(active + 1);
              }}
              extraErrors={serverErrors.length ? errorSchemaOf(serverErrors) : undefined}
              secrets={secretsContext}
            >
              <Group justify="space-between" mt="lg">
                <Button variant="default" disabled={active === 0} onClick={() => setActive(active - 1)}>
                  {labels.backButtonText ?? 'Back'}
                </Button>
                <Button type="submit" data-testid="form-next">
                  {active === reviewIndex - 1 ? (labels.reviewButtonText ?? 'Review') : 'Next'}
                </Button>
              </Group>
            </ParameterForm>
          </Stack>
        ) : (
          <Stack gap="md">
            <div>
              <Title order={3} size="h4" id="form-page-title">
                Review
              </Title>
              <Text size="sm" c="dimmed">
                Check the values, then create. Secrets are sent apart from the values and are never shown or stored with the run.
              </Text>
            </div>
            {entries.length === 0 ? (
              <Text c="dimmed">No values.</Text>
            ) : (
              <Table withTableBorder className="pave-review" data-testid="review">
                <Table.Tbody>
                  {entries.map((e) => (
                    <Table.Tr key={e.name} data-testid="review-row" data-field={e.name}>
                      <Table.Th scope="row" w="30%">
                        {e.label}
                      </Table.Th>
                      <Table.Td>
                        {e.secret ? (
                          <Text size="sm" c="dimmed" data-secret="true">
                            {e.value}
                          </Text>
                        ) : (
                          <Code style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>{e.value}</Code>
                        )}
                      </Table.Td>
                      <Table.Td w={80}>
                        <Anchor component="button" type="button" size="sm" onClick={() => setActive(e.step)} aria-label={`Change ${e.label}`}>
                          Change
                        </Anchor>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
            {createErrorAlert}
            <Group justify="space-between">
              <Button variant="default" onClick={() => setActive(reviewIndex - 1)} disabled={create.isPending}>
                {labels.backButtonText ?? 'Back'}
              </Button>
              <Button onClick={() => create.mutate()} loading={create.isPending} data-testid="form-create">
                {labels.createButtonText ?? 'Create'}
              </Button>
            </Group>
          </Stack>
        )}
      </Paper>
    </Stack>
  );
}

/** `/create/templates/:namespace/:name`: the form of a template, then its run. */
export default function TemplateFormPage() {
  const { namespace = 'default', name = '' } = useParams();
  const location = useLocation();
  const schema = useParameterSchema(namespace, name);
  const canCreate = useCan('scaffolder.task.create');
  useDocumentTitle(`${schema.data?.title ?? name} · Create · Pave`);
  const initialValues = (location.state as { formData?: JsonObject } | null)?.formData;

  if (schema.isLoading || canCreate.loading) return <PageFallback />;
  if (!canCreate.allowed) return <NotAllowed what="Running a template" permission="scaffolder.task.create" />;
  if (schema.error instanceof ApiError && schema.error.status === 404) {
    return (
      <NotFoundPage title="Template not found">
        <Text>
          There is no template named <Code>{name}</Code> in namespace <Code>{namespace}</Code>.{' '}
          <Anchor component={Link} to="/create">
            See the templates
          </Anchor>
          .
        </Text>
      </NotFoundPage>
    );
  }
  if (schema.error || !schema.data) return <ErrorAlert error={schema.error} title="Could not load the template's form" />;

  return (
    <Stack gap="md">
      <Breadcrumbs aria-label="Breadcrumb" separator="›">
        <Anchor component={Link} to="/create" size="sm">
          Create
        </Anchor>
        <Text size="sm" aria-current="page">
          {schema.data.title}
        </Text>
      </Breadcrumbs>
      <div>
        <Title order={2} data-testid="template-title">
          {schema.data.title}
        </Title>
        {schema.data.description && (
          <Text c="dimmed" size="sm">
            {schema.data.description}
          </Text>
        )}
      </div>
      <TemplateWizard key={`${namespace}/${name}`} templateRef={`template:${namespace}/${name}`} parameters={schema.data} initialValues={initialValues} />
    </Stack>
  );
}
