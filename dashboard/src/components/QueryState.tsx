import { Alert, Button, Center, Group, Loader, Stack, Text } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';

import { errorMessage } from '../api/client';

interface Props<T> {
  query: UseQueryResult<T>;
  /** Whether the loaded data counts as empty (shows {@link emptyText}). */
  isEmpty?: (data: T) => boolean;
  emptyText?: string;
  label: string;
  children: (data: T) => ReactNode;
}

/** Loading, error and empty states for one query, then its content. */
export function QueryState<T>({ query, isEmpty, emptyText, label, children }: Props<T>) {
  if (query.isPending) {
    return (
      <Center py="xl" role="status" aria-live="polite">
        <Group gap="sm">
          <Loader size="sm" />
          <Text c="dimmed">Loading {label}…</Text>
        </Group>
      </Center>
    );
  }
  if (query.isError) {
    return (
      <Alert color="red" title={`Could not load ${label}`} role="alert">
        <Stack gap="xs" align="flex-start">
          <Text size="sm">{errorMessage(query.error)}</Text>
          <Button size="xs" variant="light" color="red" onClick={() => void query.refetch()}>
            Try again
          </Button>
        </Stack>
      </Alert>
    );
  }
  if (isEmpty?.(query.data)) {
    return (
      <Center py="xl">
        <Text c="dimmed">{emptyText ?? `No ${label}.`}</Text>
      </Center>
    );
  }
  return <>{children(query.data)}</>;
}
