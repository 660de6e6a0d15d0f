import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Loader,
  Modal,
  SegmentedControl,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue, useDocumentTitle } from '@mantine/hooks';
import { deleteLocation, getLocations, refreshLocation, type LocationEntry, type LocationError } from '../api.ts';
import { humanizeRef, refPath } from '../refs.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { useCan, useCanEach } from '../session.ts';

const STATE_COLOR: Record<string, string> = { ok: 'teal', failed: 'red', pending: 'yellow' };
const STATE_RANK: Record<string, number> = { failed: 0, pending: 1, ok: 2 };

function formatPosition(err: LocationError) {
  let s = err.location ?? '';
  if (err.line !== undefined && err.line !== null) {
    s += `:${err.line}`;
    if (err.column !== undefined && err.column !== null) s += `:${err.column}`;
  }
  return s;
}

function formatTime(iso: string | null | undefined) {
  if (!iso) return 'never';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString();
}

function LocationCard(props: {
  entry: LocationEntry;
  /** Absent when the signed-in person may not refresh this location. */
  onRefresh?: (id: string) => void;
  refreshing: boolean;
  /** Absent when the signed-in person may not unregister this location. */
  onRemove?: (entry: LocationEntry) => void;
}) {
  const { onRefresh, onRemove } = props;
  const { data } = props.entry;
  const state = data.status?.state ?? 'unknown';
  const errors = data.status?.errors ?? [];
  const headingId = `loc-${data.id}`;
  return (
    <Card
      withBorder
      padding="md"
      component="li"
      aria-labelledby={headingId}
      data-testid="location"
      data-location-id={data.id}
      data-state={state}
    >
      <Group justify="space-between" align="flex-start" wrap="nowrap">
        <Stack gap={4} style={{ minWidth: 0 }}>
          <Group gap="xs">
            <Badge color={STATE_COLOR[state] ?? 'gray'} variant={state === 'failed' ? 'filled' : 'light'} data-testid="location-state">
              {state}
            </Badge>
            <Badge color="gray" variant="outline" style={{ textTransform: 'none' }}>
              {data.type}
            </Badge>
          </Group>
          <Title order={3} size="h5" id={headingId} ff="monospace" style={{ overflowWrap: 'anywhere', fontWeight: 600 }}>
            {data.target}
          </Title>
          <Text size="xs" c="dimmed">
            Last read: {formatTime(data.status?.lastReadAt)} · id <Code fz="xs">{data.id}</Code>
          </Text>
        </Stack>
        <Group gap="xs" wrap="nowrap">
          {onRefresh && (
            <Button size="xs" variant="default" onClick={() => onRefresh(data.id)} loading={props.refreshing} aria-label={`Refresh ${data.target}`}>
              Refresh
            </Button>
          )}
          {onRemove && (
            <Button size="xs" color="red" variant="light" onClick={() => onRemove(props.entry)} aria-label={`Remove ${data.target}`}>
              Remove
            </Button>
          )}
        </Group>
      </Group>

      {errors.length > 0 && (
        <Table.ScrollContainer minWidth={600} mt="sm">
          <Table withTableBorder striped fz="sm" data-testid="location-errors">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Where</Table.Th>
                <Table.Th>Code</Table.Th>
                <Table.Th>Message</Table.Th>
                <Table.Th>Entity</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {errors.map((err, i) => (
                <Table.Tr key={i} data-testid="location-error">
                  <Table.Td ff="monospace" style={{ overflowWrap: 'anywhere' }} data-testid="location-error-position">
                    {formatPosition(err)}
                  </Table.Td>
                  <Table.Td>{err.code && <Code>{err.code}</Code>}</Table.Td>
                  <Table.Td style={{ whiteSpace: 'pre-wrap' }}>{err.message}</Table.Td>
                  <Table.Td>
                    {err.entityRef && (
                      <Anchor component={Link} to={refPath(err.entityRef)} size="sm">
                        {humanizeRef(err.entityRef)}
                      </Anchor>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  );
}

export default function LocationsPage() {
  useDocumentTitle('Locations · Pave');
  const queryClient = useQueryClient();
  const [show, setShow] = useState<'all' | 'failed'>('all');
  const [search, setSearch] = useState('');
  const [debouncedSearch] = useDebouncedValue(search, 200);
  const [toRemove, setToRemove] = useState<LocationEntry | null>(null);
  const [refreshing, setRefreshing] = useState<string | null>(null);

  const locations = useQuery({
    queryKey: ['locations'],
    queryFn: ({ signal }) => getLocations(signal),
    refetchInterval: (q) => (q.state.data?.some((l) => l.data.status?.state === 'pending') ? 1500 : false),
  });

  const refresh = useMutation({
    mutationFn: (id: string) => refreshLocation(id),
    onMutate: (id) => setRefreshing(id),
    onSettled: async () => {
      await queryClient.invalidateQueries({ queryKey: ['locations'] });
      // A refresh is processed in the background; look again shortly after.
      setTimeout(() => {
        setRefreshing(null);
        void queryClient.invalidateQueries();
      }, 1000);
    },
  });

  const remove = useMutation({
    mutationFn: (id: string) => deleteLocation(id),
    onSuccess: () => {
      setToRemove(null);
      void queryClient.invalidateQueries();
    },
  });

  const all = locations.data ?? [];
  const ids = useMemo(() => all.map((l) => l.data.id), [all]);
  const canRefresh = useCanEach('catalog.location.refresh', ids);
  const canRemove = useCanEach('catalog.location.delete', ids);
  const canRegister = useCan('catalog.location.create').allowed;
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const l of all) {
      const s = l.data.status?.state ?? 'unknown';
      c[s] = (c[s] ?? 0) + 1;
    }
    return c;
  }, [all]);
  const visible = useMemo(() => {
    const q = debouncedSearch.trim().toLowerCase();
    return all
      .filter((l) => show === 'all' || l.data.status?.state === 'failed')
      .filter((l) => !q || l.data.target.toLowerCase().includes(q))
      .sort(
        (a, b) =>
          (STATE_RANK[a.data.status?.state ?? ''] ?? 3) - (STATE_RANK[b.data.status?.state ?? ''] ?? 3) ||
          a.data.target.localeCompare(b.data.target),
      );
  }, [all, show, debouncedSearch]);

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Locations</Title>
          <Text c="dimmed" size="sm">
            Where Pave reads catalog files from, whether the last read worked, and what went wrong.
          </Text>
        </div>
        {canRegister && (
          <Button component={Link} to="/register" variant="light">
            Register a location
          </Button>
        )}
      </Group>

      <Group gap="sm" align="flex-end">
        <TextInput
          label="Filter by target"
          placeholder="Part of a path or URL"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          type="search"
          style={{ flex: 1, minWidth: 220, maxWidth: 420 }}
        />
        <div>
          <Text size="sm" fw={500} mb={4} id="show-label">
            Show
          </Text>
          <SegmentedControl
            aria-labelledby="show-label"
            value={show}
            onChange={(v) => setShow(v as 'all' | 'failed')}
            data={[
              { value: 'all', label: `All (${all.length})` },
              { value: 'failed', label: `Failed (${counts.failed ?? 0})` },
            ]}
          />
        </div>
        <Group gap={6} ml="auto" aria-label="Summary">
          <Badge color="teal" variant="light">
            {counts.ok ?? 0} ok
          </Badge>
          <Badge color="red" variant="light">
            {counts.failed ?? 0} failed
          </Badge>
          <Badge color="yellow" variant="light">
            {counts.pending ?? 0} pending
          </Badge>
        </Group>
      </Group>

      {refresh.error && <ErrorAlert error={refresh.error} title="Refresh failed" />}
      {locations.error && <ErrorAlert error={locations.error} title="Could not load locations" />}
      {locations.isLoading && (
        <Group justify="center" py="lg">
          <Loader aria-label="Loading locations" />
        </Group>
      )}
      {locations.data && visible.length === 0 && (
        <Text c="dimmed">{all.length === 0 ? 'No locations are registered yet.' : 'No location matches.'}</Text>
      )}

      <Stack gap="sm" component="ul" style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label="Registered locations">
        {visible.map((entry) => (
          <LocationCard
            key={entry.data.id}
            entry={entry}
            onRefresh={canRefresh.allows(entry.data.id) ? (id) => refresh.mutate(id) : undefined}
            refreshing={refreshing === entry.data.id}
            onRemove={canRemove.allows(entry.data.id) ? setToRemove : undefined}
          />
        ))}
      </Stack>

      <Modal
        opened={toRemove !== null}
        onClose={() => {
          setToRemove(null);
          remove.reset();
        }}
        title="Remove location?"
        centered
      >
        <Stack gap="sm">
          <Text size="sm">
            Pave will stop reading <Code style={{ overflowWrap: 'anywhere' }}>{toRemove?.data.target}</Code> and remove the
            entities that came only from it.
          </Text>
          {remove.error && <ErrorAlert error={remove.error} title="Could not remove the location" />}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setToRemove(null)}>
              Cancel
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => toRemove && remove.mutate(toRemove.data.id)}>
              Remove location
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
