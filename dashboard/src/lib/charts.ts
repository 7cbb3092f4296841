// Shaping API answers into chart data.

export type Interval = 'hour' | 'day' | 'week' | 'month';

export interface LoginBucket {
  start: string;
  success: number;
  failure: number;
  distinct_users: number;
}

export interface LoginPoint {
  label: string;
  start: string;
  Successful: number;
  Failed: number;
  'Distinct users': number;
}

/**
 * The API's buckets start at local midnight (or the hour, week, month) of the requested time zone and
 * are given as that local time with its offset; the label shows that local date, so it never drifts
 * by the browser's own zone.
 */
export function bucketLabel(start: string, interval: Interval): string {
  const local = start.slice(0, 16); // YYYY-MM-DDTHH:MM as the server wrote it, in the chosen zone
  const [date = '', time = ''] = local.split('T');
  const [year = '', month = '', day = ''] = date.split('-');
  const monthName = new Date(Date.UTC(Number(year), Number(month) - 1, 1)).toLocaleString('en', {
    month: 'short',
    timeZone: 'UTC',
  });
  switch (interval) {
    case 'hour':
      return `${day} ${monthName} ${time}`;
    case 'day':
      return `${day} ${monthName}`;
    case 'week':
      return `wk ${day} ${monthName}`;
    case 'month':
      return `${monthName} ${year}`;
  }
}

export function loginSeries(buckets: LoginBucket[], interval: Interval): LoginPoint[] {
  return buckets.map((bucket) => ({
    label: bucketLabel(bucket.start, interval),
    start: bucket.start,
    Successful: bucket.success,
    Failed: bucket.failure,
    'Distinct users': bucket.distinct_users,
  }));
}

export interface LoginTotals {
  success: number;
  failure: number;
  failureRate: number;
}

export function loginTotals(buckets: LoginBucket[]): LoginTotals {
  const success = buckets.reduce((sum, b) => sum + b.success, 0);
  const failure = buckets.reduce((sum, b) => sum + b.failure, 0);
  const attempts = success + failure;
  return { success, failure, failureRate: attempts ? failure / attempts : 0 };
}

/** The range a trend view asks for: enough buckets of the interval to be readable. */
export function rangeFor(interval: Interval, now: Date = new Date()): { from: string; to: string } {
  const days = { hour: 2, day: 30, week: 7 * 16, month: 365 }[interval];
  const from = new Date(now.getTime() - days * 86400 * 1000);
  return { from: from.toISOString(), to: now.toISOString() };
}

export interface HeatCell {
  weekday: string;
  hour: number;
  count: number;
  /** 0..1 relative to the busiest cell; 0 for an empty map. */
  intensity: number;
}

export function heatCells(weekdays: string[], counts: number[][]): HeatCell[][] {
  const max = Math.max(0, ...counts.flat());
  return weekdays.map((weekday, row) =>
    (counts[row] ?? []).map((count, hour) => ({
      weekday,
      hour,
      count,
      intensity: max ? count / max : 0,
    })),
  );
}
