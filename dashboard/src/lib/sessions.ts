// Session states and their presentation. The server decides a session's state (active, expired or
// revoked) and sends it with every session; the console only shows it.

import type { components } from '../api/schema';

export type SessionState = components['schemas']['SessionState'];

export const STATE_COLORS: Record<SessionState, string> = {
  active: 'teal.6',
  expired: 'gray.6',
  revoked: 'red.6',
};

export const STATE_LABELS: Record<SessionState, string> = {
  active: 'Active',
  expired: 'Expired',
  revoked: 'Revoked',
};

export interface DonutSlice {
  name: string;
  value: number;
  color: string;
  /** Recharts draws each slice as an <svg> path with role img; this is its text alternative. */
  'aria-label': string;
}

/** The session-state counts as donut slices, in a fixed order, leaving out empty states. */
export function sessionStateSlices(counts: Record<SessionState, number>): DonutSlice[] {
  return (['active', 'expired', 'revoked'] as const)
    .filter((state) => counts[state] > 0)
    .map((state) => ({
      name: STATE_LABELS[state],
      value: counts[state],
      color: STATE_COLORS[state],
      'aria-label': `${STATE_LABELS[state]}: ${counts[state]}`,
    }));
}
