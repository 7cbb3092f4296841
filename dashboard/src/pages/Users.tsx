import { Button, Group, Paper, Stack, Title } from '@mantine/core';
import { IconUserPlus } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';

import { api, unwrap } from '../api/client';
import { useAuth } from '../auth/AuthProvider';
import { confirmDestructive } from '../components/confirm';
import { Pager } from '../components/Pager';
import { QueryState } from '../components/QueryState';
import { BlockDialog, CreateUserDialog, EditUserDrawer } from '../components/UserDialogs';
import { NO_FILTERS, UserFilters, type UserFilterValues } from '../components/UserFilters';
import { useUserActions } from '../components/userActions';
import { UsersTable, type RowActions, type SortKey, type SortOrder, type UserRow } from '../components/UsersTable';
import { useLive } from '../settings';

type Status = 'active' | 'blocked' | 'locked' | 'expired';

export function UsersPage() {
  const { can } = useAuth();
  const live = useLive();
  const [filters, setFilters] = useState<UserFilterValues>(NO_FILTERS);
  const [sort, setSort] = useState<SortKey>('created_at');
  const [order, setOrder] = useState<SortOrder>('desc');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(25);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const [blocking, setBlocking] = useState<UserRow | null>(null);
  const action = useUserActions();

  const users = useQuery({
    queryKey: ['users', filters, sort, order, page, pageSize],
    placeholderData: keepPreviousData,
    ...live,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/admin/users', {
          params: {
            query: {
              q: filters.q || undefined,
              status: (filters.status || undefined) as Status | undefined,
              role: filters.role || undefined,
              department: filters.department || undefined,
              sort,
              order,
              page,
              page_size: pageSize,
            },
          },
        }),
      ),
  });

  const actions: RowActions = {
    edit: can('users:write') ? (user) => setEditing(user.id) : undefined,
    block: can('users:block') ? (user) => setBlocking(user) : undefined,
    unblock: can('users:block') ? (user) => action.mutate({ user, action: 'unblock' }) : undefined,
    unlock: can('users:block') ? (user) => action.mutate({ user, action: 'unlock' }) : undefined,
    revokeSessions: can('users:block')
      ? (user) =>
          confirmDestructive({
            title: `End every session of ${user.username}?`,
            message: 'They are signed out everywhere at once and must sign in again.',
            confirmLabel: 'Revoke all sessions',
            onConfirm: () => action.mutate({ user, action: 'revoke' }),
          })
      : undefined,
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Users</Title>
        {can('users:write') && (
          <Button leftSection={<IconUserPlus size={16} />} onClick={() => setCreating(true)}>
            Create user
          </Button>
        )}
      </Group>
      <Paper withBorder p="md" radius="md">
        <UserFilters
          value={filters}
          onChange={(next) => {
            setFilters(next);
            setPage(1);
          }}
        />
      </Paper>
      <Paper withBorder p="md" radius="md">
        <QueryState
          query={users}
          label="users"
          isEmpty={(data) => data.items.length === 0}
          emptyText="No user matches these filters."
        >
          {(data) => (
            <>
              <UsersTable
                rows={data.items}
                sort={sort}
                order={order}
                onSort={(nextSort, nextOrder) => {
                  setSort(nextSort);
                  setOrder(nextOrder);
                  setPage(1);
                }}
                actions={actions}
              />
              <Pager
                page={page}
                pageSize={pageSize}
                total={data.total}
                onPage={setPage}
                onPageSize={(size) => {
                  setPageSize(size);
                  setPage(1);
                }}
                label="users"
              />
            </>
          )}
        </QueryState>
      </Paper>
      <CreateUserDialog opened={creating} onClose={() => setCreating(false)} />
      <EditUserDrawer userId={editing} onClose={() => setEditing(null)} />
      <BlockDialog
        user={blocking}
        pending={action.isPending}
        onClose={() => setBlocking(null)}
        onBlock={(reason) => {
          if (blocking)
            action.mutate({ user: blocking, action: 'block', reason }, { onSettled: () => setBlocking(null) });
        }}
      />
    </Stack>
  );
}
