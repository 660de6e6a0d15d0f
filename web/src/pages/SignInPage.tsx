import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router-dom';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Center, Code, Divider, Group, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDocumentTitle } from '@mantine/hooks';
import { ApiError, safeReturnTo } from '../api.ts';
import { oidcStartUrl, signIn, signInAsGuest, type Session } from '../auth.ts';
import { SESSION_KEY, useSession } from '../session.ts';
import { ErrorAlert } from '../components/ErrorAlert.tsx';
import { PageFallback } from '../components/PageFallback.tsx';
import { PaveLogo } from '../components/PaveLogo.tsx';

/** A title that tells people what happened, for the sign-in failures they can act on. */
const FAILURE_TITLES: Record<string, string> = {
  SIGNIN_FAILED: 'Wrong username or password',
  ACCOUNT_LOCKED: 'Account locked',
  RATE_LIMITED: 'Too many sign-in attempts',
  SIGNIN_USER_NOT_FOUND: 'You are not in the catalog yet',
  SIGNIN_METHOD_DISABLED: 'This sign-in method is turned off',
  GUEST_DISABLED: 'Guest access is turned off',
};

function SignInFailure({ error }: { error: unknown }) {
  const code = error instanceof ApiError ? error.code : undefined;
  return <ErrorAlert error={error} title={(code && FAILURE_TITLES[code]) ?? 'Sign-in failed'} />;
}

export function SignInPage() {
  useDocumentTitle('Sign in · Pave');
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const session = useSession();
  const returnTo = safeReturnTo(params.get('returnTo'));
  // Set by single sign-on when it fails: /signin?error=CODE&message=...
  const redirectError = params.get('error');
  const redirectMessage = params.get('message');
  const revoked = params.get('revoked');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');

  const signedIn = (s: Session) => {
    // Nothing loaded for the previous visitor is kept.
    queryClient.clear();
    queryClient.setQueryData(SESSION_KEY, s);
    navigate(returnTo, { replace: true });
  };
  const local = useMutation({ mutationFn: () => signIn(username.trim(), password), onSuccess: signedIn, onError: () => setPassword('') });
  const guest = useMutation({ mutationFn: signInAsGuest, onSuccess: signedIn });

  if (session.isLoading) return <PageFallback />;
  if (session.data?.signedIn && !redirectError && !local.isPending && !guest.isPending) return <Navigate to={returnTo} replace />;
  const providers = session.data?.providers;

  const onSubmit = (ev: FormEvent) => {
    ev.preventDefault();
    guest.reset();
    local.mutate();
  };

  return (
    <Center mih="100vh" p="md" component="main" id="main-content">
      <Paper withBorder shadow="sm" p="xl" w="100%" maw={420}>
        <Stack gap="lg">
          <Group gap={10}>
            <PaveLogo size={36} />
            <div>
              <Title order={1} size="h2">
                Sign in to Pave
              </Title>
              <Text size="sm" c="dimmed">
                Internal Developer Platform
              </Text>
            </div>
          </Group>

          {redirectError && (
            <Alert color="red" variant="light" title={FAILURE_TITLES[redirectError] ?? 'Sign-in failed'} role="alert" data-testid="signin-error">
              <Text size="sm" data-testid="error-message">
                {redirectMessage ?? 'Signing in did not work; try again.'}
              </Text>
              <Text size="xs" c="dimmed" mt={4}>
                <Code data-testid="error-code">{redirectError}</Code>
              </Text>
            </Alert>
          )}
          {revoked !== null && (
            <Alert color="teal" variant="light" role="status">
              Signed out everywhere: {revoked} {revoked === '1' ? 'session was' : 'sessions were'} ended.
            </Alert>
          )}
          {session.error && <ErrorAlert error={session.error} title="Could not reach Pave" />}

          {providers?.oidc && (
            <Button size="md" fullWidth onClick={() => window.location.assign(oidcStartUrl(returnTo))}>
              Sign in with {providers.oidc.displayName}
            </Button>
          )}

          {providers?.local && (
            <>
              {providers.oidc && <Divider label="or with a Pave account" />}
              <Stack gap="sm" component="form" onSubmit={onSubmit} aria-label="Sign in with a Pave account">
                <TextInput
                  label="Username"
                  value={username}
                  onChange={(e) => setUsername(e.currentTarget.value)}
                  autoComplete="username"
                  autoCapitalize="none"
                  spellCheck={false}
                  required
                  data-autofocus
                />
                <PasswordInput
                  label="Password"
                  value={password}
                  onChange={(e) => setPassword(e.currentTarget.value)}
                  autoComplete="current-password"
                  required
                />
                {local.error && <SignInFailure error={local.error} />}
                <Button type="submit" loading={local.isPending} variant={providers.oidc ? 'default' : 'filled'} fullWidth>
                  Sign in
                </Button>
              </Stack>
            </>
          )}

          {providers?.guest && (
            <>
              <Divider />
              {guest.error && <SignInFailure error={guest.error} />}
              <Button variant="subtle" onClick={() => guest.mutate()} loading={guest.isPending} fullWidth>
                Continue as guest
              </Button>
              <Text size="xs" c="dimmed" ta="center" mt={-8}>
                Guests can look around but change nothing.
              </Text>
            </>
          )}

          {providers && !providers.local && !providers.oidc && !providers.guest && (
            <Text size="sm">No sign-in method is turned on: ask your platform team to configure auth in pave.yaml.</Text>
          )}
        </Stack>
      </Paper>
    </Center>
  );
}
