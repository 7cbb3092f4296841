import { Button, Group, Paper, Select, Stack, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { api, unwrap, type Schemas } from '../api/client';
import { Pager } from '../components/Pager';
import { QueryState } from '../components/QueryState';
import { SessionsTable, type SessionView } from '../components/SessionsTable';
import { dayEnd, dayStart } from '../lib/format';
import { useLive } from '../settings';

type SessionRow = Schemas['AdminSessionRow'];
type State = 'active' | 'expired' | 'revoked';

/** An inventory row as the sessions table shows it. */
function sessionView(row: SessionRow): SessionView {
  return {
    id: row.id,
    user: row.user,
    state: row.state,
    ip: row.ip,
    device: row.device,
    startedAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
  };
}

export function SessionsPage() {
  const live = useLive();
  const [state, setState] = useState<string | null>(null);
  const [ip, setIp] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(25);
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
              <SessionsTable
                sessions={data.items.map(sessionView)}
                label="Sessions"
                testId="sessions-table"
                minWidth={900}
                withUser
                withActivity
                striped
              />
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
