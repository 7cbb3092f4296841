import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api, unwrap } from '../api/client';
import { notifyDone, notifyFailed } from '../lib/notify';
import type { UserRow } from './UsersTable';

/** Block, unblock, unlock or end every session of a user; confirms with a notification and refreshes. */
export function useUserActions() {
  const queryClient = useQueryClient();
  const refresh = () => {
    for (const key of ['users', 'user', 'profile', 'stats', 'sessions', 'session-states']) {
      void queryClient.invalidateQueries({ queryKey: [key] });
    }
  };
  const run = useMutation({
    mutationFn: async ({
      user,
      action,
      reason,
    }: {
      user: UserRow | { id: string; username: string };
      action: string;
      reason?: string;
    }) => {
      const path = { user_id: user.id };
      switch (action) {
        case 'block':
          return unwrap(
            await api.POST('/api/v1/admin/users/{user_id}/block', { params: { path }, body: { reason: reason ?? '' } }),
          );
        case 'unblock':
          return unwrap(await api.POST('/api/v1/admin/users/{user_id}/unblock', { params: { path } }));
        case 'unlock':
          return unwrap(await api.POST('/api/v1/admin/users/{user_id}/unlock', { params: { path } }));
        default:
          return unwrap(await api.POST('/api/v1/admin/users/{user_id}/sessions/revoke-all', { params: { path } }));
      }
    },
    onSuccess: (_data, { user, action }) => {
      const done: Record<string, string> = {
        block: `Blocked ${user.username}; their sessions have ended.`,
        unblock: `Unblocked ${user.username}.`,
        unlock: `Unlocked ${user.username}.`,
        revoke: `Ended every session of ${user.username}.`,
      };
      notifyDone(done[action] ?? 'Done');
      refresh();
    },
    onError: (error) => notifyFailed(error),
  });
  return run;
}
