import { AreaChart } from '@mantine/charts';
import { Group, SegmentedControl, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';

import { api, unwrap } from '../api/client';
import { loginSeries, loginTotals, rangeFor, type Interval } from '../lib/charts';
import { useLive } from '../settings';
import { QueryState } from './QueryState';

interface Props {
  interval: Interval;
  onInterval?: (interval: Interval) => void;
  timeZone: string;
  from?: string;
  to?: string;
  withDistinctUsers?: boolean;
  height?: number;
}

export const INTERVALS: { value: Interval; label: string }[] = [
  { value: 'day', label: 'Day' },
  { value: 'week', label: 'Week' },
  { value: 'month', label: 'Month' },
];

/** Successful and failed logins per bucket (optionally distinct users), from the analytics API. */
export function LoginTrend({ interval, onInterval, timeZone, from, to, withDistinctUsers, height = 260 }: Props) {
  const live = useLive();
  // The default range is fixed per interval when the view opens, so polling asks for the same range.
  const range = useMemo(() => rangeFor(interval), [interval]);
  const start = from ?? range.from;
  const end = to;
  const query = useQuery({
    queryKey: ['logins', interval, timeZone, start, end],
    ...live,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/admin/analytics/logins', {
          params: { query: { interval, tz: timeZone, from: start, to: end } },
        }),
      ),
  });
  const series = [
    { name: 'Successful', color: 'teal.6' },
    { name: 'Failed', color: 'red.6' },
    ...(withDistinctUsers ? [{ name: 'Distinct users', color: 'blue.6' }] : []),
  ];
  return (
    <Stack gap="xs">
      {onInterval && (
        <Group justify="space-between">
          <SegmentedControl
            aria-label="Bucket size"
            size="xs"
            data={INTERVALS}
            value={interval}
            onChange={(value) => onInterval(value as Interval)}
          />
          {query.data && (
            <Text size="xs" c="dimmed">
              {(() => {
                const totals = loginTotals(query.data.buckets);
                return `${totals.success} successful, ${totals.failure} failed (${Math.round(totals.failureRate * 100)}%)`;
              })()}
            </Text>
          )}
        </Group>
      )}
      <QueryState query={query} label="login trend">
        {(data) => (
          <AreaChart
            h={height}
            data={loginSeries(data.buckets, interval)}
            dataKey="label"
            series={series}
            curveType="linear"
            withDots={false}
            withLegend
            tickLine="x"
            gridAxis="xy"
            aria-label="Login trend chart"
            data-testid="login-trend"
          />
        )}
      </QueryState>
    </Stack>
  );
}
