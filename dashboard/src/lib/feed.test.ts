import { describe, expect, it } from 'vitest';

import { laterCursor, mergeFeed } from './feed';

describe('mergeFeed', () => {
  it('puts polled items first, newest first, each once, the polled copy winning', () => {
    const current = [
      { id: 'b', created_at: '2026-03-01T10:00:00Z', status: 'open' },
      { id: 'a', created_at: '2026-03-01T09:00:00Z', status: 'open' },
    ];
    const incoming = [
      { id: 'c', created_at: '2026-03-01T11:00:00Z', status: 'open' },
      { id: 'b', created_at: '2026-03-01T10:00:00Z', status: 'acknowledged' },
    ];
    const merged = mergeFeed(current, incoming);
    expect(merged.map((item) => item.id)).toEqual(['c', 'b', 'a']);
    expect(merged[1]?.status).toBe('acknowledged');
  });
});

describe('laterCursor', () => {
  it('moves only forward', () => {
    expect(laterCursor('2026-03-01T10:00:00Z', '2026-03-01T11:00:00Z')).toBe('2026-03-01T11:00:00Z');
    expect(laterCursor('2026-03-01T11:00:00Z', '2026-03-01T10:00:00Z')).toBe('2026-03-01T11:00:00Z');
    expect(laterCursor(null, '2026-03-01T10:00:00Z')).toBe('2026-03-01T10:00:00Z');
    expect(laterCursor('2026-03-01T10:00:00Z', null)).toBe('2026-03-01T10:00:00Z');
    expect(laterCursor(undefined, undefined)).toBeNull();
  });
});
