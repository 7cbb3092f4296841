import { ActionIcon, Anchor, Badge, Group, Menu, Table, Text, UnstyledButton, VisuallyHidden } from '@mantine/core';
import { IconChevronDown, IconChevronUp, IconDots, IconSelector } from '@tabler/icons-react';
import { Link } from 'react-router';

import type { Schemas } from '../api/client';
import { formatDateTime } from '../lib/format';
import { UserStatusBadge } from './Badges';

export type UserRow = Schemas['AdminUserRow'];
export type SortKey = 'username' | 'created_at' | 'last_login_at';
export type SortOrder = 'asc' | 'desc';

export interface RowActions {
  edit?: (user: UserRow) => void;
  block?: (user: UserRow) => void;
  unblock?: (user: UserRow) => void;
  unlock?: (user: UserRow) => void;
  revokeSessions?: (user: UserRow) => void;
}

interface Props {
  rows: UserRow[];
  sort: SortKey;
  order: SortOrder;
  onSort: (sort: SortKey, order: SortOrder) => void;
  actions: RowActions;
}

/** The next sort after a click on a column header: a new column starts descending for dates. */
export function nextSort(current: SortKey, order: SortOrder, clicked: SortKey): [SortKey, SortOrder] {
  if (clicked === current) return [clicked, order === 'asc' ? 'desc' : 'asc'];
  return [clicked, clicked === 'username' ? 'asc' : 'desc'];
}

function SortHeader({
  label,
  column,
  sort,
  order,
  onSort,
}: {
  label: string;
  column: SortKey;
  sort: SortKey;
  order: SortOrder;
  onSort: Props['onSort'];
}) {
  const active = sort === column;
  const Icon = active ? (order === 'asc' ? IconChevronUp : IconChevronDown) : IconSelector;
  return (
    <Table.Th aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <UnstyledButton onClick={() => onSort(...nextSort(sort, order, column))}>
        <Group gap={4} wrap="nowrap">
          <Text fw={700} size="sm">
            {label}
          </Text>
          <Icon size={14} aria-hidden />
        </Group>
      </UnstyledButton>
    </Table.Th>
  );
}

export function UsersTable({ rows, sort, order, onSort, actions }: Props) {
  const hasActions = Object.values(actions).some(Boolean);
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table striped highlightOnHover aria-label="Users" data-testid="users-table">
        <Table.Thead>
          <Table.Tr>
            <SortHeader label="User" column="username" sort={sort} order={order} onSort={onSort} />
            <Table.Th>Status</Table.Th>
            <Table.Th>Roles</Table.Th>
            <Table.Th>Department</Table.Th>
            <Table.Th>Sessions</Table.Th>
            <SortHeader label="Last login" column="last_login_at" sort={sort} order={order} onSort={onSort} />
            <SortHeader label="Created" column="created_at" sort={sort} order={order} onSort={onSort} />
            {hasActions && (
              <Table.Th>
                <VisuallyHidden>Actions</VisuallyHidden>
              </Table.Th>
            )}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((user) => (
            <Table.Tr key={user.id} data-username={user.username}>
              <Table.Td>
                <Anchor component={Link} to={`/users/${user.id}`} fw={600} size="sm">
                  {user.username}
                </Anchor>
                <Text size="xs" c="dimmed">
                  {user.full_name ? `${user.full_name} · ` : ''}
                  {user.email}
                </Text>
              </Table.Td>
              <Table.Td>
                <UserStatusBadge status={user.status} />
              </Table.Td>
              <Table.Td>
                <Group gap={4}>
                  {user.roles.map((role) => (
                    <Badge key={role} variant="default" size="sm">
                      {role}
                    </Badge>
                  ))}
                </Group>
              </Table.Td>
              <Table.Td>{user.department ?? '—'}</Table.Td>
              <Table.Td>{user.active_sessions}</Table.Td>
              <Table.Td className="nowrap">{formatDateTime(user.last_login_at)}</Table.Td>
              <Table.Td className="nowrap">{formatDateTime(user.created_at)}</Table.Td>
              {hasActions && (
                <Table.Td>
                  <RowMenu user={user} actions={actions} />
                </Table.Td>
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function RowMenu({ user, actions }: { user: UserRow; actions: RowActions }) {
  const blocked = user.status === 'blocked';
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <ActionIcon variant="subtle" aria-label={`Actions for ${user.username}`}>
          <IconDots size={16} />
        </ActionIcon>
      </Menu.Target>
      <Menu.Dropdown>
        {actions.edit && <Menu.Item onClick={() => actions.edit?.(user)}>Edit</Menu.Item>}
        {actions.block && !blocked && (
          <Menu.Item color="red" onClick={() => actions.block?.(user)}>
            Block
          </Menu.Item>
        )}
        {actions.unblock && blocked && <Menu.Item onClick={() => actions.unblock?.(user)}>Unblock</Menu.Item>}
        {actions.unlock && user.status === 'locked' && (
          <Menu.Item onClick={() => actions.unlock?.(user)}>Unlock</Menu.Item>
        )}
        {actions.revokeSessions && (
          <Menu.Item color="red" onClick={() => actions.revokeSessions?.(user)}>
            Revoke all sessions
          </Menu.Item>
        )}
      </Menu.Dropdown>
    </Menu>
  );
}
