import { useMemo, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { Alert, Anchor, Breadcrumbs, Button, Code, Group, List, Loader, Paper, Stack, Text, Textarea, Title } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { ApiError } from '../api.ts';
import {
  changesPath,
  repoPath,
  useChange,
  useChangeDiff,
  useCloseChange,
  useCommentOnChange,
  useMergeChange,
  type ChangeDetails,
  type ChangedFile,
} from '../git.ts';
import { humanizeRef } from '../refs.ts';
import { useCan, useSession } from '../session.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageFallback } from '../components/PageFallback.tsx';
import { NotFoundPage } from './NotFoundPage.tsx';
import { CommitList } from '../components/CommitList.tsx';
import { formatDate } from '../format.ts';
import { ChangeStatusBadge, RepoProblem, useRepoOfChanges } from './ChangeRequestsPage.tsx';

/** Past this many lines the diff is cut short (the raw diff has it all): a page stays usable. */
const DIFF_LINES_SHOWN = 5000;

const who = (ref: string | undefined) => (ref ? humanizeRef(ref, { kind: 'user' }) : 'someone');
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

// ---------------------------------------------------------------- the unified diff, as rows of text

type DiffLineKind = 'add' | 'del' | 'context' | 'hunk' | 'meta';

interface DiffLine {
  kind: DiffLineKind;
  text: string;
  oldNo?: number;
  newNo?: number;
}

interface DiffFile {
  path: string;
  lines: DiffLine[];
}

/** `"a/some path"` or `a/path` of a diff header, without the quotes and the `a/`/`b/` prefix. */
function diffPath(raw: string): string {
  const unquoted = raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1).replace(/\\(["\\])/g, '$1') : raw;
  return unquoted.replace(/^[ab]\//, '');
}

/** Splits `git diff` output into files and typed lines with their old and new line numbers. */
function parseDiff(diff: string): DiffFile[] {
  const files: DiffFile[] = [];
  let file: DiffFile | undefined;
  let inHunk = false;
  let oldNo = 0;
  let newNo = 0;
  const lines = diff.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith('diff --git ')) {
      const m = /^diff --git (?:"?a\/.*?"?) ("?b\/.*"?)$/.exec(line);
      file = { path: m ? diffPath(m[1]!) : line.slice('diff --git '.length), lines: [] };
      files.push(file);
      inHunk = false;
      continue;
    }
    if (!file) continue;
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (hunk) {
      oldNo = Number(hunk[1]);
      newNo = Number(hunk[2]);
      inHunk = true;
      file.lines.push({ kind: 'hunk', text: line });
      continue;
    }
    if (!inHunk) {
      // The file's header: the path from +++ (a deleted file keeps the header's); show what a reader needs.
      if (line.startsWith('+++ ') && line !== '+++ /dev/null') file.path = diffPath(line.slice(4));
      else if (!/^(index |--- |\+\+\+ )/.test(line)) file.lines.push({ kind: 'meta', text: line });
      continue;
    }
    const sign = line[0];
    const text = line.slice(1);
    if (sign === '+') file.lines.push({ kind: 'add', text, newNo: newNo++ });
    else if (sign === '-') file.lines.push({ kind: 'del', text, oldNo: oldNo++ });
    else if (sign === '\\') file.lines.push({ kind: 'meta', text: line });
    else file.lines.push({ kind: 'context', text, oldNo: oldNo++, newNo: newNo++ });
  }
  return files;
}

const SIGN: Record<DiffLineKind, string> = { add: '+', del: '-', context: ' ', hunk: '', meta: '' };

function DiffStat({ file }: { file?: ChangedFile }) {
  if (!file) return null;
  return (
    <Text size="sm" ff="monospace" span className="pave-diff-stat" aria-label={`${plural(file.additions, 'line')} added, ${plural(file.deletions, 'line')} removed`}>
      <span className="pave-diff-stat-add">+{file.additions}</span> <span className="pave-diff-stat-del">−{file.deletions}</span>
    </Text>
  );
}

function DiffView({ org, name, number, files }: { org: string; name: string; number: number; files: ChangedFile[] }) {
  const diff = useChangeDiff(org, name, number);
  const parsed = useMemo(() => parseDiff(diff.data ?? ''), [diff.data]);
  const raw = `/api/git/repos/${encodeURIComponent(org)}/${encodeURIComponent(name)}/changes/${number}/diff`;
  if (diff.error) return <ErrorAlert error={diff.error} title="Could not load the diff" />;
  if (diff.data === undefined) {
    return (
      <Group justify="center" py="lg">
        <Loader size="sm" aria-label="Loading the diff" />
      </Group>
    );
  }
  if (parsed.length === 0) {
    return (
      <Text size="sm" c="dimmed" data-testid="change-diff" data-empty="true">
        No differences.
      </Text>
    );
  }
  let budget = DIFF_LINES_SHOWN;
  return (
    <Stack gap="md" data-testid="change-diff">
      {parsed.map((f) => {
        const shown = f.lines.slice(0, Math.max(budget, 0));
        budget -= f.lines.length;
        return (
          <Paper withBorder key={f.path} component="section" aria-label={`Changes to ${f.path}`} data-testid="change-diff-file" data-path={f.path} className="pave-diff-file">
            <Group justify="space-between" px="md" py="xs" className="pave-repo-file-header" wrap="nowrap">
              <Text size="sm" fw={600} ff="monospace" className="pave-diff-path">
                {f.path}
              </Text>
              <DiffStat file={files.find((x) => x.path === f.path)} />
            </Group>
            {shown.length < f.lines.length && (
              <Text size="sm" c="dimmed" px="md" py="xs">
                Showing {shown.length} of {f.lines.length} lines.{' '}
                <Anchor href={raw} target="_blank" rel="noreferrer" size="sm">
                  See the whole diff ↗
                </Anchor>
              </Text>
            )}
            {shown.length > 0 && (
              <div className="pave-diff-scroll" tabIndex={0} role="region" aria-label={`Diff of ${f.path}`}>
                <table className="pave-diff">
                  <tbody>
                    {shown.map((l, i) => (
                      <tr key={i} className={`pave-diff-${l.kind}`} data-kind={l.kind}>
                        {l.kind === 'hunk' || l.kind === 'meta' ? (
                          <td colSpan={3} className="pave-diff-text">
                            {l.text}
                          </td>
                        ) : (
                          <>
                            <td className="pave-diff-no" aria-hidden="true">
                              {l.oldNo}
                            </td>
                            <td className="pave-diff-no" aria-hidden="true">
                              {l.newNo}
                            </td>
                            <td className="pave-diff-text">
                              <span className="pave-diff-sign" aria-label={l.kind === 'add' ? 'added' : l.kind === 'del' ? 'removed' : undefined}>
                                {SIGN[l.kind]}
                              </span>
                              {l.text}
                            </td>
                          </>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Paper>
        );
      })}
    </Stack>
  );
}

// ---------------------------------------------------------------- merge, close, comments

/** `canPush` is undefined while the permission is being decided. */
function MergeBox({ change, canPush, canClose }: { change: ChangeDetails; canPush: boolean | undefined; canClose: boolean }) {
  const merge = useMergeChange(change.org, change.name, change.number);
  const close = useCloseChange(change.org, change.name, change.number);
  const refusedFiles = merge.error instanceof ApiError && merge.error.code === 'CHANGE_CONFLICTS' ? ((merge.error.details as { files?: string[] } | undefined)?.files ?? []) : [];
  const conflicts = change.conflicts.length ? change.conflicts : refusedFiles;
  const blocked = !change.mergeable || conflicts.length > 0;

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="change-merge-heading" data-testid="change-merge-box" data-mergeable={String(change.mergeable)}>
      <Stack gap="sm">
        <Title order={3} size="h5" id="change-merge-heading">
          {blocked ? 'This change request has conflicts' : `Ready to merge into ${change.targetBranch}`}
        </Title>
        {blocked ? (
          <Alert color="yellow" variant="light" data-testid="change-conflicts" title={conflicts.length ? `${plural(conflicts.length, 'file')} changed on both branches` : 'It does not merge cleanly'}>
            <List size="sm" spacing={2}>
              {conflicts.map((f) => (
                <List.Item key={f} data-testid="change-conflict" data-path={f}>
                  <Code>{f}</Code>
                </List.Item>
              ))}
            </List>
            <Text size="sm" mt="xs">
              Merge <Code>{change.targetBranch}</Code> into <Code>{change.sourceBranch}</Code>, resolve the conflicts, and push: the change request updates.
            </Text>
          </Alert>
        ) : (
          <Text size="sm" c="dimmed">
            {plural(change.commits.length, 'commit')} from <Code>{change.sourceBranch}</Code> merge cleanly, with a merge commit.
          </Text>
        )}
        {canPush === false && (
          <Text size="sm" c="dimmed" data-testid="change-merge-not-allowed">
            Only the owners of {change.org}/{change.name} can merge (it takes <Code>git.repo.push</Code> on the repository).
          </Text>
        )}
        {merge.error && <ErrorAlert error={merge.error} title={merge.error instanceof ApiError && merge.error.status === 403 ? 'Not allowed to merge' : 'Could not merge'} />}
        {close.error && <ErrorAlert error={close.error} title={close.error instanceof ApiError && close.error.status === 403 ? 'Not allowed to close' : 'Could not close'} />}
        <Group gap="sm">
          <Button color="green" onClick={() => merge.mutate()} loading={merge.isPending} disabled={blocked || !canPush || close.isPending} data-testid="change-merge">
            Merge
          </Button>
          {canClose && (
            <Button variant="default" onClick={() => close.mutate()} loading={close.isPending} disabled={merge.isPending} data-testid="change-close">
              Close without merging
            </Button>
          )}
        </Group>
      </Stack>
    </Paper>
  );
}

function Comments({ change, canComment }: { change: ChangeDetails; canComment: boolean }) {
  const [body, setBody] = useState('');
  const comment = useCommentOnChange(change.org, change.name, change.number);
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (!body.trim()) return;
    comment.mutate(body, { onSuccess: () => setBody('') });
  };
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="change-comments-heading">
      <Stack gap="sm">
        <Title order={3} size="h5" id="change-comments-heading">
          Comments ({change.comments.length})
        </Title>
        {change.comments.length === 0 && (
          <Text size="sm" c="dimmed">
            No comments yet.
          </Text>
        )}
        <ol className="pave-change-comments">
          {change.comments.map((c) => (
            <li key={c.id} data-testid="change-comment" data-id={c.id}>
              <Text size="sm">
                <strong>{who(c.author)}</strong>{' '}
                <Text span size="xs" c="dimmed">
                  {formatDate(c.createdAt)}
                </Text>
              </Text>
              <Text size="sm" className="pave-change-text" data-testid="change-comment-body">
                {c.body}
              </Text>
            </li>
          ))}
        </ol>
        {canComment && (
          <form onSubmit={submit}>
            <Stack gap="xs">
              <Textarea
                label="Add a comment"
                autosize
                minRows={3}
                maxRows={12}
                value={body}
                onChange={(e) => setBody(e.currentTarget.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) submit();
                }}
                data-testid="change-comment-input"
              />
              {comment.error && <ErrorAlert error={comment.error} title="Could not add the comment" />}
              <Group>
                <Button type="submit" disabled={!body.trim()} loading={comment.isPending} data-testid="change-comment-submit">
                  Comment
                </Button>
              </Group>
            </Stack>
          </form>
        )}
      </Stack>
    </Paper>
  );
}

// ---------------------------------------------------------------- the page

function Summary({ change }: { change: ChangeDetails }) {
  const branches = (
    <>
      <Code data-testid="change-target-branch">{change.targetBranch}</Code> from <Code data-testid="change-source-branch">{change.sourceBranch}</Code>
    </>
  );
  if (change.status === 'merged') {
    return (
      <Text size="sm">
        {who(change.mergedBy)} merged {plural(change.commits.length, 'commit')} into {branches} {formatDate(change.mergedAt)}
        {change.mergeSha && (
          <>
            {' '}
            as <Code data-testid="change-merge-sha">{change.mergeSha.slice(0, 7)}</Code>
          </>
        )}
        .
      </Text>
    );
  }
  return (
    <Text size="sm">
      {who(change.author)} {change.status === 'open' ? 'wants to merge' : 'proposed to merge'} {plural(change.commits.length, 'commit')} into {branches}
      {change.status === 'closed' ? `; closed ${formatDate(change.updatedAt)}` : ''}.
    </Text>
  );
}

/** `/repos/:org/:name/changes/:number`: a change request: its commits, files, diff and comments; merge or close it. */
export default function ChangeRequestPage() {
  const { org = '', name = '', number: raw = '' } = useParams();
  const number = /^[1-9]\d*$/.test(raw) ? Number(raw) : 0;
  const repo = useRepoOfChanges(org, name);
  const change = useChange(org, name, number);
  const session = useSession();
  const canPush = useCan('git.repo.push', `git:${org}/${name}`);
  const canComment = useCan('git.change.create').allowed;
  useDocumentTitle(`${change.data ? `${change.data.title} #${number}` : `#${raw}`} · ${org}/${name} · Pave`);

  if (repo.isLoading || (number > 0 && change.isLoading)) return <PageFallback />;
  if (repo.error || !repo.data) return <RepoProblem org={org} name={name} error={repo.error} />;
  if (number === 0 || (change.error instanceof ApiError && change.error.status === 404)) {
    return (
      <NotFoundPage title="Change request not found">
        <Text>
          {org}/{name} has no change request <Code>#{raw}</Code>.{' '}
          <Anchor component={Link} to={changesPath(org, name)}>
            See its change requests
          </Anchor>
          .
        </Text>
      </NotFoundPage>
    );
  }
  if (change.error || !change.data) return <ErrorAlert error={change.error} title="Could not load the change request" />;
  const c = change.data;
  const me = session.data?.principal?.ref;
  const canClose = canPush.allowed || (!!me && me === c.author);

  return (
    <Stack gap="md">
      <Breadcrumbs aria-label="Breadcrumb" separator="›">
        <Anchor component={Link} to="/repos" size="sm">
          Repositories
        </Anchor>
        <Anchor component={Link} to={repoPath(org, name)} size="sm">
          {org}/{name}
        </Anchor>
        <Anchor component={Link} to={changesPath(org, name)} size="sm">
          Change requests
        </Anchor>
        <Text size="sm" aria-current="page">
          #{c.number}
        </Text>
      </Breadcrumbs>

      <Paper withBorder p="lg">
        <Stack gap="xs">
          <Group gap="sm" align="center" wrap="nowrap">
            <ChangeStatusBadge status={c.status} testId="change-status" />
            <Title order={2} data-testid="change-heading" style={{ overflowWrap: 'anywhere' }}>
              {c.title}{' '}
              <Text span c="dimmed" inherit fw={400}>
                #{c.number}
              </Text>
            </Title>
          </Group>
          <Summary change={c} />
          {c.description ? (
            <Text size="sm" className="pave-change-text" data-testid="change-description-text" mt="xs">
              {c.description}
            </Text>
          ) : (
            <Text size="sm" c="dimmed" mt="xs">
              No description.
            </Text>
          )}
        </Stack>
      </Paper>

      {c.status === 'open' && <MergeBox change={c} canPush={canPush.loading ? undefined : canPush.allowed} canClose={canClose} />}

      <div className="pave-repo-layout">
        <Stack gap="md" style={{ minWidth: 0 }}>
          <Paper withBorder p="md" component="section" aria-labelledby="change-files-heading">
            <Title order={3} size="h5" id="change-files-heading" mb="xs">
              Files changed ({c.files.length})
            </Title>
            {c.files.length === 0 ? (
              <Text size="sm" c="dimmed">
                No files changed.
              </Text>
            ) : (
              <ul className="pave-change-files">
                {c.files.map((f) => (
                  <li key={f.path} data-testid="change-file" data-path={f.path}>
                    <Text size="sm" ff="monospace" className="pave-diff-path">
                      {f.path}
                    </Text>
                    <DiffStat file={f} />
                  </li>
                ))}
              </ul>
            )}
          </Paper>
          <DiffView org={org} name={name} number={c.number} files={c.files} />
        </Stack>

        <Stack gap="md" style={{ minWidth: 0 }}>
          <Paper withBorder p="md" component="section" aria-labelledby="change-commits-heading" className="pave-repo-commits">
            <Title order={3} size="h5" id="change-commits-heading" mb="xs">
              Commits ({c.commits.length})
            </Title>
            {c.commits.length === 0 ? (
              <Text size="sm" c="dimmed">
                No commits that {c.targetBranch} does not have.
              </Text>
            ) : (
              <CommitList commits={c.commits} testId="change-commit" />
            )}
          </Paper>
          <Comments change={c} canComment={canComment} />
        </Stack>
      </div>
    </Stack>
  );
}
