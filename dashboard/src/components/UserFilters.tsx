import { Button, Group, Select, TextInput } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { useState } from 'react';

export interface UserFilterValues {
  q: string;
  status: string;
  role: string;
  department: string;
}

export const NO_FILTERS: UserFilterValues = { q: '', status: '', role: '', department: '' };

export const STATUS_OPTIONS = [
  { value: 'active', label: 'Active' },
  { value: 'blocked', label: 'Blocked' },
  { value: 'locked', label: 'Locked' },
  { value: 'expired', label: 'Expired' },
];

export const ROLE_OPTIONS = [
  { value: 'root_admin', label: 'Root admin' },
  { value: 'org_admin', label: 'Organisation admin' },
  { value: 'user', label: 'User' },
];

interface Props {
  value: UserFilterValues;
  onChange: (value: UserFilterValues) => void;
  /** Text fields wait this long after the last keystroke before filtering. */
  debounceMs?: number;
}

/** Search and filters of the users table; typing is debounced, choices apply at once. */
export function UserFilters({ value, onChange, debounceMs = 300 }: Props) {
  const [q, setQ] = useState(value.q);
  const [department, setDepartment] = useState(value.department);
  // The parent may change the filters too (Clear filters): follow it, without an effect's extra render.
  const [shown, setShown] = useState(value);
  if (shown.q !== value.q || shown.department !== value.department) {
    setShown(value);
    setQ(value.q);
    setDepartment(value.department);
  }
  const typed = useDebouncedCallback((next: UserFilterValues) => onChange(next), debounceMs);
  const active = Object.values(value).some(Boolean);

  return (
    <Group align="flex-end" gap="sm" wrap="wrap" role="search" aria-label="Filter users">
      <TextInput
        label="Search"
        placeholder="Username, email or name"
        value={q}
        onChange={(event) => {
          setQ(event.currentTarget.value);
          typed({ ...value, department, q: event.currentTarget.value });
        }}
        w={240}
      />
      <Select
        label="Status"
        placeholder="Any status"
        data={STATUS_OPTIONS}
        value={value.status || null}
        onChange={(status) => onChange({ ...value, q, department, status: status ?? '' })}
        clearable
        w={150}
      />
      <Select
        label="Role"
        placeholder="Any role"
        data={ROLE_OPTIONS}
        value={value.role || null}
        onChange={(role) => onChange({ ...value, q, department, role: role ?? '' })}
        clearable
        w={190}
      />
      <TextInput
        label="Department"
        placeholder="Any department"
        value={department}
        onChange={(event) => {
          setDepartment(event.currentTarget.value);
          typed({ ...value, q, department: event.currentTarget.value });
        }}
        w={180}
      />
      {active && (
        <Button
          variant="subtle"
          onClick={() => {
            setQ('');
            setDepartment('');
            onChange(NO_FILTERS);
          }}
        >
          Clear filters
        </Button>
      )}
    </Group>
  );
}
