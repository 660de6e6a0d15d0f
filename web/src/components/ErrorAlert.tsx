import { Alert, Code, List, Text } from '@mantine/core';
import { ApiError } from '../api.ts';

interface Problem {
  code?: string;
  message?: string;
  location?: string;
  line?: number;
  column?: number;
}

function problemsOf(details: unknown): Problem[] {
  if (!details || typeof details !== 'object') return [];
  const problems = (details as { problems?: unknown }).problems;
  return Array.isArray(problems) ? (problems.filter((p) => p && typeof p === 'object') as Problem[]) : [];
}

/** Shows an API error with its code and message (and the problems it lists, if any). */
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  const code = error instanceof ApiError ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const problems = error instanceof ApiError ? problemsOf(error.details) : [];
  return (
    <Alert color="red" variant="light" title={title ?? 'Something went wrong'} role="alert">
      {code && (
        <Text size="sm" fw={600} mb={4}>
          <Code data-testid="error-code">{code}</Code>
        </Text>
      )}
      <Text size="sm" data-testid="error-message" style={{ whiteSpace: 'pre-wrap' }}>
        {message}
      </Text>
      {problems.length > 0 && (
        <List size="sm" mt="xs" spacing={2}>
          {problems.slice(0, 20).map((p, i) => (
            <List.Item key={i}>
              {p.code && <Code mr={6}>{p.code}</Code>}
              {p.location && (
                <Text span ff="monospace" size="sm">
                  {p.location}
                  {p.line != null ? `:${p.line}${p.column != null ? `:${p.column}` : ''}` : ''}{' '}
                </Text>
              )}
              {p.message}
            </List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}
