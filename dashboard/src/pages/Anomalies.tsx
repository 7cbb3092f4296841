import { Anchor, Badge, Button, Group, Paper, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';

import { api, unwrap, type Schemas } from '../api/client';
import { useAuth } from '../auth/AuthProvider';
import { AnomalyStatusBadge, SeverityBadge } from '../components/Badges';
import { QueryState } from '../components/QueryState';
import { laterCursor, mergeFeed } from '../lib/feed';
import { formatDateTime } from '../lib/format';
import { notifyDone, notifyFailed } from '../lib/notify';
import { useLive } from '../settings';

type Anomaly = Schemas['AnomalyOut'];
type Status = 'open' | 'acknowledged' | 'resolved';

const TYPES = [
  { value: 'concurrent_login', label: 'Concurrent login' },
  { value: 'refresh_token_reuse', label: 'Refresh-token reuse' },
  { value: 'lockout', label: 'Lockout' },
];

function describe(anomaly: Anomaly): string {
  const details = anomaly.details as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof details.ip === 'string') parts.push(`from ${details.ip}`);
  if (typeof details.device === 'string') parts.push(`on ${details.device}`);
  if (typeof details.failures === 'number') parts.push(`${details.failures} failed passwords`);
  if (details.session_revoked === true) parts.push('session revoked');
  return parts.join(', ');
}

export function AnomaliesPage() {
  const { can } = useAuth();
  const live = useLive();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<string | null>('open');
  const [severity, setSeverity] = useState<string | null>(null);
  const [type, setType] = useState<string | null>(null);
  const filters = useMemo(
    () => ({
      status: (status ?? undefined) as Status | undefined,
      severity: severity ?? undefined,
      type: type ?? undefined,
    }),
    [status, severity, type],
  );

  const base = useQuery({
    queryKey: ['anomalies', 'feed', filters],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/admin/anomalies', { params: { query: { ...filters, page_size: 50 } } })),
  });
  const [fresh, setFresh] = useState<Anomaly[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [newIds, setNewIds] = useState<Set<string>>(new Set());
  // A new base list starts the live part over from its cursor.
  const [baseShown, setBaseShown] = useState(base.data);
  if (baseShown !== base.data) {
    setBaseShown(base.data);
    setFresh([]);
    setNewIds(new Set());
    setCursor(base.data?.next_since ?? null);
  }

  // The live part: only what is newer than the cursor, polled at the console's interval.
  const poll = useQuery({
    queryKey: ['anomalies', 'since', filters, cursor],
    enabled: base.isSuccess,
    // An answer for an earlier cursor must never come back from the cache as if it had just arrived.
    gcTime: 0,
    ...live,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/admin/anomalies', {
          params: { query: { ...filters, since: cursor ?? undefined, page_size: 100 } },
        }),
      ),
  });
  // Each poll answer is merged once, when it arrives (not again when the base list reloads).
  const [mergedAt, setMergedAt] = useState(0);
  if (poll.data && poll.dataUpdatedAt !== mergedAt) {
    setMergedAt(poll.dataUpdatedAt);
    const data = poll.data;
    if (data.items.length > 0) {
      // Without a cursor yet (the feed was empty) the poll returns the whole first page: only what the
      // page does not show already is new.
      const shownIds = new Set(base.data?.items.map((anomaly) => anomaly.id));
      const arrivals = data.items.filter((anomaly) => !shownIds.has(anomaly.id));
      if (arrivals.length > 0) {
        setFresh((current) => mergeFeed(current, arrivals));
        setNewIds((current) => new Set([...current, ...arrivals.map((anomaly) => anomaly.id)]));
      }
      setCursor((current) => laterCursor(current, data.next_since));
    }
  }

  const transition = useMutation({
    mutationFn: async ({ anomaly, to }: { anomaly: Anomaly; to: 'acknowledge' | 'resolve' }) => {
      const params = { path: { anomaly_id: anomaly.id } };
      return to === 'acknowledge'
        ? unwrap(await api.POST('/api/v1/admin/anomalies/{anomaly_id}/acknowledge', { params, body: {} }))
        : unwrap(await api.POST('/api/v1/admin/anomalies/{anomaly_id}/resolve', { params, body: {} }));
    },
    onSuccess: (updated, { to }) => {
      notifyDone(to === 'acknowledge' ? 'Anomaly acknowledged.' : 'Anomaly resolved.');
      void queryClient.invalidateQueries({ queryKey: ['anomalies'] });
      void queryClient.invalidateQueries({ queryKey: ['stats'] });
      void queryClient.invalidateQueries({ queryKey: ['profile'] });
      setFresh((current) => current.map((a) => (a.id === updated.id ? updated : a)));
    },
    onError: (error) => notifyFailed(error),
  });

  const items = base.data ? mergeFeed(base.data.items, fresh) : [];
  const live_ = live.refetchInterval !== false;

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Anomalies</Title>
        <Badge color={live_ ? 'teal' : 'gray'} variant="dot" aria-live="polite">
          {live_ ? 'Live' : 'Paused'}
        </Badge>
      </Group>
      <Paper withBorder p="md" radius="md">
        <Group gap="sm" align="flex-end" role="search" aria-label="Filter anomalies">
          <Select
            label="Status"
            placeholder="Any status"
            data={[
              { value: 'open', label: 'Open' },
              { value: 'acknowledged', label: 'Acknowledged' },
              { value: 'resolved', label: 'Resolved' },
            ]}
            value={status}
            onChange={setStatus}
            clearable
            w={160}
          />
          <Select
            label="Severity"
            placeholder="Any severity"
            data={['low', 'medium', 'high', 'critical']}
            value={severity}
            onChange={setSeverity}
            clearable
            w={150}
          />
          <Select label="Type" placeholder="Any type" data={TYPES} value={type} onChange={setType} clearable w={200} />
        </Group>
      </Paper>
      <Paper withBorder p="md" radius="md">
        <QueryState
          query={base}
          label="anomalies"
          isEmpty={() => items.length === 0}
          emptyText="No anomaly matches these filters."
        >
          {() => (
            <Table.ScrollContainer minWidth={860}>
              <Table highlightOnHover aria-label="Anomaly feed" data-testid="anomalies-table">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>When</Table.Th>
                    <Table.Th>Type</Table.Th>
                    <Table.Th>Severity</Table.Th>
                    <Table.Th>User</Table.Th>
                    <Table.Th>Details</Table.Th>
                    <Table.Th>Status</Table.Th>
                    {can('anomalies:write') && <Table.Th>Actions</Table.Th>}
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {items.map((anomaly) => (
                    <Table.Tr key={anomaly.id} data-anomaly-type={anomaly.type} data-status={anomaly.status}>
                      <Table.Td className="nowrap">
                        <Group gap={6} wrap="nowrap">
                          {formatDateTime(anomaly.created_at)}
                          {newIds.has(anomaly.id) && (
                            <Badge size="xs" color="blue">
                              new
                            </Badge>
                          )}
                        </Group>
                      </Table.Td>
                      <Table.Td>{anomaly.type.replaceAll('_', ' ')}</Table.Td>
                      <Table.Td>
                        <SeverityBadge severity={anomaly.severity} />
                      </Table.Td>
                      <Table.Td>
                        {anomaly.user_id ? (
                          <Anchor component={Link} to={`/users/${anomaly.user_id}`} size="sm">
                            View user
                          </Anchor>
                        ) : (
                          '—'
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{describe(anomaly) || '—'}</Text>
                      </Table.Td>
                      <Table.Td>
                        <AnomalyStatusBadge status={anomaly.status} />
                      </Table.Td>
                      {can('anomalies:write') && (
                        <Table.Td>
                          <Group gap={6} wrap="nowrap">
                            {anomaly.status === 'open' && (
                              <Button
                                size="xs"
                                variant="light"
                                loading={transition.isPending && transition.variables?.anomaly.id === anomaly.id}
                                onClick={() => transition.mutate({ anomaly, to: 'acknowledge' })}
                              >
                                Acknowledge
                              </Button>
                            )}
                            {anomaly.status !== 'resolved' && (
                              <Button
                                size="xs"
                                variant="light"
                                color="teal"
                                onClick={() => transition.mutate({ anomaly, to: 'resolve' })}
                              >
                                Resolve
                              </Button>
                            )}
                          </Group>
                        </Table.Td>
                      )}
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </QueryState>
      </Paper>
    </Stack>
  );
}
