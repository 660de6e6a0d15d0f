import { Link } from 'react-router-dom';
import { useMutation } from '@tanstack/react-query';
import { Avatar, Badge, Group, Menu, Text, UnstyledButton } from '@mantine/core';
import { signOut, signOutEverywhere } from '../auth.ts';
import { useSession } from '../session.ts';

function initials(name: string): string {
  const words = name.replace(/^[a-z]+:(default\/)?/i, '').split(/[\s._-]+/).filter(Boolean);
  return (words.length > 1 ? words[0]![0]! + words[1]![0]! : (words[0] ?? '?').slice(0, 2)).toUpperCase();
}

/** The signed-in person in the header: who, with which roles, their tokens, and signing out. */
export function UserMenu() {
  const session = useSession();
  const principal = session.data?.principal;
  // A full navigation to the sign-in page: nothing of this session stays in memory.
  const out = useMutation({ mutationFn: signOut, onSettled: () => window.location.assign('/signin') });
  const everywhere = useMutation({
    mutationFn: signOutEverywhere,
    onSuccess: (r) => window.location.assign(`/signin?revoked=${r.revoked}`),
  });
  if (!principal) return null;
  const name = principal.displayName ?? principal.ref;
  const canHaveTokens = session.data?.permissions['auth.token.create'] === 'ALLOW';

  return (
    <Menu position="bottom-end" width={260} withinPortal>
      <Menu.Target>
        <UnstyledButton aria-label={`Account of ${name}`} data-testid="user-menu" style={{ borderRadius: 8, padding: '4px 6px' }}>
          <Group gap={8} wrap="nowrap">
            <Avatar color="indigo" radius="xl" size={32}>
              {initials(name)}
            </Avatar>
            <Text size="sm" fw={600} visibleFrom="sm" data-testid="user-name">
              {name}
            </Text>
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <div style={{ padding: '8px 12px' }}>
          <Text size="sm" fw={600}>
            {name}
          </Text>
          <Text size="xs" c="dimmed" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
            {principal.ref}
          </Text>
          <Group gap={4} mt={6} data-testid="user-roles">
            {principal.roles.map((r) => (
              <Badge key={r} size="sm" variant="light" color={r === 'admin' ? 'red' : r === 'guest' ? 'gray' : 'indigo'}>
                {r}
              </Badge>
            ))}
          </Group>
        </div>
        <Menu.Divider />
        {canHaveTokens && (
          <Menu.Item component={Link} to="/settings/tokens">
            Tokens
          </Menu.Item>
        )}
        <Menu.Item onClick={() => out.mutate()} disabled={out.isPending}>
          Sign out
        </Menu.Item>
        <Menu.Item color="red" onClick={() => everywhere.mutate()} disabled={everywhere.isPending} closeMenuOnClick={false}>
          Sign out everywhere
        </Menu.Item>
        {everywhere.error && (
          <Text size="xs" c="red" px="sm" pb="xs" role="alert">
            {everywhere.error.message}
          </Text>
        )}
      </Menu.Dropdown>
    </Menu>
  );
}
