// The access token lives in this module's memory only: never in localStorage or sessionStorage.
// The refresh token is an HttpOnly cookie the browser sends to /api/v1/auth; scripts never see it.
// Cookie-authenticated calls carry the CSRF token, read from the garrison_csrf cookie (it survives
// a reload) or taken from the last login/refresh answer.

export const CSRF_COOKIE = 'garrison_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';

export interface TokenAnswer {
  access_token: string;
  expires_in: number;
  csrf_token?: string | null;
  session_id: string;
  password_change_required?: boolean;
}

type Listener = (signedIn: boolean) => void;

let accessToken: string | null = null;
let csrfToken: string | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | null = null;
let inFlight: Promise<boolean> | null = null;
const listeners = new Set<Listener>();

export function readCookie(name: string, cookies: string = document.cookie): string | null {
  for (const part of cookies.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) {
      const value = rest.join('=');
      return value ? decodeURIComponent(value) : null;
    }
  }
  return null;
}

export function currentCsrf(): string | null {
  return readCookie(CSRF_COOKIE) ?? csrfToken;
}

export function getAccessToken(): string | null {
  return accessToken;
}

export function hasRefreshCookie(): boolean {
  return currentCsrf() !== null;
}

export function onAuthChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Refresh a minute before the access token expires (or halfway through a short lifetime). */
export function refreshDelay(expiresIn: number): number {
  const lead = Math.min(60, expiresIn / 2);
  return Math.max(1, expiresIn - lead) * 1000;
}

export function acceptTokens(answer: TokenAnswer): void {
  accessToken = answer.access_token;
  if (answer.csrf_token) csrfToken = answer.csrf_token;
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void refreshNow(), refreshDelay(answer.expires_in));
  listeners.forEach((listener) => listener(true));
}

export function forgetTokens(): void {
  accessToken = null;
  csrfToken = null;
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = null;
  listeners.forEach((listener) => listener(false));
}

async function refreshOnce(): Promise<boolean> {
  const csrf = currentCsrf();
  if (!csrf) return false;
  const response = await fetch('/api/v1/auth/refresh', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', [CSRF_HEADER]: csrf },
    body: '{}',
  });
  if (!response.ok) return false;
  acceptTokens((await response.json()) as TokenAnswer);
  return true;
}

/**
 * Exchange the refresh cookie for a new access token. One at a time, in this tab and (with the Web
 * Locks API) across tabs: two tabs presenting the same refresh token would look like token reuse,
 * which ends the session.
 */
export function refreshNow(): Promise<boolean> {
  if (inFlight) return inFlight;
  const run = async (): Promise<boolean> => {
    try {
      const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
      const ok = locks ? await locks.request('garrison-refresh', refreshOnce) : await refreshOnce();
      if (!ok) forgetTokens();
      return ok;
    } catch {
      forgetTokens();
      return false;
    } finally {
      inFlight = null;
    }
  };
  inFlight = run();
  return inFlight;
}
