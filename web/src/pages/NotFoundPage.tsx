import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { Button, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { useCan } from '../session.ts';

export function NotFoundPage(props: { title?: string; children?: ReactNode }) {
  const title = props.title ?? 'Page not found';
  const canRegister = useCan('catalog.location.create').allowed;
  useDocumentTitle(`${title} · Pave`);
  return (
    <Paper withBorder p="xl" maw={640} mx="auto" mt="xl" role="region" aria-labelledby="not-found-title">
      <Stack gap="md">
        <Text size="xl" aria-hidden="true" fw={700} c="indigo.8">
          404
        </Text>
        <Title order={2} id="not-found-title">
          {title}
        </Title>
        {props.children ?? <Text>The page you are looking for does not exist.</Text>}
        <Group>
          <Button component={Link} to="/catalog">
            Back to the catalog
          </Button>
          {canRegister && (
            <Button component={Link} to="/register" variant="default">
              Register a component
            </Button>
          )}
        </Group>
      </Stack>
    </Paper>
  );
}
