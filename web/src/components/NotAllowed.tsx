import { Link } from 'react-router-dom';
import { Button, Code, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';

/** A page the signed-in person may not use: says which permission it takes. */
export function NotAllowed({ what, permission }: { what: string; permission: string }) {
  useDocumentTitle('Not allowed · Pave');
  return (
    <Paper withBorder p="xl" maw={640} mx="auto" mt="xl" role="region" aria-labelledby="not-allowed-title">
      <Stack gap="md">
        <Title order={2} id="not-allowed-title">
          Not allowed
        </Title>
        <Text>
          {what} takes the <Code>{permission}</Code> permission, which your account does not have. Ask your platform team
          if you need it.
        </Text>
        <Group>
          <Button component={Link} to="/catalog">
            Back to the catalog
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
