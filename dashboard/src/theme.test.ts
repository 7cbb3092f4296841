import { DEFAULT_THEME, luminance } from '@mantine/core';
import { describe, expect, it } from 'vitest';

import { readableOnWhite } from './theme';

const onWhite = (color: string) => 1.05 / (luminance(color) + 0.05);

describe('readableOnWhite', () => {
  it('makes shade 6 of every palette colour reach WCAG AA on white, with room for tinted backgrounds', () => {
    for (const [name, shades] of Object.entries(DEFAULT_THEME.colors)) {
      if (name === 'dark') continue;
      expect(onWhite(readableOnWhite(shades[6])), name).toBeGreaterThanOrEqual(5.5);
    }
  });

  it('leaves a colour that already reads alone', () => {
    expect(readableOnWhite('#1a1b1e')).toBe('#1a1b1e');
  });
});
