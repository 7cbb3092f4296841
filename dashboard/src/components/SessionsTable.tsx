import { Anchor, Button, Table, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';

import { api, unwrap } from '../api/client';
import { useAuth } from '../auth/AuthProvider';
import { formatDateTime } from '../lib/format';
import { notifyDone, notifyFailed } from '../lib/notify';
import type { SessionState } from '../lib/sessions';
import { SessionStateBadge } from './Badges';
import { confirmDestructive } from './confirm';

/** One session as the tables show it, whichever API answer it comes from. */
export interface SessionView {
  id: string;
  user: { id: string; username: string };
  state: SessionState;
  ip?: string | null;
  device?: string | null;
  startedAt: string;
  lastSeenAt?: string | null;
  endedAt?: string | null;
  endReason?: string | null;
}

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

function confirmRevoke(session: SessionView, revoke: (s: { id: string }) => void): void {
  confirmDestructive({
    title: 'Revoke this session?',
    message: `${session.user.username} is signed out of this session at once; its access and refresh tokens stop working.`,
    confirmLabel: 'Revoke session',
    onConfirm: () => revoke(session),
  });
}

interface Props {
  sessions: SessionView[];
  /** The table's accessible name. */
  label: string;
  testId: string;
  minWidth: number;
  /** A column linking to each session's user (left out on a user's own profile). */
  withUser?: boolean;
  /** Last-seen and ended columns. */
  withActivity?: boolean;
  striped?: boolean;
}

/** Sessions with their state, and a Revoke button on active ones for those allowed to revoke. */
export function SessionsTable({ sessions, label, testId, minWidth, withUser, withActivity, striped }: Props) {
  const { can } = useAuth();
  const revoke = useRevokeSession();
  const canRevoke = can('sessions:revoke');
  return (
    <Table.ScrollContainer minWidth={minWidth}>
      <Table striped={striped} highlightOnHover={striped} aria-label={label} data-testid={testId}>
        <Table.Thead>
          <Table.Tr>
            {withUser && <Table.Th>User</Table.Th>}
            <Table.Th>State</Table.Th>
            <Table.Th>IP</Table.Th>
            <Table.Th>Device</Table.Th>
            <Table.Th>Started</Table.Th>
            {withActivity && (
              <>
                <Table.Th>Last seen</Table.Th>
                <Table.Th>Ended</Table.Th>
              </>
            )}
            {canRevoke && <Table.Th>Action</Table.Th>}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {sessions.map((session) => (
            <Table.Tr key={session.id} data-session-id={session.id}>
              {withUser && (
                <Table.Td>
                  <Anchor component={Link} to={`/users/${session.user.id}`} size="sm">
                    {session.user.username}
                  </Anchor>
                </Table.Td>
              )}
              <Table.Td>
                <SessionStateBadge state={session.state} />
              </Table.Td>
              <Table.Td>{session.ip ?? '—'}</Table.Td>
              <Table.Td>
                <Text size="sm" lineClamp={1}>
                  {session.device ?? '—'}
                </Text>
              </Table.Td>
              <Table.Td className="nowrap">{formatDateTime(session.startedAt)}</Table.Td>
              {withActivity && (
                <>
                  <Table.Td className="nowrap">{formatDateTime(session.lastSeenAt)}</Table.Td>
                  <Table.Td>
                    {session.endedAt ? `${formatDateTime(session.endedAt)} (${session.endReason ?? 'ended'})` : '—'}
                  </Table.Td>
                </>
              )}
              {canRevoke && (
                <Table.Td>
                  {session.state === 'active' && (
                    <Button
                      size="xs"
                      color="red"
                      variant="light"
                      aria-label={`Revoke session of ${session.user.username} from ${session.ip ?? 'unknown address'}`}
                      onClick={() => confirmRevoke(session, revoke.mutate)}
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
  );
}
