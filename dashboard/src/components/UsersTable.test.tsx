import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { renderUi } from '../test/render';
import { nextSort, UsersTable, type UserRow } from './UsersTable';

function row(overrides: Partial<UserRow>): UserRow {
  return {
    id: crypto.randomUUID(),
    username: 'alice',
    email: 'alice@example.com',
    full_name: 'Alice Liddell',
    organisation_id: crypto.randomUUID(),
    roles: ['user'],
    status: 'active',
    department: 'Research',
    rank: null,
    created_at: '2026-03-01T10:00:00Z',
    last_login_at: null,
    active_sessions: 2,
    ...overrides,
  };
}

describe('nextSort', () => {
  it('flips the order on the same column, starts a new one in its natural order', () => {
    expect(nextSort('created_at', 'desc', 'created_at')).toEqual(['created_at', 'asc']);
    expect(nextSort('created_at', 'desc', 'username')).toEqual(['username', 'asc']);
    expect(nextSort('username', 'asc', 'last_login_at')).toEqual(['last_login_at', 'desc']);
  });
});

describe('UsersTable', () => {
  const rows = [row({}), row({ username: 'bob', status: 'blocked', full_name: null, department: null })];

  it('shows one row per user with a link to the profile', () => {
    renderUi(<UsersTable rows={rows} sort="created_at" order="desc" onSort={() => {}} actions={{}} />);
    const table = screen.getByRole('table', { name: 'Users' });
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(screen.getByRole('link', { name: 'alice' })).toHaveAttribute('href', `/users/${rows[0]?.id}`);
    expect(screen.getByText('Alice Liddell · alice@example.com')).toBeInTheDocument();
    expect(screen.getByText('blocked')).toBeInTheDocument();
  });

  it('marks the sorted column for assistive technology and sorts on click', async () => {
    const onSort = vi.fn();
    renderUi(<UsersTable rows={rows} sort="created_at" order="desc" onSort={onSort} actions={{}} />);
    expect(screen.getByRole('columnheader', { name: /Created/ })).toHaveAttribute('aria-sort', 'descending');
    expect(screen.getByRole('columnheader', { name: /User/ })).toHaveAttribute('aria-sort', 'none');
    await userEvent.click(screen.getByRole('button', { name: /User/ }));
    expect(onSort).toHaveBeenCalledWith('username', 'asc');
  });

  it('has no action menu when the admin may do nothing', () => {
    renderUi(<UsersTable rows={rows} sort="created_at" order="desc" onSort={() => {}} actions={{}} />);
    expect(screen.queryByRole('button', { name: /Actions for/ })).not.toBeInTheDocument();
  });

  it('offers block to an active user', async () => {
    const block = vi.fn();
    renderUi(
      <UsersTable rows={rows} sort="created_at" order="desc" onSort={() => {}} actions={{ block, unblock: vi.fn() }} />,
    );
    await userEvent.click(screen.getByRole('button', { name: 'Actions for alice' }));
    const blockItem = await screen.findByRole('menuitem', { name: 'Block' });
    expect(screen.queryByRole('menuitem', { name: 'Unblock' })).not.toBeInTheDocument();
    await userEvent.click(blockItem);
    expect(block).toHaveBeenCalledWith(rows[0]);
  });

  it('offers unblock, not block, to a blocked user', async () => {
    const unblock = vi.fn();
    renderUi(
      <UsersTable rows={rows} sort="created_at" order="desc" onSort={() => {}} actions={{ block: vi.fn(), unblock }} />,
    );
    await userEvent.click(screen.getByRole('button', { name: 'Actions for bob' }));
    const unblockItem = await screen.findByRole('menuitem', { name: 'Unblock' });
    expect(screen.queryByRole('menuitem', { name: 'Block' })).not.toBeInTheDocument();
    await userEvent.click(unblockItem);
    expect(unblock).toHaveBeenCalledWith(rows[1]);
  });
});
