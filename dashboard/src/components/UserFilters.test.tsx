import { act, fireEvent, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

import { renderUi } from '../test/render';
import { NO_FILTERS, UserFilters } from './UserFilters';

describe('UserFilters', () => {
  it('waits for typing to pause before searching, then searches once', async () => {
    vi.useFakeTimers();
    const onChange = vi.fn();
    renderUi(<UserFilters value={NO_FILTERS} onChange={onChange} debounceMs={300} />);
    const search = screen.getByRole('textbox', { name: 'Search' });
    fireEvent.change(search, { target: { value: 'al' } });
    fireEvent.change(search, { target: { value: 'alice' } });
    expect(onChange).not.toHaveBeenCalled();
    await act(() => vi.advanceTimersByTime(300));
    expect(onChange).toHaveBeenCalledTimes(1);
    expect(onChange).toHaveBeenCalledWith({ ...NO_FILTERS, q: 'alice' });
    vi.useRealTimers();
  });

  it('keeps the other filters when one changes', async () => {
    vi.useFakeTimers();
    const onChange = vi.fn();
    const value = { q: 'al', status: 'blocked', role: 'user', department: '' };
    renderUi(<UserFilters value={value} onChange={onChange} debounceMs={10} />);
    fireEvent.change(screen.getByRole('textbox', { name: 'Department' }), { target: { value: 'Ops' } });
    await act(() => vi.advanceTimersByTime(10));
    expect(onChange).toHaveBeenCalledWith({ ...value, department: 'Ops' });
    vi.useRealTimers();
  });

  it('offers to clear only when something is filtered', () => {
    renderUi(<UserFilters value={NO_FILTERS} onChange={vi.fn()} />);
    expect(screen.queryByRole('button', { name: 'Clear filters' })).not.toBeInTheDocument();
  });

  it('clears every filter at once', () => {
    const onChange = vi.fn();
    renderUi(<UserFilters value={{ q: 'x', status: 'locked', role: 'user', department: 'Ops' }} onChange={onChange} />);
    fireEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    expect(onChange).toHaveBeenCalledWith(NO_FILTERS);
  });
});
