import { useMemo, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import {
  Anchor,
  Badge,
  Breadcrumbs,
  Button,
  Code,
  Group,
  Loader,
  Paper,
  Select,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Textarea,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { ApiError } from '../api.ts';
import { CHANGE_STATUSES, changesPath, getRepo, repoPath, useChanges, useOpenChange, type ChangeStatus, type RepoDetails } from '../git.ts';
import { formatDate } from '../format.ts';
import { humanizeRef } from '../refs.ts';
import { useCan } from '../session.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageFallback } from '../components/PageFallback.tsx';
import { NotFoundPage } from './NotFoundPage.tsx';

const STATUS_LABEL: Record<ChangeStatus, string> = { open: 'Open', merged: 'Merged', closed: 'Closed' };
const STATUS_COLOR: Record<ChangeStatus, string> = { open: 'green', merged: 'violet', closed: 'gray' };

export function ChangeStatusBadge({ status, testId }: { status: ChangeStatus; testId?: string }) {
  return (
    <Badge color={STATUS_COLOR[status] ?? 'gray'} variant="filled" size="lg" data-testid={testId} data-status={status}>
      {STATUS_LABEL[status] ?? status}
    </Badge>
  );
}

/** The repository of a change request page: loaded, or the page that says why not. */
export function useRepoOfChanges(org: string, name: string) {
  return useQuery({ queryKey: ['git-repo', org, name], queryFn: ({ signal }) => getRepo(org, name, signal) });
}

export function RepoProblem({ org, name, error }: { org: string; name: string; error: unknown }) {
  if (error instanceof ApiError && error.status === 404) {
    return (
      <NotFoundPage title="Repository not found">
        <Text>
          Pave hosts no repository <Code>{`${org}/${name}`}</Code>.{' '}
          <Anchor component={Link} to="/repos">
            See the repositories
          </Anchor>
          .
        </Text>
      </NotFoundPage>
    );
  }
  return <ErrorAlert error={error} title="Could not load the repository" />;
}

/** The "New change request" form: a source branch proposed for merging into a target branch. */
function NewChangeForm({ repo, initialSource, onCancel }: { repo: RepoDetails; initialSource?: string; onCancel: () => void }) {
  const navigate = useNavigate();
  const branches = repo.branches.map((b) => b.name);
  const [target, setTarget] = useState<string>(branches.includes(repo.defaultBranch) ? repo.defaultBranch : (branches[0] ?? ''));
  const [source, setSource] = useState<string | null>(initialSource && branches.includes(initialSource) && initialSource !== target ? initialSource : null);
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [touched, setTouched] = useState(false);
  const open = useOpenChange(repo.org, repo.name);
  const sources = branches.filter((b) => b !== target);

  const sourceError = touched && !source ? 'Choose the branch with the changes' : undefined;
  const titleError = touched && !title.trim() ? 'Give the change request a title' : undefined;
  const existing = open.error instanceof ApiError && open.error.code === 'CHANGE_EXISTS' ? (open.error.details as { number?: number } | undefined)?.number : undefined;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!source || !title.trim()) return;
    open.mutate(
      { title: title.trim(), description: description.trim() || undefined, sourceBranch: source, targetBranch: target },
      { onSuccess: (change) => navigate(changesPath(repo.org, repo.name, change.number)) },
    );
  };

  return (
    <Paper withBorder p="lg" component="form" onSubmit={submit} aria-labelledby="change-new-heading" data-testid="change-form" noValidate>
      <Stack gap="sm">
        <Title order={3} size="h4" id="change-new-heading">
          New change request
        </Title>
        {sources.length === 0 ? (
          <Text size="sm" c="dimmed">
            {repo.org}/{repo.name} has no other branch than <Code>{target}</Code>: push a branch with your changes first.
          </Text>
        ) : (
          <Group gap="sm" align="flex-start" wrap="wrap">
            <Select
              label="Merge changes from"
              description="The branch with your changes"
              placeholder="Choose a branch"
              data={sources}
              value={source}
              onChange={setSource}
              searchable
              required
              error={sourceError}
              data-testid="change-source"
              w={280}
            />
            <Select
              label="Into"
              description="The branch they go to"
              data={branches}
              value={target}
              onChange={(v) => {
                if (!v) return;
                setTarget(v);
                if (v === source) setSource(null);
              }}
              allowDeselect={false}
              searchable
              data-testid="change-target"
              w={280}
            />
          </Group>
        )}
        <TextInput label="Title" required value={title} onChange={(e) => setTitle(e.currentTarget.value)} error={titleError} data-testid="change-title" maxLength={300} />
        <Textarea
          label="Description"
          description="What changes and why: reviewers read this first"
          autosize
          minRows={3}
          maxRows={12}
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
          data-testid="change-description"
        />
        {open.error && (
          <Stack gap={4} data-testid="change-new-error" data-code={open.error instanceof ApiError ? open.error.code : undefined}>
            <ErrorAlert error={open.error} title="Could not open the change request" />
            {existing !== undefined && (
              <Anchor component={Link} to={changesPath(repo.org, repo.name, existing)} size="sm">
                Open change request #{existing}
              </Anchor>
            )}
          </Stack>
        )}
        <Group gap="sm">
          <Button type="submit" loading={open.isPending} disabled={sources.length === 0} data-testid="change-submit">
            Open change request
          </Button>
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

/** `/repos/:org/:name/changes`: a repository's change requests, by status, and a form to open one. */
export default function ChangeRequestsPage() {
  const { org = '', name = '' } = useParams();
  const [params, setParams] = useSearchParams();
  useDocumentTitle(`Change requests · ${org}/${name} · Pave`);
  const repo = useRepoOfChanges(org, name);
  const changes = useChanges(org, name);
  const canOpen = useCan('git.change.create').allowed;
  const status = (CHANGE_STATUSES as string[]).includes(params.get('status') ?? '') ? (params.get('status') as ChangeStatus) : 'open';
  const creating = params.get('new') !== null;

  const byStatus = useMemo(() => {
    const out: Record<ChangeStatus, NonNullable<typeof changes.data>['items']> = { open: [], merged: [], closed: [] };
    for (const c of changes.data?.items ?? []) out[c.status]?.push(c);
    return out;
  }, [changes.data]);

  const setQuery = (q: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(q)) {
      if (v === undefined) next.delete(k);
      else next.set(k, v);
    }
    setParams(next, { replace: true });
  };

  if (repo.isLoading) return <PageFallback />;
  if (repo.error || !repo.data) return <RepoProblem org={org} name={name} error={repo.error} />;
  const r = repo.data;
  const items = byStatus[status];

  return (
    <Stack gap="md">
      <Breadcrumbs aria-label="Breadcrumb" separator="›">
        <Anchor component={Link} to="/repos" size="sm">
          Repositories
        </Anchor>
        <Anchor component={Link} to={repoPath(r.org, r.name)} size="sm">
          {r.org}/{r.name}
        </Anchor>
        <Text size="sm" aria-current="page">
          Change requests
        </Text>
      </Breadcrumbs>

      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Change requests</Title>
          <Text c="dimmed" size="sm">
            Branches of {r.org}/{r.name} proposed for merging, with their review.
          </Text>
        </div>
        {canOpen && !creating && (
          <Button onClick={() => setQuery({ new: '1' })} data-testid="change-new">
            New change request
          </Button>
        )}
      </Group>

      {creating && canOpen && <NewChangeForm repo={r} initialSource={params.get('source') ?? undefined} onCancel={() => setQuery({ new: undefined, source: undefined })} />}

      <Paper withBorder>
        <Tabs value={status} onChange={(v) => v && setQuery({ status: v === 'open' ? undefined : v })}>
          <Tabs.List px="sm">
            {CHANGE_STATUSES.map((s) => (
              <Tabs.Tab
                key={s}
                value={s}
                data-testid="change-tab"
                data-status={s}
                rightSection={
                  changes.data && (
                    <Badge size="sm" variant="light" color="gray" data-testid="change-tab-count">
                      {byStatus[s].length}
                    </Badge>
                  )
                }
              >
                {STATUS_LABEL[s]}
              </Tabs.Tab>
            ))}
          </Tabs.List>
        </Tabs>
        {changes.error ? (
          <ErrorAlert error={changes.error} title="Could not list the change requests" />
        ) : !changes.data ? (
          <Group justify="center" py="lg">
            <Loader aria-label="Loading change requests" />
          </Group>
        ) : items.length === 0 ? (
          <Stack gap={4} py="lg" align="center" data-testid="change-empty">
            <Text fw={600}>No {STATUS_LABEL[status].toLowerCase()} change requests</Text>
            {status === 'open' && (
              <Text size="sm" c="dimmed">
                Push a branch, then open a change request to merge it into {r.defaultBranch}.
              </Text>
            )}
          </Stack>
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table highlightOnHover verticalSpacing="sm" className="pave-table-wrap">
              <VisuallyHidden component="caption">{STATUS_LABEL[status]} change requests</VisuallyHidden>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Change request</Table.Th>
                  <Table.Th>Branches</Table.Th>
                  <Table.Th>Author</Table.Th>
                  <Table.Th>{status === 'merged' ? 'Merged' : 'Updated'}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((c) => (
                  <Table.Tr key={c.number} data-testid="change-row" data-number={c.number} data-status={c.status}>
                    <Table.Td>
                      <Anchor component={Link} to={changesPath(r.org, r.name, c.number)} fw={600} size="sm">
                        {c.title}
                      </Anchor>
                      <Text size="xs" c="dimmed">
                        #{c.number} opened {formatDate(c.createdAt)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" ff="monospace" className="pave-change-branches">
                        {c.sourceBranch} → {c.targetBranch}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{c.author ? humanizeRef(c.author, { kind: 'user' }) : 'unknown'}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" c="dimmed">
                        {formatDate(c.status === 'merged' ? (c.mergedAt ?? c.updatedAt) : c.updatedAt)}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Paper>
    </Stack>
  );
}
