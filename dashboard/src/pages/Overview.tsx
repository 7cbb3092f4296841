import { DonutChart } from '@mantine/charts';
import { Alert, Anchor, Card, Grid, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';

import { api, unwrap } from '../api/client';
import { useAuth } from '../auth/AuthProvider';
import { AnomalyStatusBadge, SessionStateBadge, SeverityBadge } from '../components/Badges';
import { KpiCard } from '../components/KpiCard';
import { LoginTrend } from '../components/LoginTrend';
import { QueryState } from '../components/QueryState';
import type { Interval } from '../lib/charts';
import { browserTimeZone, formatDateTime } from '../lib/format';
import { sessionStateSlices } from '../lib/sessions';
import { useLive } from '../settings';

function Section({
  title,
  link,
  children,
}: {
  title: string;
  link?: { to: string; label: string };
  children: React.ReactNode;
}) {
  return (
    <Card withBorder radius="md" padding="md" component="section" aria-label={title}>
      <Group justify="space-between" mb="sm">
        <Title order={3} size="h4">
          {title}
        </Title>
        {link && (
          <Anchor component={Link} to={link.to} size="sm">
            {link.label}
          </Anchor>
        )}
      </Group>
      {children}
    </Card>
  );
}

function Kpis() {
  const live = useLive();
  const stats = useQuery({
    queryKey: ['stats'],
    ...live,
    queryFn: async () => unwrap(await api.GET('/api/v1/admin/stats')),
  });
  const s = stats.data;
  return (
    <QueryState query={stats} label="statistics">
      {() => (
        <SimpleGrid cols={{ base: 2, sm: 3, lg: 7 }} spacing="sm">
          <KpiCard label="Users" value={s?.users_total} hint={`${s?.users_active ?? 0} active`} testId="kpi-users" />
          <KpiCard
            label="Blocked"
            value={s?.users_blocked}
            color="red"
            hint={`${s?.users_locked ?? 0} locked`}
            testId="kpi-blocked"
          />
          <KpiCard label="Admins" value={s?.admins} testId="kpi-admins" />
          <KpiCard label="Active sessions" value={s?.active_sessions} color="teal" testId="kpi-active-sessions" />
          <KpiCard label="Logins 24 h" value={s?.logins_24h} testId="kpi-logins" />
          <KpiCard label="Failed logins 24 h" value={s?.failed_logins_24h} color="orange" testId="kpi-failed-logins" />
          <KpiCard label="Open anomalies" value={s?.open_anomalies} color="red" testId="kpi-open-anomalies" />
        </SimpleGrid>
      )}
    </QueryState>
  );
}

function SessionStates() {
  const live = useLive();
  const states = useQuery({
    queryKey: ['session-states'],
    ...live,
    queryFn: async () => unwrap(await api.GET('/api/v1/admin/analytics/sessions')),
  });
  return (
    <QueryState
      query={states}
      label="session states"
      isEmpty={(data) => data.active + data.expired + data.revoked === 0}
      emptyText="No sessions yet."
    >
      {(data) => (
        <Group justify="center" gap="xl">
          <DonutChart
            data={sessionStateSlices(data)}
            withLabels
            withLabelsLine={false}
            size={160}
            thickness={26}
            role="group"
            aria-label="Sessions by state"
          />
          <Stack gap={4}>
            <Text size="sm">Active: {data.active}</Text>
            <Text size="sm">Expired: {data.expired}</Text>
            <Text size="sm">Revoked: {data.revoked}</Text>
          </Stack>
        </Group>
      )}
    </QueryState>
  );
}

function LatestAnomalies() {
  const live = useLive();
  const feed = useQuery({
    queryKey: ['anomalies', 'latest'],
    ...live,
    queryFn: async () => unwrap(await api.GET('/api/v1/admin/anomalies', { params: { query: { page_size: 5 } } })),
  });
  return (
    <QueryState query={feed} label="anomalies" isEmpty={(data) => data.items.length === 0} emptyText="No anomalies.">
      {(data) => (
        <Table aria-label="Latest anomalies">
          <Table.Tbody>
            {data.items.map((anomaly) => (
              <Table.Tr key={anomaly.id}>
                <Table.Td>
                  <Text size="sm">{anomaly.type.replaceAll('_', ' ')}</Text>
                  <Text size="xs" c="dimmed">
                    {formatDateTime(anomaly.created_at)}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <SeverityBadge severity={anomaly.severity} />
                </Table.Td>
                <Table.Td>
                  <AnomalyStatusBadge status={anomaly.status} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </QueryState>
  );
}

function LatestSessions() {
  const live = useLive();
  const sessions = useQuery({
    queryKey: ['sessions', 'latest'],
    ...live,
    queryFn: async () => unwrap(await api.GET('/api/v1/admin/sessions', { params: { query: { page_size: 5 } } })),
  });
  return (
    <QueryState
      query={sessions}
      label="sessions"
      isEmpty={(data) => data.items.length === 0}
      emptyText="No sessions yet."
    >
      {(data) => (
        <Table aria-label="Latest sessions">
          <Table.Tbody>
            {data.items.map((session) => (
              <Table.Tr key={session.id}>
                <Table.Td>
                  <Anchor component={Link} to={`/users/${session.user.id}`} size="sm">
                    {session.user.username}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <SessionStateBadge state={session.state} />
                </Table.Td>
                <Table.Td>
                  <Text size="xs">{session.ip ?? '—'}</Text>
                </Table.Td>
                <Table.Td>
                  <Text size="xs" c="dimmed">
                    {formatDateTime(session.created_at)}
                  </Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </QueryState>
  );
}

export function OverviewPage() {
  const { can, me } = useAuth();
  const [interval, setInterval] = useState<Interval>('day');
  return (
    <Stack>
      <Title order={2}>Overview</Title>
      {me && me.permissions.length === 0 && (
        <Alert color="yellow" title="Nothing to administer">
          Your roles ({me.roles.join(', ') || 'none'}) grant no administrative permission. Ask an administrator for one
          if you need the console.
        </Alert>
      )}
      {can('analytics:read') && <Kpis />}
      {can('analytics:read') && (
        <Grid gutter="md">
          <Grid.Col span={{ base: 12, md: 4 }}>
            <Section title="Sessions by state">
              <SessionStates />
            </Section>
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 8 }}>
            <Section title="Logins" link={{ to: '/analytics', label: 'Analytics' }}>
              <LoginTrend interval={interval} onInterval={setInterval} timeZone={browserTimeZone()} height={200} />
            </Section>
          </Grid.Col>
        </Grid>
      )}
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
        {can('anomalies:read') && (
          <Section title="Latest anomalies" link={{ to: '/anomalies', label: 'All anomalies' }}>
            <LatestAnomalies />
          </Section>
        )}
        {can('sessions:read') && (
          <Section title="Latest sessions" link={{ to: '/sessions', label: 'All sessions' }}>
            <LatestSessions />
          </Section>
        )}
      </SimpleGrid>
    </Stack>
  );
}
