import { describe, expect, it } from 'vitest';

import { sessionStateSlices } from './sessions';

describe('sessionStateSlices', () => {
  it('keeps a fixed order and leaves out empty states', () => {
    expect(sessionStateSlices({ active: 3, expired: 0, revoked: 2 })).toEqual([
      { name: 'Active', value: 3, color: 'teal.6', 'aria-label': 'Active: 3' },
      { name: 'Revoked', value: 2, color: 'red.6', 'aria-label': 'Revoked: 2' },
    ]);
    expect(sessionStateSlices({ active: 0, expired: 0, revoked: 0 })).toEqual([]);
  });
});
