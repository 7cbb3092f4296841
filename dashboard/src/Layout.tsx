import {
  ActionIcon,
  AppShell,
  Burger,
  Group,
  Menu,
  NavLink,
  Select,
  Text,
  Tooltip,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import {
  IconAlertTriangle,
  IconChartBar,
  IconDashboard,
  IconDeviceDesktop,
  IconListDetails,
  IconLogout,
  IconMoon,
  IconSun,
  IconUserCircle,
  IconUsers,
} from '@tabler/icons-react';
import { Suspense } from 'react';
import { Link, Outlet, useLocation } from 'react-router';

import { useAuth, type Permission } from './auth/AuthProvider';
import { PageLoader } from './components/PageLoader';
import { REFRESH_CHOICES, useSettings } from './settings';

interface NavItem {
  to: string;
  label: string;
  icon: typeof IconUsers;
  permission?: Permission;
}

export const NAV: NavItem[] = [
  { to: '/', label: 'Overview', icon: IconDashboard },
  { to: '/users', label: 'Users', icon: IconUsers, permission: 'users:read' },
  { to: '/sessions', label: 'Sessions', icon: IconDeviceDesktop, permission: 'sessions:read' },
  { to: '/analytics', label: 'Analytics', icon: IconChartBar, permission: 'analytics:read' },
  { to: '/anomalies', label: 'Anomalies', icon: IconAlertTriangle, permission: 'anomalies:read' },
  { to: '/audit', label: 'Audit log', icon: IconListDetails, permission: 'audit:read' },
];

function ThemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme('light');
  const next = scheme === 'dark' ? 'light' : 'dark';
  return (
    <Tooltip label={`Switch to the ${next} theme`}>
      <ActionIcon
        variant="default"
        size="lg"
        aria-label={`Switch to the ${next} theme`}
        onClick={() => setColorScheme(next)}
      >
        {scheme === 'dark' ? <IconSun size={18} /> : <IconMoon size={18} />}
      </ActionIcon>
    </Tooltip>
  );
}

export function Layout() {
  const [opened, { toggle, close }] = useDisclosure();
  const { me, can, signOut } = useAuth();
  const { refreshSeconds, setRefreshSeconds } = useSettings();
  const location = useLocation();
  const items = NAV.filter((item) => !item.permission || can(item.permission));

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: 'md', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="md" size="sm" aria-label="Toggle navigation" />
            <Text fw={800} size="lg">
              Garrison
            </Text>
            <Text c="dimmed" size="sm" visibleFrom="xs">
              console
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Select
              aria-label="Refresh interval"
              size="xs"
              w={120}
              data={REFRESH_CHOICES.map((s) => ({ value: String(s), label: s ? `Every ${s} s` : 'Paused' }))}
              value={String(refreshSeconds)}
              onChange={(value) => value !== null && setRefreshSeconds(Number(value))}
              allowDeselect={false}
            />
            <ThemeToggle />
            <Menu position="bottom-end">
              <Menu.Target>
                <ActionIcon variant="default" size="lg" aria-label={`Account menu of ${me?.username ?? ''}`}>
                  <IconUserCircle size={18} />
                </ActionIcon>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>{me?.username}</Menu.Label>
                <Menu.Item leftSection={<IconLogout size={14} />} onClick={() => void signOut()}>
                  Sign out
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        {items.map((item) => {
          const active = item.to === '/' ? location.pathname === '/' : location.pathname.startsWith(item.to);
          return (
            <NavLink
              key={item.to}
              component={Link}
              to={item.to}
              label={item.label}
              leftSection={<item.icon size={18} stroke={1.6} />}
              active={active}
              aria-current={active ? 'page' : undefined}
              onClick={close}
            />
          );
        })}
      </AppShell.Navbar>
      <AppShell.Main>
        <Suspense fallback={<PageLoader label="Loading the page" />}>
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
