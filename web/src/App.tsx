import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { Link, Navigate, Route, Routes, useLocation, matchPath } from 'react-router-dom';
import { AppShell, Burger, Group, NavLink, Text, Title, UnstyledButton } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { CatalogPage } from './pages/CatalogPage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';
import { PageFallback } from './components/PageFallback.tsx';

const EntityPage = lazy(() => import('./pages/EntityPage.tsx'));
const RegisterPage = lazy(() => import('./pages/RegisterPage.tsx'));
const LocationsPage = lazy(() => import('./pages/LocationsPage.tsx'));

interface NavItem {
  to: string;
  label: string;
  description: string;
  icon: ReactNode;
  match: string[];
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
    to: '/register',
    label: 'Register',
    description: 'Import existing components',
    icon: <Icon d="M12 5v14M5 12h14" />,
    match: ['/register'],
  },
  {
    to: '/locations',
    label: 'Locations',
    description: 'Sources and their errors',
    icon: <Icon d="M12 21s-7-6.2-7-11.5A7 7 0 0 1 19 9.5C19 14.8 12 21 12 21zM12 12a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z" />,
    match: ['/locations'],
  },
];

function PaveLogo() {
  return (
    <svg width="28" height="28" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="7" fill="var(--mantine-color-indigo-8)" />
      <path d="M6 22h20M9 16h14M12 10h8" stroke="white" strokeWidth="3" strokeLinecap="round" />
    </svg>
  );
}

export function App() {
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();

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
          </Group>
        </AppShell.Header>

        <AppShell.Navbar p="sm" aria-label="Main navigation" component="nav">
          {NAV.map((item) => {
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
              <Route path="/register" element={<RegisterPage />} />
              <Route path="/locations" element={<LocationsPage />} />
              <Route path="/index.html" element={<Navigate to="/catalog" replace />} />
              <Route path="*" element={<NotFoundPage />} />
            </Routes>
          </Suspense>
        </AppShell.Main>
      </AppShell>
    </>
  );
}
