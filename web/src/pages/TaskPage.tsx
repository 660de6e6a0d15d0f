import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Anchor, Badge, Breadcrumbs, Button, Code, Collapse, Group, Loader, Pagination, Paper, SegmentedControl, Stack, Table, Text, Title, UnstyledButton, VisuallyHidden } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { ApiError } from '../api.ts';
import {
  cancelTask,
  isFinal,
  listTasks,
  retryTask,
  useTask,
  useTaskEvents,
  type LogLine,
  type OutputLink,
  type ScaffolderTask,
  type StepStatus,
  type TaskStatus,
} from '../scaffolder.ts';
import { humanizeRef, parseRef, refPath } from '../refs.ts';
import { portalPathOfGitUrl } from '../git.ts';
import { useSession } from '../session.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { NotFoundPage } from './NotFoundPage.tsx';
import { PageFallback } from '../components/PageFallback.tsx';

const STATUS_COLORS: Record<TaskStatus | StepStatus, string> = {
  open: 'gray',
  processing: 'blue',
  completed: 'teal',
  failed: 'red',
  cancelled: 'orange',
  skipped: 'gray',
};

const STATUS_LABELS: Record<TaskStatus | StepStatus, string> = {
  open: 'Waiting',
  processing: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
  skipped: 'Skipped',
};

function TaskStatusBadge({ status, testId }: { status: TaskStatus; testId?: string }) {
  return (
    <Badge color={STATUS_COLORS[status]} variant="light" data-testid={testId} data-status={status}>
      {STATUS_LABELS[status]}
    </Badge>
  );
}

function StepIcon({ status }: { status: StepStatus }) {
  const label = STATUS_LABELS[status];
  if (status === 'processing') return <Loader size={18} aria-label={label} />;
  const paths: Record<Exclude<StepStatus, 'processing'>, string> = {
    open: 'M12 12m-8 0a8 8 0 1 0 16 0a8 8 0 1 0 -16 0',
    completed: 'M5 12l5 5L20 7',
    failed: 'M6 6l12 12M18 6L6 18',
    cancelled: 'M5 12h14',
    skipped: 'M5 12h2M11 12h2M17 12h2',
  };
  return (
    <svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke={`var(--mantine-color-${STATUS_COLORS[status]}-7)`} strokeWidth="2.5" strokeLinecap="round" role="img" aria-label={label}>
      <path d={paths[status]} />
    </svg>
  );
}

function duration(start?: string, end?: string): string | undefined {
  if (!start || !end) return undefined;
  const ms = new Date(end).getTime() - new Date(start).getTime();
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function LogPanel({ lines, stepId, live }: { lines: LogLine[]; stepId: string; live: boolean }) {
  const ref = useRef<HTMLPreElement>(null);
  // Follow the end of a log that is still being written.
  useEffect(() => {
    if (live && ref.current) ref.current.scrollTop = ref.current.scrollHeight;
  }, [lines.length, live]);
  return (
    <pre className="pave-task-log" data-testid="task-log" data-step-id={stepId} ref={ref} tabIndex={0} aria-label={`Log of ${stepId || 'the run'}`}>
      {lines.length === 0 ? (
        <span className="pave-task-log-empty">No output yet.</span>
      ) : (
        lines.map((l) => (
          <span key={l.id} className="pave-task-log-line">
            <span className="pave-task-log-time">{new Date(l.at).toLocaleTimeString('en-GB')}</span>
            {l.message}
            {'\n'}
          </span>
        ))
      )}
    </pre>
  );
}

function OutputLinkItem({ link }: { link: OutputLink }) {
  if (link.entityRef) {
    const ref = parseRef(link.entityRef);
    return (
      <Button component={Link} to={refPath(link.entityRef)} variant="light" data-testid="task-output-link" data-entity-ref={link.entityRef}>
        {link.title ?? humanizeRef(link.entityRef, { kind: ref.kind })}
      </Button>
    );
  }
  if (!link.url) return null;
  // This Pave's own URLs open in the portal: a repository it hosts opens its page.
  const internal = portalPathOfGitUrl(link.url) ?? (link.url.startsWith('/') && !link.url.startsWith('//') && !link.url.startsWith('/api/') ? link.url : undefined);
  return internal ? (
    <Button component={Link} to={internal} variant="light" data-testid="task-output-link" data-url={link.url}>
      {link.title ?? link.url}
    </Button>
  ) : (
    <Button component="a" href={link.url} target="_blank" rel="noreferrer" variant="light" data-testid="task-output-link" data-url={link.url}>
      {link.title ?? link.url} ↗
    </Button>
  );
}

function TaskView({ task }: { task: ScaffolderTask }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const run = useTaskEvents(task.id);
  const [collapsed, setCollapsed] = useState<Record<string, boolean>>({});
  // The stream is the live truth; the task (polled) covers a stream that could not be opened.
  const status: TaskStatus = run.status && !(isFinal(task.status) && !isFinal(run.status)) ? run.status : task.status;
  const running = status === 'open' || status === 'processing';
  const title = task.spec.templateInfo.entity?.metadata?.title ?? humanizeRef(task.spec.templateInfo.entityRef, { kind: 'template' });
  useDocumentTitle(`Run of ${title} · Pave`);

  const refreshTask = () => void queryClient.invalidateQueries({ queryKey: ['task', task.id] });
  useEffect(refreshTask, [run.status]); // eslint-disable-line react-hooks/exhaustive-deps

  const cancel = useMutation({ mutationFn: () => cancelTask(task.id), onSuccess: refreshTask });
  const retry = useMutation({
    mutationFn: () => retryTask(task.id),
    onSuccess: () => {
      // The run is open again now: the stream's events of the new run must not lose to the
      // cancelled or failed status the page last fetched while the task is fetched again.
      queryClient.setQueryData<ScaffolderTask>(['task', task.id], (t) => t && { ...t, status: 'open' });
      run.reopen();
      refreshTask();
    },
  });

  const templateRef = parseRef(task.spec.templateInfo.entityRef, { kind: 'template' });
  const startOver = () =>
    navigate(`/create/templates/${encodeURIComponent(templateRef.namespace)}/${encodeURIComponent(templateRef.name)}`, { state: { formData: task.spec.parameters } });
  const output = run.output;
  const runLog = run.logs[''] ?? [];

  return (
    <Stack gap="md">
      <Breadcrumbs aria-label="Breadcrumb" separator="›">
        <Anchor component={Link} to="/create" size="sm">
          Create
        </Anchor>
        <Anchor component={Link} to="/create/tasks" size="sm">
          Runs
        </Anchor>
        <Text size="sm" aria-current="page" ff="monospace">
          {task.id.slice(0, 8)}
        </Text>
      </Breadcrumbs>

      <Paper withBorder p="lg">
        <Group justify="space-between" align="flex-start">
          <div>
            <Title order={2}>Run of {title}</Title>
            <Text size="sm" c="dimmed">
              Started {new Date(task.createdAt).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' })}
              {task.createdBy ? ` by ${humanizeRef(task.createdBy, { kind: 'user' })}` : ''} ·{' '}
              <Anchor component={Link} to={refPath(task.spec.templateInfo.entityRef, { kind: 'template' })} size="sm">
                {humanizeRef(task.spec.templateInfo.entityRef, { kind: 'template' })}
              </Anchor>
            </Text>
          </div>
          <Group gap="xs">
            <TaskStatusBadge status={status} testId="task-status" />
            {running && (
              <Button size="xs" color="red" variant="light" onClick={() => cancel.mutate()} loading={cancel.isPending} data-testid="task-cancel">
                Cancel
              </Button>
            )}
            {(status === 'failed' || status === 'cancelled') && (
              <Button size="xs" onClick={() => retry.mutate()} loading={retry.isPending} data-testid="task-retry">
                Retry
              </Button>
            )}
            {isFinal(status) && (
              <Button size="xs" variant="default" onClick={startOver}>
                Start over
              </Button>
            )}
          </Group>
        </Group>
        {!run.connected && running && (
          <Text size="xs" c="dimmed" mt="xs" role="status">
            Connecting to the run's event stream…
          </Text>
        )}
      </Paper>

      {cancel.error && <ErrorAlert error={cancel.error} title="Could not cancel the run" />}
      {retry.error && <ErrorAlert error={retry.error} title="Could not retry the run" />}
      {status === 'failed' && (
        <Alert color="red" variant="light" title="The run failed" role="alert" data-testid="task-error">
          <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
            {run.error ?? 'See the log of the failed step below.'}
          </Text>
        </Alert>
      )}

      {status === 'completed' && output && ((output.links?.length ?? 0) > 0 || (output.text?.length ?? 0) > 0) && (
        <Paper withBorder p="lg" component="section" aria-labelledby="task-output-heading" data-testid="task-output">
          <Title order={3} size="h4" id="task-output-heading" mb="sm">
            Output
          </Title>
          {(output.links?.length ?? 0) > 0 && (
            <Group gap="sm" mb={output.text?.length ? 'md' : 0}>
              {output.links!.map((l, i) => (
                <OutputLinkItem key={i} link={l} />
              ))}
            </Group>
          )}
          {output.text?.map((t, i) => (
            <div key={i}>
              {t.title && (
                <Text fw={600} size="sm">
                  {t.title}
                </Text>
              )}
              <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
                {t.content}
              </Text>
            </div>
          ))}
        </Paper>
      )}

      <Paper withBorder p="lg" component="section" aria-labelledby="task-steps-heading">
        <Title order={3} size="h4" id="task-steps-heading" mb="sm">
          Steps
        </Title>
        <ol className="pave-task-steps">
          {task.spec.steps.map((step) => {
            const s = run.steps[step.id];
            const stepStatus: StepStatus = s?.status ?? 'open';
            const lines = run.logs[step.id] ?? [];
            const open = collapsed[step.id] === undefined ? true : !collapsed[step.id];
            const took = duration(s?.startedAt, s?.endedAt);
            return (
              <li key={step.id} data-testid="task-step" data-step-id={step.id} data-status={stepStatus} className="pave-task-step">
                <UnstyledButton
                  className="pave-task-step-header"
                  onClick={() => setCollapsed((c) => ({ ...c, [step.id]: open }))}
                  aria-expanded={open}
                  aria-controls={`task-log-${step.id}`}
                >
                  <Group gap="sm" wrap="nowrap">
                    <StepIcon status={stepStatus} />
                    <div style={{ flexGrow: 1 }}>
                      <Text fw={600} size="sm">
                        {step.name}
                      </Text>
                      <Text size="xs" c="dimmed" ff="monospace">
                        {step.action}
                      </Text>
                    </div>
                    <Text size="xs" c="dimmed">
                      {STATUS_LABELS[stepStatus]}
                      {took ? ` · ${took}` : ''}
                    </Text>
                  </Group>
                </UnstyledButton>
                <Collapse expanded={open} keepMounted={false} id={`task-log-${step.id}`}>
                  <LogPanel lines={lines} stepId={step.id} live={stepStatus === 'processing'} />
                </Collapse>
              </li>
            );
          })}
        </ol>
        {runLog.length > 0 && (
          <>
            <Text fw={600} size="sm" mt="md" mb={4}>
              Run
            </Text>
            <LogPanel lines={runLog} stepId="" live={false} />
          </>
        )}
      </Paper>

      {Object.keys(task.spec.parameters ?? {}).length > 0 && (
        <Paper withBorder p="lg" component="section" aria-labelledby="task-values-heading">
          <Title order={3} size="h4" id="task-values-heading" mb="sm">
            Values
          </Title>
          <Code block className="pave-yaml">
            {JSON.stringify(task.spec.parameters, null, 2)}
          </Code>
        </Paper>
      )}
    </Stack>
  );
}

/** `/create/tasks/:taskId`: a run, live. */
export default function TaskPage() {
  const { taskId = '' } = useParams();
  const task = useTask(taskId);
  if (task.isLoading) return <PageFallback />;
  if (task.error instanceof ApiError && task.error.status === 404) {
    return (
      <NotFoundPage title="Run not found">
        <Text>
          There is no run <Code>{taskId}</Code>.{' '}
          <Anchor component={Link} to="/create/tasks">
            See your runs
          </Anchor>
          .
        </Text>
      </NotFoundPage>
    );
  }
  if (task.error || !task.data) return <ErrorAlert error={task.error} title="Could not load the run" />;
  return <TaskView key={taskId} task={task.data} />;
}

const RUNS_PER_PAGE = 20;

/** `/create/tasks`: runs of templates, the signed-in person's by default, newest first. */
export function TaskListPage() {
  useDocumentTitle('Runs · Create · Pave');
  const session = useSession();
  const me = session.data?.principal?.ref;
  const [whose, setWhose] = useState<'mine' | 'all'>('mine');
  const [page, setPage] = useState(1);
  const createdBy = whose === 'mine' ? me : undefined;
  const tasks = useQuery({
    queryKey: ['tasks', createdBy ?? '*', page],
    queryFn: ({ signal }) => listTasks({ createdBy, limit: RUNS_PER_PAGE, offset: (page - 1) * RUNS_PER_PAGE }, signal),
    enabled: !session.isLoading,
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.tasks.some((t) => !isFinal(t.status)) ? 3000 : false),
  });
  const total = tasks.data?.totalTasks ?? 0;

  return (
    <Stack gap="lg">
      <Breadcrumbs aria-label="Breadcrumb" separator="›">
        <Anchor component={Link} to="/create" size="sm">
          Create
        </Anchor>
        <Text size="sm" aria-current="page">
          Runs
        </Text>
      </Breadcrumbs>
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>{whose === 'mine' ? 'My runs' : 'All runs'}</Title>
          <Text c="dimmed" size="sm">
            Templates run from the portal, the CLI or the API, newest first.
          </Text>
        </div>
        <SegmentedControl
          aria-label="Whose runs"
          value={whose}
          onChange={(v) => {
            setWhose(v as 'mine' | 'all');
            setPage(1);
          }}
          data={[
            { value: 'mine', label: 'Mine' },
            { value: 'all', label: 'All' },
          ]}
        />
      </Group>
      <Paper withBorder p="md">
        {tasks.error ? (
          <ErrorAlert error={tasks.error} title="Could not load the runs" />
        ) : tasks.isLoading ? (
          <Group justify="center" py="lg">
            <Loader aria-label="Loading runs" />
          </Group>
        ) : total === 0 ? (
          <Stack gap={4} py="md" align="center">
            <Text fw={600}>No runs yet</Text>
            <Text size="sm" c="dimmed">
              <Anchor component={Link} to="/create" size="sm">
                Choose a template
              </Anchor>{' '}
              to start one.
            </Text>
          </Stack>
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table striped highlightOnHover verticalSpacing="xs" className="pave-table-wrap">
              <VisuallyHidden component="caption">Template runs</VisuallyHidden>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Run</Table.Th>
                  <Table.Th>Template</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Started by</Table.Th>
                  <Table.Th>Started</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {tasks.data!.tasks.map((t) => (
                  <Table.Tr key={t.id} data-testid="task-row" data-task-id={t.id} data-status={t.status}>
                    <Table.Td>
                      <Anchor component={Link} to={`/create/tasks/${encodeURIComponent(t.id)}`} ff="monospace" size="sm">
                        {t.id.slice(0, 8)}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{t.spec.templateInfo.entity?.metadata?.title ?? humanizeRef(t.spec.templateInfo.entityRef, { kind: 'template' })}</Text>
                    </Table.Td>
                    <Table.Td>
                      <TaskStatusBadge status={t.status} />
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{t.createdBy ? humanizeRef(t.createdBy, { kind: 'user' }) : '—'}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" c="dimmed">
                        {new Date(t.createdAt).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' })}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {total > RUNS_PER_PAGE && (
          <Group justify="center" mt="md">
            <Pagination total={Math.ceil(total / RUNS_PER_PAGE)} value={page} onChange={setPage} aria-label="Pages of runs" />
          </Group>
        )}
      </Paper>
    </Stack>
  );
}
