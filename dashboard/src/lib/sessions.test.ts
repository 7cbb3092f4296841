import { describe, expect, it } from 'vitest';

import { classifySession, sessionStateSlices } from './sessions';

const now = new Date('2026-03-10T12:00:00Z');
const future = '2026-04-01T00:00:00Z';
const past = '2026-03-01T00:00:00Z';

describe('classifySession', () => {
  it('is active within its lifetime and recently used', () => {
    expect(classifySession({ expires_at: future, last_seen_at: '2026-03-10T11:00:00Z' }, now)).toBe('active');
  });

  it('is expired past its absolute lifetime, even without an end', () => {
    expect(classifySession({ expires_at: past }, now)).toBe('expired');
    expect(classifySession({ expires_at: now.toISOString() }, now)).toBe('expired'); // the boundary itself
  });

  it('is expired when idle longer than the idle timeout', () => {
    const session = { expires_at: future, last_seen_at: '2026-03-03T11:59:59Z' };
    expect(classifySession(session, now)).toBe('expired');
    expect(classifySession(session, now, 8 * 86400)).toBe('active');
  });

  it('is revoked when something ended it, expired when time did', () => {
    for (const reason of ['logout', 'admin_revoked', 'user_blocked', 'refresh_token_reuse', null]) {
      expect(classifySession({ ended_at: past, end_reason: reason, expires_at: future }, now)).toBe('revoked');
    }
    for (const reason of ['session_expired', 'session_idle']) {
      expect(classifySession({ ended_at: past, end_reason: reason, expires_at: future }, now)).toBe('expired');
    }
  });
});

describe('sessionStateSlices', () => {
  it('keeps a fixed order and leaves out empty states', () => {
    expect(sessionStateSlices({ active: 3, expired: 0, revoked: 2 })).toEqual([
      { name: 'Active', value: 3, color: 'teal.6', 'aria-label': 'Active: 3' },
      { name: 'Revoked', value: 2, color: 'red.6', 'aria-label': 'Revoked: 2' },
    ]);
    expect(sessionStateSlices({ active: 0, expired: 0, revoked: 0 })).toEqual([]);
  });
});
