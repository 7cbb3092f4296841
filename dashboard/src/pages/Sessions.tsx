import { Anchor, Button, Group, Paper, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';

import { api, unwrap, type Schemas } from '../api/client';
import { useAuth } from '../auth/AuthProvider';
import { SessionStateBadge } from '../components/Badges';
import { confirmDestructive } from '../components/confirm';
import { Pager } from '../components/Pager';
import { QueryState } from '../components/QueryState';
import { dayEnd, dayStart, formatDateTime } from '../lib/format';
import { notifyDone, notifyFailed } from '../lib/notify';
import { useLive } from '../settings';

type SessionRow = Schemas['AdminSessionRow'];
type State = 'active' | 'expired' | 'revoked';

export function useRevokeSession() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (session: { id: string }) =>
      unwrap(
        await api.POST('/api/v1/admin/sessions/{session_id}/revoke', {
          params: { path: { session_id: session.id } },
          body: { reason: 'Revoked from the console' },
        }),
      ),
    onSuccess: () => {
      notifyDone('Session revoked; its tokens stop working now.');
      for (const key of ['sessions', 'profile', 'stats', 'session-states', 'users']) {
        void queryClient.invalidateQueries({ queryKey: [key] });
      }
    },
    onError: (error) => notifyFailed(error),
  });
}

export function confirmRevoke(session: { id: string; username?: string }, revoke: (s: { id: string }) => void): void {
  confirmDestructive({
    title: 'Revoke this session?',
    message: `${session.username ? `${session.username} is` : 'The user is'} signed out of this session at once; its access and refresh tokens stop working.`,
    confirmLabel: 'Revoke session',
    onConfirm: () => revoke(session),
  });
}

export function SessionsPage() {
  const { can } = useAuth();
  const live = useLive();
  const [state, setState] = useState<string | null>(null);
  const [ip, setIp] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(25);
  const revoke = useRevokeSession();
  const [ipQuery] = useDebouncedValue(ip.trim(), 300);

  const sessions = useQuery({
    queryKey: ['sessions', state, ipQuery, from, to, page, pageSize],
    placeholderData: keepPreviousData,
    ...live,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/admin/sessions', {
          params: {
            query: {
              state: (state ?? undefined) as State | undefined,
              ip: ipQuery || undefined,
              from: dayStart(from),
              to: dayEnd(to),
              page,
              page_size: pageSize,
            },
          },
        }),
      ),
  });
  const reset = () => setPage(1);

  return (
    <Stack>
      <Title order={2}>Sessions</Title>
      <Paper withBorder p="md" radius="md">
        <Group align="flex-end" gap="sm" role="search" aria-label="Filter sessions">
          <Select
            label="State"
            placeholder="Any state"
            data={[
              { value: 'active', label: 'Active' },
              { value: 'expired', label: 'Expired' },
              { value: 'revoked', label: 'Revoked' },
            ]}
            value={state}
            onChange={(value) => {
              setState(value);
              reset();
            }}
            clearable
            w={150}
          />
          <TextInput
            label="IP address"
            value={ip}
            onChange={(e) => {
              setIp(e.currentTarget.value);
              reset();
            }}
            w={170}
          />
          <TextInput
            label="Started from"
            type="date"
            value={from}
            onChange={(e) => {
              setFrom(e.currentTarget.value);
              reset();
            }}
          />
          <TextInput
            label="Started until"
            type="date"
            value={to}
            onChange={(e) => {
              setTo(e.currentTarget.value);
              reset();
            }}
          />
          {(state || ip || from || to) && (
            <Button
              variant="subtle"
              onClick={() => {
                setState(null);
                setIp('');
                setFrom('');
                setTo('');
                reset();
              }}
            >
              Clear filters
            </Button>
          )}
        </Group>
      </Paper>
      <Paper withBorder p="md" radius="md">
        <QueryState
          query={sessions}
          label="sessions"
          isEmpty={(d) => d.items.length === 0}
          emptyText="No session matches these filters."
        >
          {(data) => (
            <>
              <Table.ScrollContainer minWidth={900}>
                <Table striped highlightOnHover aria-label="Sessions" data-testid="sessions-table">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>User</Table.Th>
                      <Table.Th>State</Table.Th>
                      <Table.Th>IP</Table.Th>
                      <Table.Th>Device</Table.Th>
                      <Table.Th>Started</Table.Th>
                      <Table.Th>Last seen</Table.Th>
                      <Table.Th>Ended</Table.Th>
                      {can('sessions:revoke') && <Table.Th>Action</Table.Th>}
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.items.map((session: SessionRow) => (
                      <Table.Tr key={session.id} data-session-id={session.id}>
                        <Table.Td>
                          <Anchor component={Link} to={`/users/${session.user.id}`} size="sm">
                            {session.user.username}
                          </Anchor>
                        </Table.Td>
                        <Table.Td>
                          <SessionStateBadge state={session.state} />
                        </Table.Td>
                        <Table.Td>{session.ip ?? '—'}</Table.Td>
                        <Table.Td>
                          <Text size="sm" lineClamp={1}>
                            {session.device ?? '—'}
                          </Text>
                        </Table.Td>
                        <Table.Td className="nowrap">{formatDateTime(session.created_at)}</Table.Td>
                        <Table.Td className="nowrap">{formatDateTime(session.last_seen_at)}</Table.Td>
                        <Table.Td>
                          {session.ended_at
                            ? `${formatDateTime(session.ended_at)} (${session.end_reason ?? 'ended'})`
                            : '—'}
                        </Table.Td>
                        {can('sessions:revoke') && (
                          <Table.Td>
                            {session.state === 'active' && (
                              <Button
                                size="xs"
                                color="red"
                                variant="light"
                                aria-label={`Revoke session of ${session.user.username} from ${session.ip ?? 'unknown address'}`}
                                onClick={() =>
                                  confirmRevoke({ id: session.id, username: session.user.username }, revoke.mutate)
                                }
                              >
                                Revoke
                              </Button>
                            )}
                          </Table.Td>
                        )}
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
              <Pager
                page={page}
                pageSize={pageSize}
                total={data.total}
                onPage={setPage}
                onPageSize={(s) => {
                  setPageSize(s);
                  setPage(1);
                }}
                label="sessions"
              />
            </>
          )}
        </QueryState>
      </Paper>
    </Stack>
  );
}
