import { Badge, Button, Code, Group, Paper, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconDownload } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { api, unwrap } from '../api/client';
import { Pager } from '../components/Pager';
import { QueryState } from '../components/QueryState';
import { dayEnd, dayStart, formatDateTime } from '../lib/format';
import { notifyDone, notifyFailed } from '../lib/notify';
import { useLive } from '../settings';

interface Filters {
  actor: string;
  action: string;
  target: string;
  outcome: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { actor: '', action: '', target: '', outcome: '', from: '', to: '' };

function queryOf(filters: Filters) {
  return {
    actor: filters.actor.trim() || undefined,
    action: filters.action.trim() || undefined,
    target: filters.target.trim() || undefined,
    outcome: filters.outcome || undefined,
    from: dayStart(filters.from),
    to: dayEnd(filters.to),
  };
}

/** A long id (a UUID) shortened for the table; the full value is in its tooltip and the export. */
function Id({ value }: { value: string | null | undefined }) {
  if (!value) return null;
  return (
    <Text span size="xs" ff="monospace" title={value}>
      {value.length > 12 ? `${value.slice(0, 8)}…` : value}
    </Text>
  );
}

function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function AuditPage() {
  const live = useLive();
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [debounced] = useDebouncedValue(filters, 300);
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(25);
  const [exporting, setExporting] = useState<string | null>(null);
  const events = useQuery({
    queryKey: ['audit', debounced, page, pageSize],
    placeholderData: keepPreviousData,
    ...live,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/admin/audit-events', {
          params: { query: { ...queryOf(debounced), page, page_size: pageSize } },
        }),
      ),
  });
  const set = (key: keyof Filters) => (value: string) => {
    setFilters((current) => ({ ...current, [key]: value }));
    setPage(1);
  };

  const exportAs = async (format: 'csv' | 'ndjson') => {
    setExporting(format);
    try {
      const result = await api.GET('/api/v1/admin/audit-events/export', {
        params: { query: { ...queryOf(filters), format } },
        parseAs: 'blob',
      });
      const blob = unwrap(result);
      save(blob, `garrison-audit-${new Date().toISOString().slice(0, 19).replaceAll(':', '')}.${format}`);
      notifyDone(`Exported the audit log as ${format.toUpperCase()}.`);
    } catch (error) {
      notifyFailed(error, 'Export failed');
    } finally {
      setExporting(null);
    }
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Audit log</Title>
        <Group gap="xs">
          <Button
            variant="light"
            leftSection={<IconDownload size={16} />}
            loading={exporting === 'csv'}
            onClick={() => void exportAs('csv')}
          >
            Export CSV
          </Button>
          <Button
            variant="light"
            leftSection={<IconDownload size={16} />}
            loading={exporting === 'ndjson'}
            onClick={() => void exportAs('ndjson')}
          >
            Export NDJSON
          </Button>
        </Group>
      </Group>
      <Paper withBorder p="md" radius="md">
        <Group gap="sm" align="flex-end" role="search" aria-label="Filter the audit log">
          <TextInput
            label="Action"
            placeholder="e.g. user.blocked"
            value={filters.action}
            onChange={(e) => set('action')(e.currentTarget.value)}
            w={180}
          />
          <TextInput
            label="Actor id"
            value={filters.actor}
            onChange={(e) => set('actor')(e.currentTarget.value)}
            w={200}
          />
          <TextInput
            label="Target id"
            value={filters.target}
            onChange={(e) => set('target')(e.currentTarget.value)}
            w={200}
          />
          <Select
            label="Outcome"
            placeholder="Any"
            data={['success', 'failure', 'denied', 'detected']}
            value={filters.outcome || null}
            onChange={(v) => set('outcome')(v ?? '')}
            clearable
            w={130}
          />
          <TextInput
            label="From"
            type="date"
            value={filters.from}
            onChange={(e) => set('from')(e.currentTarget.value)}
          />
          <TextInput label="Until" type="date" value={filters.to} onChange={(e) => set('to')(e.currentTarget.value)} />
          {Object.values(filters).some(Boolean) && (
            <Button
              variant="subtle"
              onClick={() => {
                setFilters(EMPTY);
                setPage(1);
              }}
            >
              Clear filters
            </Button>
          )}
        </Group>
      </Paper>
      <Paper withBorder p="md" radius="md">
        <QueryState
          query={events}
          label="audit events"
          isEmpty={(d) => d.items.length === 0}
          emptyText="No audit event matches these filters."
        >
          {(data) => (
            <>
              <Table.ScrollContainer minWidth={1000}>
                <Table striped aria-label="Audit events" data-testid="audit-table">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>When</Table.Th>
                      <Table.Th>Action</Table.Th>
                      <Table.Th>Outcome</Table.Th>
                      <Table.Th>Actor</Table.Th>
                      <Table.Th>Target</Table.Th>
                      <Table.Th>IP</Table.Th>
                      <Table.Th>Change</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.items.map((event) => (
                      <Table.Tr key={event.id}>
                        <Table.Td className="nowrap">
                          <Text size="sm">{formatDateTime(event.created_at)}</Text>
                        </Table.Td>
                        <Table.Td className="nowrap">
                          <Code>{event.action}</Code>
                        </Table.Td>
                        <Table.Td>
                          <Badge variant="light" color={event.outcome === 'success' ? 'teal' : 'red'}>
                            {event.outcome}
                          </Badge>
                        </Table.Td>
                        <Table.Td className="nowrap">
                          <Text size="xs">
                            {event.actor_type} <Id value={event.actor_id} />
                          </Text>
                        </Table.Td>
                        <Table.Td className="nowrap">
                          <Text size="xs">
                            {event.target_type ? (
                              <>
                                {event.target_type} <Id value={event.target_id} />
                              </>
                            ) : (
                              '—'
                            )}
                          </Text>
                        </Table.Td>
                        <Table.Td className="nowrap">{event.ip ?? '—'}</Table.Td>
                        <Table.Td>
                          <Text
                            size="xs"
                            ff="monospace"
                            lineClamp={2}
                            maw={420}
                            title={event.after ? JSON.stringify(event.after) : undefined}
                          >
                            {event.after ? JSON.stringify(event.after) : '—'}
                          </Text>
                        </Table.Td>
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
                label="events"
              />
            </>
          )}
        </QueryState>
      </Paper>
    </Stack>
  );
}
