import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import { Alert, Anchor, Badge, Button, Code, Group, Loader, Modal, Paper, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { auditExportUrl, listAudit, verifyAudit, type AuditEntry, type AuditFilters } from '../audit.ts';
import { useSession } from '../session.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { NotAllowed } from '../components/NotAllowed.tsx';

const PAGE_SIZE = 50;
const TEXT_FILTERS = ['actor', 'action', 'target'] as const;
const TIME_FILTERS = ['from', 'to'] as const;
const FILTER_KEYS = [...TEXT_FILTERS, 'outcome', ...TIME_FILTERS] as const;
type Draft = Record<(typeof FILTER_KEYS)[number], string>;

const OUTCOME_COLOR: Record<string, string> = { success: 'teal', denied: 'orange', error: 'red' };

/** `from` and `to` sit in the URL as the local time typed (datetime-local); the API takes ISO 8601. */
function toFilters(draft: Draft): AuditFilters {
  const iso = (local: string) => {
    const d = new Date(local);
    return local && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined;
  };
  return {
    actor: draft.actor.trim() || undefined,
    action: draft.action.trim() || undefined,
    target: draft.target.trim() || undefined,
    outcome: draft.outcome || undefined,
    from: iso(draft.from),
    to: iso(draft.to),
  };
}

function draftOf(params: URLSearchParams): Draft {
  return Object.fromEntries(FILTER_KEYS.map((k) => [k, params.get(k) ?? ''])) as Draft;
}

function EntryDetails({ entry, onClose }: { entry: AuditEntry | null; onClose: () => void }) {
  return (
    <Modal opened={entry !== null} onClose={onClose} title={entry ? `Audit entry #${entry.id}` : ''} size="lg" centered>
      {entry && (
        <Code block data-testid="audit-entry-json" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
          {JSON.stringify(entry, null, 2)}
        </Code>
      )}
    </Modal>
  );
}

function VerifyChain() {
  const verify = useMutation({ mutationFn: verifyAudit });
  const r = verify.data;
  return (
    <Stack gap="xs">
      <Group>
        <Button variant="default" onClick={() => verify.mutate()} loading={verify.isPending}>
          Verify chain
        </Button>
      </Group>
      {verify.error && <ErrorAlert error={verify.error} title="Could not verify the audit log" />}
      {r?.ok && (
        <Alert color="teal" variant="light" title="Chain intact" role="status" data-testid="verify-result" data-ok="true">
          Checked {r.checked} {r.checked === 1 ? 'entry' : 'entries'}
          {r.firstId !== undefined && ` (#${r.firstId} to #${r.lastId})`}: none was altered, removed or reordered.
        </Alert>
      )}
      {r && !r.ok && (
        <Alert color="red" variant="filled" title={`Chain broken at entry #${r.brokenAt?.id}`} role="alert" data-testid="verify-result" data-ok="false" data-broken-id={r.brokenAt?.id}>
          <Text size="sm">
            {r.brokenAt?.problem}: {r.brokenAt?.reason}
          </Text>
          <Text size="sm">Checked {r.checked} entries before it. Compare with an export you kept to see what changed.</Text>
        </Alert>
      )}
    </Stack>
  );
}

export default function AuditPage() {
  useDocumentTitle('Audit log · Pave');
  const session = useSession();
  if (session.data?.permissions['audit.read'] !== 'ALLOW') return <NotAllowed what="The audit log" permission="audit.read" />;
  return <AuditLog />;
}

function AuditLog() {
  const [params, setParams] = useSearchParams();
  const applied = draftOf(params);
  const filters = toFilters(applied);
  const [draft, setDraft] = useState<Draft>(applied);
  const [open, setOpen] = useState<AuditEntry | null>(null);

  const entries = useInfiniteQuery({
    queryKey: ['audit', filters],
    queryFn: ({ pageParam, signal }) => listAudit(filters, pageParam, PAGE_SIZE, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
    staleTime: 0,
  });
  const items = entries.data?.pages.flatMap((p) => p.items) ?? [];

  const apply = (ev: FormEvent) => {
    ev.preventDefault();
    setParams(Object.fromEntries(Object.entries(draft).filter(([, v]) => v.trim() !== '')), { replace: true });
  };
  const clear = () => {
    setDraft(draftOf(new URLSearchParams()));
    setParams({}, { replace: true });
  };
  const set = (key: keyof Draft) => (value: string) => setDraft((d) => ({ ...d, [key]: value }));

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Audit log</Title>
          <Text c="dimmed" size="sm">
            Every change, sign-in and refusal, newest first. Each entry is chained to the one before by its hash.
          </Text>
        </div>
        <Button component="a" href={auditExportUrl(filters)} download variant="light" data-testid="audit-export">
          Export JSON lines
        </Button>
      </Group>

      <Paper withBorder p="md" component="form" onSubmit={apply} aria-label="Audit filters">
        <SimpleGrid cols={{ base: 1, sm: 3, lg: 6 }} spacing="sm">
          <TextInput label="Actor" placeholder="user:default/jane" value={draft.actor} onChange={(e) => set('actor')(e.currentTarget.value)} spellCheck={false} />
          <TextInput label="Action" placeholder="catalog.* or auth.signin" value={draft.action} onChange={(e) => set('action')(e.currentTarget.value)} spellCheck={false} />
          <Select
            label="Outcome"
            placeholder="Any"
            data={['success', 'denied', 'error']}
            value={draft.outcome || null}
            onChange={(v) => set('outcome')(v ?? '')}
            clearable
          />
          <TextInput label="Target" placeholder="component:default/payments" value={draft.target} onChange={(e) => set('target')(e.currentTarget.value)} spellCheck={false} />
          <TextInput label="From" type="datetime-local" value={draft.from} onChange={(e) => set('from')(e.currentTarget.value)} />
          <TextInput label="To" type="datetime-local" value={draft.to} onChange={(e) => set('to')(e.currentTarget.value)} />
        </SimpleGrid>
        <Group mt="sm" gap="sm">
          <Button type="submit">Apply filters</Button>
          <Button variant="subtle" onClick={clear}>
            Clear
          </Button>
        </Group>
      </Paper>

      <VerifyChain />

      {entries.error && <ErrorAlert error={entries.error} title="Could not load the audit log" />}
      {entries.isLoading && <Loader aria-label="Loading audit entries" />}
      {entries.data && items.length === 0 && <Text c="dimmed">No entry matches these filters.</Text>}
      {items.length > 0 && (
        <Table.ScrollContainer minWidth={960}>
          <Table striped withTableBorder fz="sm" data-testid="audit-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Entry</Table.Th>
                <Table.Th>Time</Table.Th>
                <Table.Th>Actor</Table.Th>
                <Table.Th>Action</Table.Th>
                <Table.Th>Target</Table.Th>
                <Table.Th>Outcome</Table.Th>
                <Table.Th>Source</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((e) => (
                <Table.Tr key={e.id} data-testid="audit-row" data-action={e.action} data-actor={e.actor} data-outcome={e.outcome}>
                  <Table.Td>
                    <Anchor component="button" type="button" size="sm" onClick={() => setOpen(e)} aria-label={`Show audit entry ${e.id}`}>
                      #{e.id}
                    </Anchor>
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>{new Date(e.at).toLocaleString()}</Table.Td>
                  <Table.Td>
                    <Text size="sm" ff="monospace" style={{ whiteSpace: 'nowrap' }}>
                      {e.actor}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {e.actorType} · {e.authMethod}
                    </Text>
                  </Table.Td>
                  <Table.Td ff="monospace" style={{ whiteSpace: 'nowrap' }}>
                    {e.action}
                  </Table.Td>
                  <Table.Td ff="monospace" style={{ overflowWrap: 'anywhere' }}>
                    {e.target ?? '—'}
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>
                    <Badge color={OUTCOME_COLOR[e.outcome] ?? 'gray'} variant="light" styles={{ root: { overflow: 'visible' }, label: { overflow: 'visible', textOverflow: 'clip' } }}>
                      {e.outcome}
                    </Badge>
                    {e.status !== null && (
                      <Text size="xs" c="dimmed">
                        HTTP {e.status}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs" ff="monospace">
                      {e.sourceIp ?? '—'}
                    </Text>
                    {e.method && (
                      <Text size="xs" c="dimmed" ff="monospace" style={{ whiteSpace: 'nowrap' }}>
                        {e.method} {e.path}
                      </Text>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {entries.hasNextPage && (
        <Group justify="center">
          <Button variant="default" onClick={() => void entries.fetchNextPage()} loading={entries.isFetchingNextPage}>
            Load more
          </Button>
        </Group>
      )}
      <EntryDetails entry={open} onClose={() => setOpen(null)} />
    </Stack>
  );
}
