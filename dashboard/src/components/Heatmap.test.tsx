import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { renderUi } from '../test/render';
import { Heatmap } from './Heatmap';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

describe('Heatmap', () => {
  it('is a table of 7 weekdays by 24 hours whose cells say their count', () => {
    const counts = WEEKDAYS.map(() => Array.from({ length: 24 }, () => 0));
    counts[2]![9] = 7;
    renderUi(<Heatmap weekdays={WEEKDAYS} counts={counts} timeZone="Europe/Paris" />);
    expect(screen.getByRole('table', { name: /Europe\/Paris/ })).toBeInTheDocument();
    expect(screen.getAllByRole('rowheader')).toHaveLength(7);
    const cells = screen.getAllByRole('img');
    expect(cells).toHaveLength(7 * 24);
    expect(screen.getByRole('img', { name: 'Wednesday 9:00, 7 logins' })).toHaveAttribute('data-count', '7');
    expect(screen.getByRole('img', { name: 'Monday 0:00, 0 logins' })).toBeInTheDocument();
  });
});
