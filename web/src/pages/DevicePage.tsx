import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Alert, Badge, Button, Code, Group, Loader, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { decideDeviceRequest, getDeviceRequest, type DeviceRequest } from '../auth.ts';
import { useSession } from '../session.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';

function CodeForm({ initial, onCode }: { initial: string; onCode: (code: string) => void }) {
  const [value, setValue] = useState(initial);
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    if (value.trim()) onCode(value.trim().toUpperCase());
  };
  return (
    <Stack gap="sm" component="form" onSubmit={submit} aria-label="Enter a sign-in code">
      <TextInput
        label="Code"
        description="The code pave login shows in your terminal, e.g. BCDF-GHJK"
        value={value}
        onChange={(e) => setValue(e.currentTarget.value)}
        autoComplete="off"
        spellCheck={false}
        maxLength={20}
        required
        styles={{ input: { fontFamily: 'monospace', letterSpacing: '0.1em' } }}
      />
      <Group>
        <Button type="submit">Continue</Button>
      </Group>
    </Stack>
  );
}

function Pending({ request }: { request: DeviceRequest }) {
  const session = useSession();
  const you = session.data?.principal?.displayName ?? session.data?.principal?.ref;
  const decide = useMutation({ mutationFn: (verdict: 'approve' | 'deny') => decideDeviceRequest(request.userCode, verdict) });

  if (decide.isSuccess) {
    return decide.variables === 'approve' ? (
      <Alert color="teal" variant="light" title="Approved" role="status" data-testid="device-result" data-result="approved">
        {request.clientName} is signed in as you. You can close this page and go back to your terminal.
      </Alert>
    ) : (
      <Alert color="gray" variant="light" title="Denied" role="status" data-testid="device-result" data-result="denied">
        {request.clientName} gets no token. If you did not start this sign-in, someone may be trying to get access: tell
        your platform team.
      </Alert>
    );
  }
  if (request.approved) {
    return (
      <Alert color="teal" variant="light" title="Already approved" role="status">
        This sign-in was approved already; the CLI picks up its token on its next check.
      </Alert>
    );
  }
  return (
    <Stack gap="md">
      <Text>
        <strong>{request.clientName}</strong> asks to sign in as <strong>{you}</strong>.
      </Text>
      <div>
        <Text size="sm" c="dimmed">
          Check that your terminal shows this code:
        </Text>
        <Text fz={28} fw={700} ff="monospace" style={{ letterSpacing: '0.12em' }} data-testid="device-code">
          {request.userCode}
        </Text>
      </div>
      <Group gap="xs">
        <Text size="sm">It will be able to:</Text>
        {request.scopes.map((s) => (
          <Badge key={s} variant="light" color={s === 'admin' ? 'red' : 'indigo'} style={{ textTransform: 'none' }} data-testid="device-scope">
            {s}
          </Badge>
        ))}
      </Group>
      <Text size="xs" c="dimmed">
        The code expires at {new Date(request.expiresAt).toLocaleTimeString()}.
      </Text>
      <Alert color="yellow" variant="light">
        Approve only if you ran <Code>pave login</Code> yourself just now. Whoever holds the terminal gets a token that acts as
        you.
      </Alert>
      {decide.error && <ErrorAlert error={decide.error} title="Could not record your answer" />}
      <Group>
        <Button onClick={() => decide.mutate('approve')} loading={decide.isPending && decide.variables === 'approve'} disabled={decide.isPending}>
          Approve
        </Button>
        <Button color="red" variant="light" onClick={() => decide.mutate('deny')} loading={decide.isPending && decide.variables === 'deny'} disabled={decide.isPending}>
          Deny
        </Button>
      </Group>
    </Stack>
  );
}

/** Where `pave login` sends people: approve or deny the CLI's sign-in. */
export default function DevicePage() {
  useDocumentTitle('Approve CLI sign-in · Pave');
  const [params, setParams] = useSearchParams();
  const code = params.get('code')?.trim() ?? '';
  const request = useQuery({
    queryKey: ['device', code],
    queryFn: ({ signal }) => getDeviceRequest(code, signal),
    enabled: code !== '',
    staleTime: 0,
  });
  const setCode = (c: string) => (c === code ? void request.refetch() : setParams({ code: c }, { replace: true }));

  return (
    <Paper withBorder p="xl" maw={560} mx="auto" mt="md" component="section" aria-labelledby="device-heading">
      <Stack gap="md">
        <Title order={2} id="device-heading">
          Sign in to the Pave CLI
        </Title>
        {!code && <CodeForm initial="" onCode={setCode} />}
        {request.isLoading && <Loader aria-label="Loading the sign-in request" />}
        {request.error && (
          <>
            <ErrorAlert error={request.error} title="No pending sign-in with this code" />
            <CodeForm initial={code} onCode={setCode} />
          </>
        )}
        {request.data && <Pending request={request.data} />}
      </Stack>
    </Paper>
  );
}
