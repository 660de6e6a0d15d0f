import { useMemo, useState, type ReactNode } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import {
  Anchor,
  Badge,
  Breadcrumbs,
  Button,
  Code,
  CopyButton,
  Group,
  Loader,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { ApiError } from '../api.ts';
import { changesPath, getBlobText, getCommits, getRepo, getTree, repoPath, useChanges, useRepos, type TreeEntry } from '../git.ts';
import { useCan } from '../session.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { RepoProblem } from './ChangeRequestsPage.tsx';
import { PageFallback } from '../components/PageFallback.tsx';
import { CommitList } from '../components/CommitList.tsx';
import { RefLink } from '../components/RefLink.tsx';
import { formatDate } from '../format.ts';

const COMMITS_SHOWN = 20;
const README = /^readme(\.(md|markdown|txt))?$/i;

function formatSize(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// ---------------------------------------------------------------- a small Markdown reader

/** `code`, **bold**, *emphasis* and [links](https://…) of one line, as React text (never HTML). */
function inline(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  const pattern = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*|_[^_\s][^_]*_)|(\[[^\]]+\]\([^)\s]+\))/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = pattern.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const token = m[0];
    const key = out.length;
    if (m[1]) out.push(<code key={key}>{token.slice(1, -1)}</code>);
    else if (m[2]) out.push(<strong key={key}>{token.slice(2, -2)}</strong>);
    else if (m[3]) out.push(<em key={key}>{token.slice(1, -1)}</em>);
    else {
      const [, label, href] = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(token)!;
      out.push(
        /^https?:\/\//.test(href!) ? (
          <a key={key} href={href} target="_blank" rel="noreferrer">
            {label}
          </a>
        ) : (
          label
        ),
      );
    }
    last = m.index + token.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Headings, paragraphs, lists, quotes and fenced code of a README: enough to read one. */
function Markdown({ source }: { source: string }) {
  const blocks = useMemo(() => {
    const lines = source.replace(/\r\n?/g, '\n').split('\n');
    const out: ReactNode[] = [];
    let i = 0;
    while (i < lines.length) {
      const line = lines[i]!;
      const fence = /^(```|~~~)/.exec(line);
      if (fence) {
        const body: string[] = [];
        i++;
        while (i < lines.length && !lines[i]!.startsWith(fence[1]!)) body.push(lines[i++]!);
        i++;
        out.push(<pre key={out.length}>{body.join('\n')}</pre>);
        continue;
      }
      const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
      if (heading) {
        const level = Math.min(heading[1]!.length + 1, 6);
        const Tag = `h${level}` as 'h2';
        out.push(<Tag key={out.length}>{inline(heading[2]!)}</Tag>);
        i++;
        continue;
      }
      if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
        const ordered = /^\s*\d/.test(line);
        const items: string[] = [];
        while (i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i]!)) items.push(lines[i++]!.replace(/^\s*([-*+]|\d+[.)])\s+/, ''));
        const List = ordered ? 'ol' : 'ul';
        out.push(
          <List key={out.length}>
            {items.map((it, j) => (
              <li key={j}>{inline(it)}</li>
            ))}
          </List>,
        );
        continue;
      }
      if (/^>\s?/.test(line)) {
        const quote: string[] = [];
        while (i < lines.length && /^>\s?/.test(lines[i]!)) quote.push(lines[i++]!.replace(/^>\s?/, ''));
        out.push(<blockquote key={out.length}>{inline(quote.join(' '))}</blockquote>);
        continue;
      }
      if (/^\s*$/.test(line)) {
        i++;
        continue;
      }
      const para: string[] = [];
      while (i < lines.length && !/^\s*$/.test(lines[i]!) && !/^(#{1,6}\s|```|~~~|>|\s*([-*+]|\d+[.)])\s)/.test(lines[i]!)) para.push(lines[i++]!);
      out.push(<p key={out.length}>{inline(para.join(' '))}</p>);
    }
    return out;
  }, [source]);
  return <>{blocks}</>;
}

// ---------------------------------------------------------------- the repository page

function PathBreadcrumbs({ name, path, hrefFor }: { name: string; path: string; hrefFor: (path: string) => string }) {
  const parts = path ? path.split('/') : [];
  return (
    <Breadcrumbs separator="/" aria-label="Folder" className="pave-repo-path">
      <Anchor component={Link} to={hrefFor('')} size="sm" fw={600}>
        {name}
      </Anchor>
      {parts.map((p, i) =>
        i === parts.length - 1 ? (
          <Text key={i} size="sm" aria-current="page">
            {p}
          </Text>
        ) : (
          <Anchor key={i} component={Link} to={hrefFor(parts.slice(0, i + 1).join('/'))} size="sm">
            {p}
          </Anchor>
        ),
      )}
    </Breadcrumbs>
  );
}

function FolderIcon({ folder }: { folder: boolean }) {
  return (
    <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <path d={folder ? 'M3 6a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z' : 'M14 3H6a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9zM14 3v6h6'} />
    </svg>
  );
}

function FileView({ org, name, gitRef, path }: { org: string; name: string; gitRef: string; path: string }) {
  const blob = useQuery({ queryKey: ['git-blob', org, name, gitRef, path], queryFn: ({ signal }) => getBlobText(org, name, gitRef, path, signal) });
  const raw = `/api/git/repos/${encodeURIComponent(org)}/${encodeURIComponent(name)}/blob?${new URLSearchParams({ ref: gitRef, path })}`;
  return (
    <Paper withBorder component="section" aria-label={`File ${path}`} data-testid="repo-file-view" data-path={path} className="pave-repo-file-view">
      <Group justify="space-between" px="md" py="xs" className="pave-repo-file-header">
        <Text size="sm" fw={600} ff="monospace">
          {path}
        </Text>
        <Anchor href={raw} target="_blank" rel="noreferrer" size="sm">
          Raw ↗
        </Anchor>
      </Group>
      {blob.error ? (
        <ErrorAlert error={blob.error} title="Could not read the file" />
      ) : !blob.data ? (
        <Group justify="center" py="lg">
          <Loader size="sm" aria-label="Loading the file" />
        </Group>
      ) : blob.data.binary ? (
        <Text c="dimmed" size="sm" p="md">
          A binary file: open it raw to download it.
        </Text>
      ) : (
        <pre className="pave-repo-file" data-testid="repo-file" tabIndex={0}>
          {blob.data.text}
        </pre>
      )}
    </Paper>
  );
}

function Readme({ org, name, gitRef, entry }: { org: string; name: string; gitRef: string; entry: TreeEntry }) {
  const blob = useQuery({ queryKey: ['git-blob', org, name, gitRef, entry.path], queryFn: ({ signal }) => getBlobText(org, name, gitRef, entry.path, signal) });
  const markdown = /\.(md|markdown)$/i.test(entry.name);
  return (
    <Paper withBorder component="section" aria-label={entry.name} data-testid="repo-readme">
      <Group px="md" py="xs" className="pave-repo-file-header">
        <Text size="sm" fw={600} ff="monospace">
          {entry.name}
        </Text>
      </Group>
      <div className="pave-repo-readme">
        {blob.error ? (
          <ErrorAlert error={blob.error} title="Could not read the README" />
        ) : !blob.data ? (
          <Loader size="sm" aria-label="Loading the README" />
        ) : markdown ? (
          <Markdown source={blob.data.text} />
        ) : (
          <pre>{blob.data.text}</pre>
        )}
      </div>
    </Paper>
  );
}

function EmptyRepo({ cloneUrl, defaultBranch }: { cloneUrl: string; defaultBranch: string }) {
  return (
    <Paper withBorder p="lg" data-testid="repo-empty">
      <Title order={3} size="h4" mb="xs">
        This repository is empty
      </Title>
      <Text size="sm" mb="sm">
        Push a first commit (a Pave token is the password):
      </Text>
      <Code block>{`git clone ${cloneUrl}\ncd ${cloneUrl.replace(/^.*\//, '').replace(/\.git$/, '')}\ngit commit --allow-empty -m "first commit"\ngit push origin HEAD:${defaultBranch}`}</Code>
    </Paper>
  );
}

/** `/repos/:org/:name`: a repository Pave hosts: clone URL, branches, files, README and commits. */
export default function RepoPage() {
  const { org = '', name = '' } = useParams();
  const [params, setParams] = useSearchParams();
  useDocumentTitle(`${org}/${name} · Pave`);
  const repo = useQuery({ queryKey: ['git-repo', org, name], queryFn: ({ signal }) => getRepo(org, name, signal) });
  const branches = repo.data?.branches ?? [];
  const gitRef = params.get('ref') || repo.data?.head || repo.data?.defaultBranch || 'main';
  const dir = params.get('path') ?? '';
  const file = params.get('file');
  const empty = repo.data !== undefined && branches.length === 0;

  const tree = useQuery({
    queryKey: ['git-tree', org, name, gitRef, dir],
    queryFn: ({ signal }) => getTree(org, name, gitRef, dir, signal),
    enabled: repo.data !== undefined && !empty,
    placeholderData: keepPreviousData,
  });
  const commits = useQuery({
    queryKey: ['git-commits', org, name, gitRef],
    queryFn: ({ signal }) => getCommits(org, name, gitRef, COMMITS_SHOWN, signal),
    enabled: repo.data !== undefined && !empty,
  });
  const openChanges = useChanges(org, name, 'open');
  const canOpenChange = useCan('git.change.create').allowed;

  const hrefFor = (q: { path?: string; file?: string; ref?: string }) =>
    repoPath(org, name, { ref: q.ref ?? params.get('ref') ?? undefined, path: q.path || undefined, file: q.file });
  const readme = !file ? tree.data?.entries.find((e) => e.type === 'blob' && README.test(e.name)) : undefined;
  const refOptions = useMemo(() => {
    const names = new Set(branches.map((b) => b.name));
    if (!names.has(gitRef)) names.add(gitRef);
    return [
      { group: 'Branches', items: [...names] },
      ...(repo.data?.tags.length ? [{ group: 'Tags', items: repo.data.tags.map((t) => t.name).filter((t) => !names.has(t)) }] : []),
    ];
  }, [branches, gitRef, repo.data]);

  if (repo.isLoading) return <PageFallback />;
  if (repo.error || !repo.data) return <RepoProblem org={org} name={name} error={repo.error} />;
  const r = repo.data;
  const treeMissing = tree.error instanceof ApiError && ['GIT_PATH_NOT_FOUND', 'GIT_REF_NOT_FOUND'].includes(tree.error.code);

  return (
    <Stack gap="md">
      <Breadcrumbs aria-label="Breadcrumb" separator="›">
        <Anchor component={Link} to="/repos" size="sm">
          Repositories
        </Anchor>
        <Text size="sm" aria-current="page">
          {r.org}/{r.name}
        </Text>
      </Breadcrumbs>

      <Paper withBorder p="lg">
        <Group justify="space-between" align="flex-start" gap="md">
          <div>
            <Title order={2} data-testid="repo-title">
              {r.org}/{r.name}
            </Title>
            <Text size="sm" c={r.description ? undefined : 'dimmed'}>
              {r.description || 'No description.'}
            </Text>
            <Group gap="md" mt={6}>
              {r.owner && (
                <Text size="sm">
                  Owner:{' '}
                  <RefLink value={r.owner} defaultKind="group" />
                </Text>
              )}
              {r.entityRef && (
                <Text size="sm">
                  In the catalog:{' '}
                  <RefLink value={r.entityRef} data-testid="repo-entity" />
                </Text>
              )}
              {r.pushedAt && (
                <Text size="sm" c="dimmed">
                  Last push {formatDate(r.pushedAt)}
                </Text>
              )}
            </Group>
          </div>
          <Group gap={6} align="flex-end" wrap="nowrap" className="pave-repo-clone">
            <TextInput label="Clone over HTTP" value={r.cloneUrl} readOnly data-testid="repo-clone-url" onFocus={(e) => e.currentTarget.select()} w={380} />
            <CopyButton value={r.cloneUrl}>
              {({ copied, copy }) => (
                <Button variant="default" onClick={copy} data-testid="repo-copy-clone-url">
                  {copied ? 'Copied' : 'Copy'}
                </Button>
              )}
            </CopyButton>
          </Group>
        </Group>
      </Paper>

      <Group gap="sm">
        <Button
          component={Link}
          to={changesPath(r.org, r.name)}
          variant="default"
          data-testid="repo-changes"
          rightSection={
            openChanges.data && (
              <>
                <Badge size="sm" variant="light" circle={openChanges.data.items.length < 10} data-testid="repo-changes-open">
                  {openChanges.data.items.length}
                </Badge>
                <VisuallyHidden>open</VisuallyHidden>
              </>
            )
          }
        >
          Change requests
        </Button>
        {canOpenChange && branches.length > 0 && (
          <Button
            component={Link}
            to={`${changesPath(r.org, r.name)}?${new URLSearchParams({ new: '1', ...(branches.some((b) => b.name === gitRef) && gitRef !== r.defaultBranch ? { source: gitRef } : {}) })}`}
            variant="light"
            data-testid="repo-new-change"
          >
            New change request
          </Button>
        )}
      </Group>

      {empty ? (
        <EmptyRepo cloneUrl={r.cloneUrl} defaultBranch={r.defaultBranch} />
      ) : (
        <div className="pave-repo-layout">
          <Stack gap="md" style={{ minWidth: 0 }}>
            <Group gap="sm" justify="space-between">
              <Group gap="sm">
                <Select
                  aria-label="Branch or tag"
                  data-testid="repo-branch"
                  data={refOptions}
                  value={gitRef}
                  allowDeselect={false}
                  searchable
                  w={220}
                  onChange={(v) => v && setParams(new URLSearchParams(Object.entries({ ref: v, path: dir }).filter(([, x]) => x)))}
                />
                <PathBreadcrumbs name={r.name} path={file ?? dir} hrefFor={(p) => hrefFor({ path: p })} />
              </Group>
              {tree.isFetching && <Loader size="xs" aria-label="Loading files" />}
            </Group>

            {file ? (
              <FileView org={org} name={name} gitRef={gitRef} path={file} />
            ) : treeMissing ? (
              <ErrorAlert error={tree.error} title="Nothing here" />
            ) : tree.error ? (
              <ErrorAlert error={tree.error} title="Could not list the files" />
            ) : (
              <Paper withBorder>
                <Table highlightOnHover verticalSpacing={6} data-testid="repo-tree" aria-busy={tree.isFetching}>
                  <VisuallyHidden component="caption">Files of {dir || 'the repository'}</VisuallyHidden>
                  <Table.Tbody>
                    {dir && (
                      <Table.Tr>
                        <Table.Td colSpan={2}>
                          <Anchor component={Link} to={hrefFor({ path: dir.split('/').slice(0, -1).join('/') })} size="sm" aria-label="Parent folder">
                            ..
                          </Anchor>
                        </Table.Td>
                      </Table.Tr>
                    )}
                    {(tree.data?.entries ?? []).map((e) => (
                      <Table.Tr key={e.path} data-testid="repo-entry" data-path={e.path} data-type={e.type}>
                        <Table.Td>
                          <Group gap={8} wrap="nowrap">
                            <FolderIcon folder={e.type === 'tree'} />
                            {e.type === 'commit' ? (
                              <Text size="sm">{e.name} (submodule)</Text>
                            ) : (
                              <Anchor component={Link} to={e.type === 'tree' ? hrefFor({ path: e.path }) : hrefFor({ path: dir, file: e.path })} size="sm">
                                {e.name}
                              </Anchor>
                            )}
                          </Group>
                        </Table.Td>
                        <Table.Td ta="right">
                          <Text size="xs" c="dimmed">
                            {formatSize(e.size)}
                          </Text>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Paper>
            )}
            {readme && <Readme org={org} name={name} gitRef={gitRef} entry={readme} />}
          </Stack>

          <Paper withBorder p="md" component="section" aria-labelledby="repo-commits-heading" className="pave-repo-commits">
            <Title order={3} size="h5" id="repo-commits-heading" mb="xs">
              Commits on {gitRef}
            </Title>
            {commits.error ? (
              <ErrorAlert error={commits.error} title="Could not list the commits" />
            ) : !commits.data ? (
              <Loader size="sm" aria-label="Loading commits" />
            ) : (
              <CommitList commits={commits.data.items} testId="repo-commit" />
            )}
          </Paper>
        </div>
      )}
    </Stack>
  );
}

/** `/repos`: the repositories Pave hosts. */
export function RepoListPage() {
  useDocumentTitle('Repositories · Pave');
  const repos = useRepos();
  const [filter, setFilter] = useState('');
  const items = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const all = repos.data?.items ?? [];
    return f ? all.filter((r) => [`${r.org}/${r.name}`, r.description, r.owner, r.entityRef].some((v) => v?.toLowerCase().includes(f))) : all;
  }, [repos.data, filter]);

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Repositories</Title>
          <Text c="dimmed" size="sm">
            Git repositories hosted by this Pave: clone and push them with any git client, a Pave token as the password.
          </Text>
        </div>
        <TextInput aria-label="Filter repositories" placeholder="Filter by name, owner…" type="search" value={filter} onChange={(e) => setFilter(e.currentTarget.value)} w={280} />
      </Group>
      <Paper withBorder p="md">
        {repos.error ? (
          <ErrorAlert error={repos.error} title="Could not load the repositories" />
        ) : repos.isLoading ? (
          <Group justify="center" py="lg">
            <Loader aria-label="Loading repositories" />
          </Group>
        ) : (repos.data?.items.length ?? 0) === 0 ? (
          <Stack gap={4} py="md" align="center">
            <Text fw={600}>No repositories yet</Text>
            <Text size="sm" c="dimmed">
              Templates that publish with <Code>publish:pave</Code> create them;{' '}
              <Anchor component={Link} to="/create" size="sm">
                create something
              </Anchor>
              .
            </Text>
          </Stack>
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table striped highlightOnHover verticalSpacing="xs" className="pave-table-wrap">
              <VisuallyHidden component="caption">Repositories</VisuallyHidden>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Repository</Table.Th>
                  <Table.Th>Owner</Table.Th>
                  <Table.Th>Entity</Table.Th>
                  <Table.Th>Default branch</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((r) => (
                  <Table.Tr key={`${r.org}/${r.name}`} data-testid="repo-row" data-repo={`${r.org}/${r.name}`}>
                    <Table.Td>
                      <Anchor component={Link} to={repoPath(r.org, r.name)} fw={600} size="sm">
                        {r.org}/{r.name}
                      </Anchor>
                      {r.description && (
                        <Text size="xs" c="dimmed" lineClamp={2}>
                          {r.description}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      {r.owner && (
                        <RefLink value={r.owner} defaultKind="group" />
                      )}
                    </Table.Td>
                    <Table.Td>
                      {r.entityRef && (
                        <RefLink value={r.entityRef} />
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="light" color="gray" style={{ textTransform: 'none' }}>
                        {r.defaultBranch}
                      </Badge>
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
