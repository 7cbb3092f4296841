import { Card, Skeleton, Text } from '@mantine/core';

import { formatNumber } from '../lib/format';

interface Props {
  label: string;
  value: number | undefined;
  hint?: string;
  color?: string;
  testId: string;
}

export function KpiCard({ label, value, hint, color, testId }: Props) {
  return (
    <Card withBorder padding="md" radius="md" role="group" aria-label={label}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      {value === undefined ? (
        <Skeleton height={34} mt={6} width="50%" />
      ) : (
        <Text fz={30} fw={700} c={color} data-testid={testId} data-value={value}>
          {formatNumber(value)}
        </Text>
      )}
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Card>
  );
}
