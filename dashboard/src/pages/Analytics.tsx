import { Card, Group, Select, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';

import { api, unwrap } from '../api/client';
import { Heatmap } from '../components/Heatmap';
import { LoginTrend } from '../components/LoginTrend';
import { QueryState } from '../components/QueryState';
import type { Interval } from '../lib/charts';
import { browserTimeZone } from '../lib/format';
import { useLive } from '../settings';

const RANGES = [
  { value: '1', label: 'Last 24 hours' },
  { value: '7', label: 'Last 7 days' },
  { value: '30', label: 'Last 30 days' },
  { value: '90', label: 'Last 90 days' },
  { value: '365', label: 'Last 12 months' },
];

const INTERVAL_OPTIONS = [
  { value: 'hour', label: 'Hourly' },
  { value: 'day', label: 'Daily' },
  { value: 'week', label: 'Weekly' },
  { value: 'month', label: 'Monthly' },
];

function timeZones(): string[] {
  const supported = (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf;
  const zones = supported ? supported('timeZone') : [];
  return Array.from(new Set(['UTC', browserTimeZone(), ...zones]));
}

/** The start of a range of `days` days ending now. */
function rangeStart(days: string): string {
  return new Date(Date.now() - Number(days) * 86400000).toISOString();
}

/** Hourly buckets for long ranges would be thousands of points; fall back to a coarser interval. */
function fitInterval(interval: Interval, days: number): Interval {
  if (interval === 'hour' && days > 7) return 'day';
  return interval;
}

export function AnalyticsPage() {
  const live = useLive();
  const [days, setDays] = useState('30');
  const [interval, setInterval] = useState<Interval>('day');
  const [timeZone, setTimeZone] = useState(browserTimeZone());
  const zones = useMemo(() => timeZones(), []);
  // Fixed while the range is unchanged, so polling asks for the same window (the end is "now" server-side).
  const [from, setFrom] = useState(() => rangeStart(days));
  const chooseRange = (value: string) => {
    setDays(value);
    setFrom(rangeStart(value));
  };
  const effective = fitInterval(interval, Number(days));

  const heatmap = useQuery({
    queryKey: ['heatmap', from, timeZone],
    ...live,
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/admin/analytics/heatmap', { params: { query: { from, tz: timeZone } } })),
  });

  return (
    <Stack>
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <Title order={2}>Analytics</Title>
        <Group gap="sm" align="flex-end">
          <Select
            label="Time range"
            data={RANGES}
            value={days}
            onChange={(v) => v && chooseRange(v)}
            allowDeselect={false}
            w={170}
          />
          <Select
            label="Buckets"
            data={INTERVAL_OPTIONS}
            value={interval}
            onChange={(v) => v && setInterval(v as Interval)}
            allowDeselect={false}
            w={130}
          />
          <Select
            label="Time zone"
            data={zones}
            value={timeZone}
            onChange={(v) => v && setTimeZone(v)}
            searchable
            allowDeselect={false}
            w={220}
            aria-label="Time zone"
          />
        </Group>
      </Group>
      <Card withBorder radius="md" padding="md" component="section" aria-label="Login trends">
        <Title order={3} size="h4" mb="xs">
          Login trends
        </Title>
        {effective !== interval && (
          <Text size="xs" c="dimmed" mb="xs">
            Shown daily: hourly buckets are available for ranges up to 7 days.
          </Text>
        )}
        <LoginTrend interval={effective} timeZone={timeZone} from={from} withDistinctUsers height={300} />
      </Card>
      <Card withBorder radius="md" padding="md" component="section" aria-label="Weekday and hour heatmap">
        <Title order={3} size="h4" mb="xs">
          When people sign in
        </Title>
        <Text size="sm" c="dimmed" mb="sm">
          Successful logins by weekday and hour, in {timeZone}.
        </Text>
        <QueryState query={heatmap} label="heatmap">
          {(data) => <Heatmap weekdays={data.weekdays} counts={data.counts} timeZone={data.tz} />}
        </QueryState>
      </Card>
    </Stack>
  );
}
