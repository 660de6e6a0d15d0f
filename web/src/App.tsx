import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { Link, Navigate, Route, Routes, useLocation, matchPath } from 'react-router-dom';
import { AppShell, Burger, Button, Group, NavLink, Stack, Text, Title, UnstyledButton } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { signInPath } from './api.ts';
import { useSession } from './session.ts';
import { CatalogPage } from './pages/CatalogPage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';
import { SignInPage } from './pages/SignInPage.tsx';
import { ErrorAlert } from './components/ErrorAlert.tsx';
import { PageFallback } from './components/PageFallback.tsx';
import { PaveLogo } from './components/PaveLogo.tsx';
import { UserMenu } from './components/UserMenu.tsx';
import { SearchDialog } from './components/SearchDialog.tsx';

const EntityPage = lazy(() => import('./pages/EntityPage.tsx'));
const RegisterPage = lazy(() => import('./pages/RegisterPage.tsx'));
const LocationsPage = lazy(() => import('./pages/LocationsPage.tsx'));
const TokensPage = lazy(() => import('./pages/TokensPage.tsx'));
const DevicePage = lazy(() => import('./pages/DevicePage.tsx'));
const AuditPage = lazy(() => import('./pages/AuditPage.tsx'));
const DocsHomePage = lazy(() => import('./pages/DocsHomePage.tsx'));
const DocsPage = lazy(() => import('./pages/DocsPage.tsx'));
const SearchPage = lazy(() => import('./pages/SearchPage.tsx'));
const CreatePage = lazy(() => import('./pages/CreatePage.tsx'));
const TemplateFormPage = lazy(() => import('./pages/TemplateFormPage.tsx'));
const TaskPage = lazy(() => import('./pages/TaskPage.tsx'));
const TaskListPage = lazy(() => import('./pages/TaskPage.tsx').then((m) => ({ default: m.TaskListPage })));
const TemplateEditorPage = lazy(() => import('./pages/TemplateEditorPage.tsx'));
const RepoPage = lazy(() => import('./pages/RepoPage.tsx'));
const RepoListPage = lazy(() => import('./pages/RepoPage.tsx').then((m) => ({ default: m.RepoListPage })));
const ChangeRequestsPage = lazy(() => import('./pages/ChangeRequestsPage.tsx'));
const ChangeRequestPage = lazy(() => import('./pages/ChangeRequestPage.tsx'));

interface NavItem {
  to: string;
  label: string;
  description: string;
  icon: ReactNode;
  match: string[];
  /** Shown only when the session's decision for this permission is ALLOW. */
  permission?: string;
}

function Icon({ d }: { d: string }) {
  return (
    <svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <path d={d} />
    </svg>
  );
}

const NAV: NavItem[] = [
  {
    to: '/catalog',
    label: 'Catalog',
    description: 'Browse all entities',
    icon: <Icon d="M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z" />,
    match: ['/', '/catalog/*'],
  },
  {
    to: '/docs',
    label: 'Docs',
    description: 'Documentation sites',
    icon: <Icon d="M2 3h6a4 4 0 0 1 4 4v14a3 3 0 0 0-3-3H2zM22 3h-6a4 4 0 0 0-4 4v14a3 3 0 0 1 3-3h7z" />,
    match: ['/docs', '/docs/*'],
  },
  {
    to: '/create',
    label: 'Create',
    description: 'New components from templates',
    icon: <Icon d="M12 3l2.5 5.5L20 11l-5.5 2.5L12 19l-2.5-5.5L4 11l5.5-2.5z" />,
    match: ['/create', '/create/*', '/repos', '/repos/*'],
    permission: 'scaffolder.task.create',
  },
  {
    to: '/register',
    label: 'Register',
    description: 'Import existing components',
    icon: <Icon d="M12 5v14M5 12h14" />,
    match: ['/register'],
    permission: 'catalog.location.create',
  },
  {
    to: '/locations',
    label: 'Locations',
    description: 'Sources and their errors',
    icon: <Icon d="M12 21s-7-6.2-7-11.5A7 7 0 0 1 19 9.5C19 14.8 12 21 12 21zM12 12a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z" />,
    match: ['/locations'],
  },
  {
    to: '/audit',
    label: 'Audit',
    description: 'Who did what, and when',
    icon: <Icon d="M9 11l3 3 8-8M20 12v7a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h9" />,
    match: ['/audit'],
    permission: 'audit.read',
  },
];

export function App() {
  return (
    <Routes>
      <Route path="/signin" element={<SignInPage />} />
      <Route
        path="*"
        element={
          <RequireSession>
            <Shell />
          </RequireSession>
        }
      />
    </Routes>
  );
}

/** Everything but the sign-in page needs a session: without one, sign in and come back here. */
function RequireSession({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  if (session.isLoading) return <PageFallback />;
  if (session.error) {
    return (
      <Stack maw={640} mx="auto" mt="xl" p="md">
        <ErrorAlert error={session.error} title="Could not reach Pave" />
        <Button variant="default" onClick={() => void session.refetch()} style={{ alignSelf: 'flex-start' }}>
          Try again
        </Button>
      </Stack>
    );
  }
  if (!session.data?.signedIn) return <Navigate to={signInPath(location.pathname + location.search)} replace />;
  return children;
}

function Shell() {
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const permissions = useSession().data?.permissions ?? {};
  const nav = NAV.filter((item) => !item.permission || permissions[item.permission] === 'ALLOW');

  // Close the mobile navigation after navigating.
  useEffect(() => close(), [location.pathname, close]);

  return (
    <>
      <a href="#main-content" className="pave-skip-link">
        Skip to content
      </a>
      <AppShell
        header={{ height: 60 }}
        navbar={{ width: 240, breakpoint: 'sm', collapsed: { mobile: !opened } }}
        padding="lg"
      >
        <AppShell.Header>
          <Group h="100%" px="md" gap="sm">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label={opened ? 'Close navigation' : 'Open navigation'}
            />
            <UnstyledButton component={Link} to="/catalog" aria-label="Pave, go to the catalog">
              <Group gap={10}>
                <PaveLogo />
                <Title order={1} size="h3" fw={700}>
                  Pave
                </Title>
              </Group>
            </UnstyledButton>
            <Text c="dimmed" size="sm" visibleFrom="sm">
              Internal Developer Platform
            </Text>
            <Group ml="auto">
              <SearchDialog />
              <UserMenu />
            </Group>
          </Group>
        </AppShell.Header>

        <AppShell.Navbar p="sm" aria-label="Main navigation" component="nav">
          {nav.map((item) => {
            const active = item.match.some((p) => matchPath({ path: p, end: true }, location.pathname) !== null);
            return (
              <NavLink
                key={item.to}
                component={Link}
                to={item.to}
                label={item.label}
                description={item.description}
                leftSection={item.icon}
                active={active}
                aria-current={active ? 'page' : undefined}
                variant="light"
                style={{ borderRadius: 8 }}
              />
            );
          })}
        </AppShell.Navbar>

        <AppShell.Main id="main-content" tabIndex={-1} style={{ outline: 'none' }}>
          <Suspense fallback={<PageFallback />}>
            <Routes>
              <Route path="/" element={<CatalogPage />} />
              <Route path="/catalog" element={<CatalogPage />} />
              <Route path="/catalog/:namespace/:kind/:name" element={<EntityPage />} />
              <Route path="/docs" element={<DocsHomePage />} />
              <Route path="/docs/:namespace/:kind/:name/*" element={<DocsPage />} />
              <Route path="/search" element={<SearchPage />} />
              <Route path="/create" element={<CreatePage />} />
              <Route path="/create/templates/:namespace/:name" element={<TemplateFormPage />} />
              <Route path="/create/tasks" element={<TaskListPage />} />
              <Route path="/create/tasks/:taskId" element={<TaskPage />} />
              <Route path="/create/edit" element={<TemplateEditorPage />} />
              <Route path="/repos" element={<RepoListPage />} />
              <Route path="/repos/:org/:name" element={<RepoPage />} />
              <Route path="/repos/:org/:name/changes" element={<ChangeRequestsPage />} />
              <Route path="/repos/:org/:name/changes/:number" element={<ChangeRequestPage />} />
              <Route path="/register" element={<RegisterPage />} />
              <Route path="/locations" element={<LocationsPage />} />
              <Route path="/settings/tokens" element={<TokensPage />} />
              <Route path="/device" element={<DevicePage />} />
              <Route path="/audit" element={<AuditPage />} />
              <Route path="/index.html" element={<Navigate to="/catalog" replace />} />
              <Route path="*" element={<NotFoundPage />} />
            </Routes>
          </Suspense>
        </AppShell.Main>
      </AppShell>
    </>
  );
}
