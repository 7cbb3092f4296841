import { Text } from '@mantine/core';
import { modals } from '@mantine/modals';

interface Confirm {
  title: string;
  message: string;
  confirmLabel: string;
  onConfirm: () => void;
}

/** Destructive actions ask first; the dialog focuses Cancel, Escape closes it. */
export function confirmDestructive({ title, message, confirmLabel, onConfirm }: Confirm): void {
  modals.openConfirmModal({
    title,
    children: <Text size="sm">{message}</Text>,
    labels: { confirm: confirmLabel, cancel: 'Cancel' },
    confirmProps: { color: 'red' },
    onConfirm,
  });
}
