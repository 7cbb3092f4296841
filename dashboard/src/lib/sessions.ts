// Session states as the API defines them, and their presentation.

export type SessionState = 'active' | 'expired' | 'revoked';

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

interface SessionTimes {
  ended_at?: string | null;
  expires_at?: string | null;
  last_seen_at?: string | null;
  end_reason?: string | null;
}

const EXPIRY_REASONS = new Set(['session_expired', 'session_idle']);
export const DEFAULT_IDLE_SECONDS = 7 * 86400;

/**
 * The state of a session, with the server's definitions: ended by someone or something (logout, an
 * administrator, a policy) is revoked, except an end for lifetime or idleness, which is expired; not
 * ended but past its lifetime or idle too long is expired; otherwise active.
 */
export function classifySession(
  session: SessionTimes,
  now: Date = new Date(),
  idleSeconds: number = DEFAULT_IDLE_SECONDS,
): SessionState {
  if (session.ended_at) {
    return session.end_reason && EXPIRY_REASONS.has(session.end_reason) ? 'expired' : 'revoked';
  }
  const at = now.getTime();
  if (session.expires_at && new Date(session.expires_at).getTime() <= at) return 'expired';
  if (session.last_seen_at && new Date(session.last_seen_at).getTime() <= at - idleSeconds * 1000) {
    return 'expired';
  }
  return 'active';
}

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
