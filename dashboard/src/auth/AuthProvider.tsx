import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

import { api, problemOf, unwrap, type Schemas } from '../api/client';
import {
  acceptTokens,
  CSRF_HEADER,
  currentCsrf,
  forgetTokens,
  getAccessToken,
  hasRefreshCookie,
  onAuthChange,
  refreshNow,
  type TokenAnswer,
} from './tokens';

export type Me = Schemas['MeOut'];
export type Permission =
  | 'users:read'
  | 'users:write'
  | 'users:block'
  | 'sessions:read'
  | 'sessions:revoke'
  | 'audit:read'
  | 'analytics:read'
  | 'anomalies:read'
  | 'anomalies:write';

type Status = 'starting' | 'signed-out' | 'password-change' | 'signed-in';

interface AuthValue {
  status: Status;
  me: Me | null;
  signIn: (username: string, password: string) => Promise<void>;
  changePassword: (current: string, next: string) => Promise<void>;
  signOut: () => Promise<void>;
  can: (permission: Permission) => boolean;
}

const AuthContext = createContext<AuthValue | null>(null);

async function loadMe(): Promise<Me> {
  return unwrap(await api.GET('/api/v1/me'));
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>('starting');
  const [me, setMe] = useState<Me | null>(null);
  const queryClient = useQueryClient();

  const enter = useCallback(async () => {
    const account = await loadMe();
    setMe(account);
    setStatus(account.must_change_password ? 'password-change' : 'signed-in');
  }, []);

  useEffect(() => {
    // A reload: the access token is gone with the page, the refresh cookie is not.
    let cancelled = false;
    void (async () => {
      if (hasRefreshCookie() && (await refreshNow())) {
        try {
          await enter();
          return;
        } catch {
          forgetTokens();
        }
      }
      if (!cancelled) setStatus('signed-out');
    })();
    const stop = onAuthChange((signedIn) => {
      if (!signedIn) {
        setMe(null);
        setStatus('signed-out');
        queryClient.clear();
      }
    });
    return () => {
      cancelled = true;
      stop();
    };
  }, [enter, queryClient]);

  const signIn = useCallback(
    async (username: string, password: string) => {
      const response = await fetch('/api/v1/auth/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password, token_delivery: 'cookie' }),
      });
      if (!response.ok) throw problemOf(response, await response.json().catch(() => null));
      acceptTokens((await response.json()) as TokenAnswer);
      await enter();
    },
    [enter],
  );

  const changePassword = useCallback(
    async (current: string, next: string) => {
      unwrap(
        await api.POST('/api/v1/me/password', {
          body: { current_password: current, new_password: next },
        }),
      );
      await enter();
    },
    [enter],
  );

  const signOut = useCallback(async () => {
    const csrf = currentCsrf();
    const token = getAccessToken();
    const headers: Record<string, string> = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (csrf) headers[CSRF_HEADER] = csrf;
    try {
      // Ends the session server-side and clears both cookies.
      await fetch('/api/v1/auth/logout', { method: 'POST', credentials: 'same-origin', headers });
    } finally {
      forgetTokens();
    }
  }, []);

  const value = useMemo<AuthValue>(() => {
    const granted = new Set(me?.permissions ?? []);
    return {
      status,
      me,
      signIn,
      changePassword,
      signOut,
      can: (permission) => status === 'signed-in' && granted.has(permission),
    };
  }, [status, me, signIn, changePassword, signOut]);

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside <AuthProvider>');
  return value;
}
