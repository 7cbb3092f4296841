import { createTheme, darken, luminance, type CSSVariablesResolver } from '@mantine/core';

export const theme = createTheme({
  primaryColor: 'blue',
  defaultRadius: 'md',
  components: {
    // Icon-only close buttons get a name screen readers can say.
    Notification: { defaultProps: { closeButtonProps: { 'aria-label': 'Dismiss notification' } } },
    Modal: { defaultProps: { closeButtonProps: { 'aria-label': 'Close dialog' } } },
    Drawer: { defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } },
    // A table wider than the page scrolls sideways; keyboard users scroll it once it can take focus.
    TableScrollContainer: { defaultProps: { scrollAreaProps: { viewportProps: { tabIndex: 0 } } } },
  },
});

/** WCAG 2 contrast ratio of a colour with white. */
function contrastOnWhite(color: string): number {
  return 1.05 / (luminance(color) + 0.05);
}

/**
 * The colour, darkened until it reads on white at 5.5:1. That is WCAG AA (4.5:1) with room for the
 * tinted backgrounds it also sits on (light badges and buttons, striped rows, the active navigation
 * link), and the same for white text on it (filled buttons and badges).
 */
export function readableOnWhite(color: string, ratio = 5.5): string {
  let shade = color;
  for (let step = 0; step < 40 && contrastOnWhite(shade) < ratio; step += 1) shade = darken(shade, 0.04);
  return shade;
}

/**
 * Mantine's light scheme draws text in shade 6 of a colour (links, light and outline buttons and
 * badges, white on filled ones) and dimmed text in gray 6: about 3.3:1 on white, below WCAG AA. These
 * take the darker, readable shade instead; the dark scheme only needs its dimmed text lighter. Chart
 * fills keep the palette: they are not text.
 */
export const readableColors: CSSVariablesResolver = (resolved) => {
  const light: Record<string, string> = {
    '--mantine-color-dimmed': resolved.colors.gray[7],
    '--mantine-color-anchor': readableOnWhite(resolved.colors[resolved.primaryColor]![6]),
  };
  for (const [name, shades] of Object.entries(resolved.colors)) {
    if (name === 'dark') continue;
    const text = readableOnWhite(shades[6]);
    light[`--mantine-color-${name}-filled`] = text;
    light[`--mantine-color-${name}-filled-hover`] = darken(text, 0.12);
    light[`--mantine-color-${name}-light-color`] = text;
    light[`--mantine-color-${name}-outline`] = text;
    light[`--mantine-color-${name}-text`] = text;
  }
  return { variables: {}, light, dark: { '--mantine-color-dimmed': resolved.colors.dark[1] } };
};
