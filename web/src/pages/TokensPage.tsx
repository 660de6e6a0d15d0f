import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Loader,
  Modal,
  NumberInput,
  Paper,
  Select,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { createToken, listTokens, revokeToken, type NewToken, type TokenInfo } from '../auth.ts';
import { useSession } from '../session.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { NotAllowed } from '../components/NotAllowed.tsx';

const SCOPES = [
  { value: 'read', label: 'read', help: 'Reads what you may read; changes nothing' },
  { value: 'write', label: 'write', help: 'Does what you may do, except admin tasks' },
  { value: 'admin', label: 'admin', help: 'Everything your role allows, admin tasks included' },
  { value: 'custom', label: 'Custom permissions…', help: 'Only the permissions you list' },
];

function formatTime(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function CreatedToken({ created, onDone }: { created: NewToken; onDone: () => void }) {
  return (
    <Alert color="yellow" variant="light" title={`Copy the token "${created.name}" now`} role="status" data-testid="created-token">
      <Stack gap="sm">
        <Text size="sm">
          This is the only time Pave shows it: it keeps only a hash. Store it where your script or CI keeps secrets; if you
          lose it, revoke it and create another.
        </Text>
        <Group gap="xs" wrap="nowrap" align="flex-start">
          <Code block data-testid="new-token" style={{ flex: 1, overflowWrap: 'anywhere', whiteSpace: 'pre-wrap' }}>
            {created.token}
          </Code>
          <CopyButton value={created.token}>
            {({ copied, copy }) => (
              <Button size="xs" variant={copied ? 'filled' : 'default'} color={copied ? 'teal' : undefined} onClick={copy}>
                {copied ? 'Copied' : 'Copy'}
              </Button>
            )}
          </CopyButton>
        </Group>
        <Text size="sm">
          Use it as <Code>Authorization: Bearer &lt;token&gt;</Code>, or with <Code>PAVE_TOKEN</Code> for the CLI.
        </Text>
        <Group>
          <Button size="xs" onClick={onDone}>
            I have copied it
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}

function CreateTokenForm({ isAdmin, onCreated }: { isAdmin: boolean; onCreated: (t: NewToken) => void }) {
  const [name, setName] = useState('');
  const [scope, setScope] = useState<string>('write');
  const [patterns, setPatterns] = useState('');
  const [days, setDays] = useState<number | string>(90);
  const create = useMutation({
    mutationFn: createToken,
    onSuccess: (t) => {
      setName('');
      setPatterns('');
      onCreated(t);
    },
  });
  const scopes = scope === 'custom' ? patterns.split(/[\s,]+/).filter(Boolean) : [scope];

  const onSubmit = (ev: FormEvent) => {
    ev.preventDefault();
    if (!name.trim() || scopes.length === 0) return;
    create.mutate({ name: name.trim(), scopes, expiresInDays: typeof days === 'number' ? days : undefined });
  };

  return (
    <Paper withBorder p="lg" component="form" onSubmit={onSubmit} aria-labelledby="create-token-heading">
      <Stack gap="sm">
        <Title order={3} size="h4" id="create-token-heading">
          Create a token
        </Title>
        <Group align="flex-start" gap="sm" grow preventGrowOverflow={false}>
          <TextInput
            label="Name"
            description="What it is for, e.g. ci-deploy"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            maxLength={100}
            required
            autoComplete="off"
          />
          <Select
            label="Scope"
            description={SCOPES.find((s) => s.value === scope)?.help}
            data={SCOPES.filter((s) => s.value !== 'admin' || isAdmin).map(({ value, label }) => ({ value, label }))}
            value={scope}
            onChange={(v) => setScope(v ?? 'write')}
            allowDeselect={false}
          />
          <NumberInput label="Expires in (days)" description="Leave empty for the longest allowed" value={days} onChange={setDays} min={1} allowDecimal={false} />
        </Group>
        {scope === 'custom' && (
          <TextInput
            label="Permission patterns"
            description="Comma separated, e.g. catalog.entity.refresh, catalog.*"
            value={patterns}
            onChange={(e) => setPatterns(e.currentTarget.value)}
            required
            spellCheck={false}
          />
        )}
        {create.error && <ErrorAlert error={create.error} title="Could not create the token" />}
        <Group>
          <Button type="submit" loading={create.isPending} disabled={!name.trim() || scopes.length === 0}>
            Create token
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

export default function TokensPage() {
  useDocumentTitle('API tokens · Pave');
  const session = useSession();
  const queryClient = useQueryClient();
  const isAdmin = session.data?.principal?.roles.includes('admin') ?? false;
  const [everyone, setEveryone] = useState(false);
  const [created, setCreated] = useState<NewToken | null>(null);
  const [toRevoke, setToRevoke] = useState<TokenInfo | null>(null);
  const all = isAdmin && everyone;

  const tokens = useQuery({ queryKey: ['tokens', all], queryFn: ({ signal }) => listTokens(all, signal) });
  const revoke = useMutation({
    mutationFn: (id: string) => revokeToken(id),
    onSuccess: () => {
      setToRevoke(null);
      void queryClient.invalidateQueries({ queryKey: ['tokens'] });
    },
  });

  if (session.data?.permissions['auth.token.create'] !== 'ALLOW') {
    return <NotAllowed what="Having API tokens" permission="auth.token.create" />;
  }

  return (
    <Stack gap="lg" maw={1100}>
      <div>
        <Title order={2}>API tokens</Title>
        <Text c="dimmed" size="sm">
          Tokens let scripts, CI jobs and the <Code>pave</Code> CLI call Pave's API as you, limited to their scope. Revoke a
          token as soon as you no longer need it.
        </Text>
      </div>

      {created && <CreatedToken created={created} onDone={() => setCreated(null)} />}

      <CreateTokenForm
        isAdmin={isAdmin}
        onCreated={(t) => {
          setCreated(t);
          void queryClient.invalidateQueries({ queryKey: ['tokens'] });
        }}
      />

      <Stack gap="sm" component="section" aria-labelledby="tokens-heading">
        <Group justify="space-between">
          <Title order={3} size="h4" id="tokens-heading">
            {all ? 'All tokens' : 'Your tokens'}
          </Title>
          {isAdmin && <Switch label="Everyone's tokens" checked={everyone} onChange={(e) => setEveryone(e.currentTarget.checked)} />}
        </Group>
        {tokens.error && <ErrorAlert error={tokens.error} title="Could not load tokens" />}
        {tokens.isLoading && <Loader aria-label="Loading tokens" />}
        {tokens.data && tokens.data.length === 0 && <Text c="dimmed">No tokens yet.</Text>}
        {tokens.data && tokens.data.length > 0 && (
          <Table.ScrollContainer minWidth={800}>
            <Table striped withTableBorder data-testid="tokens-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  {all && <Table.Th>Owner</Table.Th>}
                  <Table.Th>Scopes</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>Expires</Table.Th>
                  <Table.Th>Last used</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {tokens.data.map((t) => (
                  <Table.Tr key={t.id} data-testid="token-row" data-token-id={t.id} data-token-name={t.name}>
                    <Table.Td>
                      <Text size="sm" fw={600}>
                        {t.name}
                      </Text>
                      <Text size="xs" c="dimmed" ff="monospace">
                        {t.kind} · {t.id}
                      </Text>
                    </Table.Td>
                    {all && <Table.Td ff="monospace" fz="sm">{t.ownerRef}</Table.Td>}
                    <Table.Td>
                      <Group gap={4}>
                        {t.scopes.map((s) => (
                          <Badge key={s} size="sm" variant="light" color={s === 'admin' ? 'red' : 'indigo'} style={{ textTransform: 'none' }}>
                            {s}
                          </Badge>
                        ))}
                      </Group>
                    </Table.Td>
                    <Table.Td fz="sm">{formatTime(t.createdAt)}</Table.Td>
                    <Table.Td fz="sm">{t.expiresAt ? formatTime(t.expiresAt) : 'never'}</Table.Td>
                    <Table.Td fz="sm">
                      {t.lastUsedAt ? (
                        <>
                          {formatTime(t.lastUsedAt)}
                          {t.lastUsedIp && (
                            <Text size="xs" c="dimmed" ff="monospace">
                              from {t.lastUsedIp}
                            </Text>
                          )}
                        </>
                      ) : (
                        'never'
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Button size="xs" color="red" variant="light" onClick={() => setToRevoke(t)} aria-label={`Revoke ${t.name}`}>
                        Revoke
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>

      <Modal
        opened={toRevoke !== null}
        onClose={() => {
          setToRevoke(null);
          revoke.reset();
        }}
        title="Revoke token?"
        centered
      >
        <Stack gap="sm">
          <Text size="sm">
            Anything still using <strong>{toRevoke?.name}</strong> is refused from now on (within seconds). This cannot be
            undone.
          </Text>
          {revoke.error && <ErrorAlert error={revoke.error} title="Could not revoke the token" />}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setToRevoke(null)}>
              Cancel
            </Button>
            <Button color="red" loading={revoke.isPending} onClick={() => toRevoke && revoke.mutate(toRevoke.id)}>
              Revoke token
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
