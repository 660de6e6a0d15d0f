import { Code, Text } from '@mantine/core';
import { formatDate } from '../format.ts';
import type { Commit } from '../git.ts';

/** Commits, newest first: subject, short sha, author and date (a repository's history, a change's commits). */
export function CommitList({ commits, testId }: { commits: Commit[]; testId: string }) {
  return (
    <ol className="pave-repo-commit-list">
      {commits.map((commit) => (
        <li key={commit.sha} data-testid={testId} data-sha={commit.sha}>
          <Text size="sm" fw={600} title={commit.message} lineClamp={2}>
            {commit.subject}
          </Text>
          <Text size="xs" c="dimmed">
            <Code>{commit.sha.slice(0, 7)}</Code> {commit.author.name} · {formatDate(commit.author.date)}
          </Text>
        </li>
      ))}
    </ol>
  );
}
