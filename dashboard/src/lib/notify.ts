import { notifications } from '@mantine/notifications';

import { errorMessage } from '../api/client';

export function notifyDone(message: string): void {
  notifications.show({ color: 'teal', title: 'Done', message });
}

export function notifyFailed(error: unknown, title = 'That did not work'): void {
  notifications.show({ color: 'red', title, message: errorMessage(error) });
}
