import { describe, expect, it } from 'vitest';

import { bucketLabel, heatCells, loginSeries, loginTotals, rangeFor } from './charts';

describe('bucketLabel', () => {
  it('uses the local time the server wrote, whatever the browser zone', () => {
    // Midnight in Tokyo is the previous day in UTC; the label must still say the 5th.
    expect(bucketLabel('2026-03-05T00:00:00+09:00', 'day')).toBe('05 Mar');
    expect(bucketLabel('2026-03-05T13:00:00-05:00', 'hour')).toBe('05 Mar 13:00');
    expect(bucketLabel('2026-03-02T00:00:00+00:00', 'week')).toBe('wk 02 Mar');
    expect(bucketLabel('2026-12-01T00:00:00+01:00', 'month')).toBe('Dec 2026');
  });
});

describe('loginSeries and loginTotals', () => {
  const buckets = [
    { start: '2026-03-01T00:00:00+00:00', success: 5, failure: 1, distinct_users: 3 },
    { start: '2026-03-02T00:00:00+00:00', success: 0, failure: 0, distinct_users: 0 },
    { start: '2026-03-03T00:00:00+00:00', success: 3, failure: 3, distinct_users: 2 },
  ];

  it('names the series as the chart shows them and keeps empty buckets', () => {
    const series = loginSeries(buckets, 'day');
    expect(series).toHaveLength(3);
    expect(series[0]).toEqual({
      label: '01 Mar',
      start: '2026-03-01T00:00:00+00:00',
      Successful: 5,
      Failed: 1,
      'Distinct users': 3,
    });
    expect(series[1]?.Successful).toBe(0);
  });

  it('sums the range and its failure rate', () => {
    expect(loginTotals(buckets)).toEqual({ success: 8, failure: 4, failureRate: 4 / 12 });
    expect(loginTotals([])).toEqual({ success: 0, failure: 0, failureRate: 0 });
  });
});

describe('rangeFor', () => {
  it('asks for a readable number of buckets per interval', () => {
    const now = new Date('2026-03-31T00:00:00Z');
    expect(rangeFor('day', now)).toEqual({ from: '2026-03-01T00:00:00.000Z', to: now.toISOString() });
    const month = rangeFor('month', now);
    expect(new Date(month.from).getUTCFullYear()).toBe(2025);
  });
});

describe('heatCells', () => {
  it('scales each cell to the busiest one', () => {
    const counts = [
      [0, 2, 4],
      [1, 0, 0],
    ];
    const cells = heatCells(['Monday', 'Tuesday'], counts);
    expect(cells[0]?.map((c) => c.intensity)).toEqual([0, 0.5, 1]);
    expect(cells[1]?.[0]).toEqual({ weekday: 'Tuesday', hour: 0, count: 1, intensity: 0.25 });
  });

  it('has no intensity at all on an empty map', () => {
    const cells = heatCells(['Monday'], [[0, 0]]);
    expect(cells[0]?.every((c) => c.intensity === 0)).toBe(true);
  });
});
