import { BarChart } from '@mantine/charts';
import {
  Anchor,
  Badge,
  Button,
  Card,
  Grid,
  Group,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Timeline,
  Title,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';

import { api, unwrap } from '../api/client';
import { useAuth } from '../auth/AuthProvider';
import { AnomalyStatusBadge, SeverityBadge, UserStatusBadge } from '../components/Badges';
import { confirmDestructive } from '../components/confirm';
import { KpiCard } from '../components/KpiCard';
import { QueryState } from '../components/QueryState';
import { SessionsTable } from '../components/SessionsTable';
import { BlockDialog, EditUserDrawer } from '../components/UserDialogs';
import { useUserActions } from '../components/userActions';
import { browserTimeZone, formatDateTime, formatDuration } from '../lib/format';
import { useLive } from '../settings';

function Detail({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <Group justify="space-between" gap="xs" wrap="nowrap">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="sm" ta="right">
        {value || '—'}
      </Text>
    </Group>
  );
}

export function UserProfilePage() {
  const { userId = '' } = useParams();
  const { can } = useAuth();
  const live = useLive();
  const action = useUserActions();
  const [editing, setEditing] = useState(false);
  const [blocking, setBlocking] = useState(false);
  const profile = useQuery({
    queryKey: ['profile', userId],
    ...live,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/admin/users/{user_id}/profile', {
          params: { path: { user_id: userId }, query: { tz: browserTimeZone() } },
        }),
      ),
  });

  return (
    <Stack>
      <Anchor component={Link} to="/users" size="sm">
        ← Users
      </Anchor>
      <QueryState query={profile} label="the user's profile">
        {({ user, counts, timeline, daily_logins, anomalies }) => (
          <Stack>
            <Group justify="space-between" wrap="wrap">
              <Group gap="sm">
                <Title order={2}>{user.full_name ?? user.username}</Title>
                <UserStatusBadge status={user.status} />
                {user.must_change_password && <Badge color="yellow">must change password</Badge>}
              </Group>
              <Group gap="xs">
                {can('users:write') && (
                  <Button variant="default" onClick={() => setEditing(true)}>
                    Edit
                  </Button>
                )}
                {can('users:block') && user.status === 'locked' && (
                  <Button variant="default" onClick={() => action.mutate({ user, action: 'unlock' })}>
                    Unlock
                  </Button>
                )}
                {can('users:block') &&
                  (user.status === 'blocked' ? (
                    <Button variant="default" onClick={() => action.mutate({ user, action: 'unblock' })}>
                      Unblock
                    </Button>
                  ) : (
                    <Button color="red" variant="light" onClick={() => setBlocking(true)}>
                      Block
                    </Button>
                  ))}
                {can('users:block') && counts.sessions_active > 0 && (
                  <Button
                    color="red"
                    variant="light"
                    onClick={() =>
                      confirmDestructive({
                        title: `End every session of ${user.username}?`,
                        message: 'They are signed out everywhere at once.',
                        confirmLabel: 'Revoke all sessions',
                        onConfirm: () => action.mutate({ user, action: 'revoke' }),
                      })
                    }
                  >
                    Revoke all sessions
                  </Button>
                )}
              </Group>
            </Group>
            <SimpleGrid cols={{ base: 2, md: 4 }} spacing="sm">
              <KpiCard label="Active sessions" value={counts.sessions_active} testId="profile-active-sessions" />
              <KpiCard label="Sessions" value={counts.sessions_total} testId="profile-sessions" />
              <KpiCard label="Successful logins" value={counts.logins_success} testId="profile-logins" />
              <KpiCard label="Failed logins" value={counts.logins_failed} color="orange" testId="profile-failed" />
            </SimpleGrid>
            <Grid gutter="md">
              <Grid.Col span={{ base: 12, md: 4 }}>
                <Card withBorder radius="md" component="section" aria-label="Details">
                  <Title order={3} size="h4" mb="sm">
                    Details
                  </Title>
                  <Stack gap={6}>
                    <Detail label="Username" value={user.username} />
                    <Detail label="Email" value={user.email} />
                    <Detail
                      label="Roles"
                      value={
                        <Group gap={4} justify="flex-end">
                          {user.roles.map((role) => (
                            <Badge key={role} variant="default" size="sm">
                              {role}
                            </Badge>
                          ))}
                        </Group>
                      }
                    />
                    <Detail label="Department" value={user.department} />
                    <Detail label="Rank" value={user.rank} />
                    <Detail label="Location" value={user.location} />
                    <Detail label="Contact" value={user.contact_number} />
                    <Detail label="Created" value={formatDateTime(user.created_at)} />
                    <Detail label="Last login" value={formatDateTime(user.last_login_at)} />
                    <Detail
                      label="Account expires"
                      value={user.account_expires_at ? formatDateTime(user.account_expires_at) : 'never'}
                    />
                    {user.locked_until && <Detail label="Locked until" value={formatDateTime(user.locked_until)} />}
                  </Stack>
                </Card>
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 8 }}>
                <Card withBorder radius="md" component="section" aria-label="Daily logins">
                  <Title order={3} size="h4" mb="sm">
                    Daily logins (30 days)
                  </Title>
                  <BarChart
                    h={220}
                    data={daily_logins.map((d) => ({
                      date: d.date.slice(5),
                      Successful: d.success,
                      Failed: d.failure,
                    }))}
                    dataKey="date"
                    type="stacked"
                    series={[
                      { name: 'Successful', color: 'teal.6' },
                      { name: 'Failed', color: 'red.6' },
                    ]}
                    withLegend
                    aria-label="Daily logins chart"
                  />
                </Card>
              </Grid.Col>
            </Grid>
            <Grid gutter="md">
              <Grid.Col span={{ base: 12, md: 5 }}>
                <Card withBorder radius="md" component="section" aria-label="Login and logout timeline">
                  <Title order={3} size="h4" mb="sm">
                    Timeline
                  </Title>
                  {timeline.length === 0 ? (
                    <Text c="dimmed" size="sm">
                      No sign-ins yet.
                    </Text>
                  ) : (
                    <Timeline bulletSize={14} lineWidth={2}>
                      {timeline.slice(0, 12).map((entry) => (
                        <Timeline.Item key={entry.session_id} title={`Signed in ${formatDateTime(entry.login_at)}`}>
                          <Text size="xs" c="dimmed">
                            {entry.ip ?? 'unknown address'} · {entry.device ?? 'unknown device'}
                          </Text>
                          <Text size="xs">
                            {entry.logout_at
                              ? `Ended ${formatDateTime(entry.logout_at)} (${entry.end_reason ?? 'ended'}) after ${formatDuration(entry.duration_seconds)}`
                              : entry.state === 'active'
                                ? 'Still active'
                                : 'Expired'}
                          </Text>
                        </Timeline.Item>
                      ))}
                    </Timeline>
                  )}
                </Card>
              </Grid.Col>
              <Grid.Col span={{ base: 12, md: 7 }}>
                <Card withBorder radius="md" component="section" aria-label="Sessions">
                  <Title order={3} size="h4" mb="sm">
                    Sessions
                  </Title>
                  {timeline.length === 0 ? (
                    <Text c="dimmed" size="sm">
                      No sessions.
                    </Text>
                  ) : (
                    <SessionsTable
                      sessions={timeline.map((entry) => ({
                        id: entry.session_id,
                        user,
                        state: entry.state,
                        ip: entry.ip,
                        device: entry.device,
                        startedAt: entry.login_at,
                      }))}
                      label="The user's sessions"
                      testId="profile-sessions-table"
                      minWidth={520}
                    />
                  )}
                </Card>
              </Grid.Col>
            </Grid>
            <Card withBorder radius="md" component="section" aria-label="Anomalies">
              <Title order={3} size="h4" mb="sm">
                Anomalies
              </Title>
              {anomalies.length === 0 ? (
                <Text c="dimmed" size="sm">
                  No anomalies for this user.
                </Text>
              ) : (
                <Table aria-label="The user's anomalies">
                  <Table.Tbody>
                    {anomalies.map((anomaly) => (
                      <Table.Tr key={anomaly.id}>
                        <Table.Td>{formatDateTime(anomaly.created_at)}</Table.Td>
                        <Table.Td>{anomaly.type.replaceAll('_', ' ')}</Table.Td>
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
            </Card>
            <EditUserDrawer userId={editing ? user.id : null} onClose={() => setEditing(false)} />
            <BlockDialog
              user={blocking ? user : null}
              pending={action.isPending}
              onClose={() => setBlocking(false)}
              onBlock={(reason) =>
                action.mutate({ user, action: 'block', reason }, { onSettled: () => setBlocking(false) })
              }
            />
          </Stack>
        )}
      </QueryState>
    </Stack>
  );
}
