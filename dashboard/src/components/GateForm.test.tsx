import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { renderUi } from '../test/render';
import { GateForm } from './GateForm';

describe('GateForm', () => {
  it('shows why a submission failed, in the words given, and lets the page clear its fields', async () => {
    const onFailure = vi.fn();
    renderUi(
      <GateForm
        label="Sign in"
        submitLabel="Sign in"
        failureTitle="Not signed in"
        onSubmit={() => Promise.reject(new Error('refused'))}
        describe={(error) => `Described: ${(error as Error).message}`}
        onFailure={onFailure}
      >
        <input aria-label="Username" />
      </GateForm>,
    );
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Described: refused');
    expect(onFailure).toHaveBeenCalledTimes(1);
  });

  it('does not submit while disabled', async () => {
    const onSubmit = vi.fn(() => Promise.resolve());
    renderUi(
      <GateForm label="Change password" submitLabel="Change password" failureTitle="No" onSubmit={onSubmit} disabled>
        <input aria-label="New password" />
      </GateForm>,
    );
    await userEvent.click(screen.getByRole('button', { name: 'Change password' }));
    expect(onSubmit).not.toHaveBeenCalled();
  });
});
