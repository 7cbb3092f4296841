import { afterEach, describe, expect, it, vi } from 'vitest';

import { acceptTokens, forgetTokens, getAccessToken, readCookie, refreshDelay, refreshNow } from './tokens';

afterEach(() => {
  forgetTokens();
  document.cookie = 'garrison_csrf=; max-age=0; path=/';
  vi.unstubAllGlobals();
});

describe('readCookie', () => {
  it('finds one cookie among others and decodes it', () => {
    expect(readCookie('garrison_csrf', 'a=1; garrison_csrf=abc%3D%3D; b=2')).toBe('abc==');
    expect(readCookie('garrison_csrf', 'garrison_csrf_other=x')).toBeNull();
    expect(readCookie('garrison_csrf', '')).toBeNull();
  });
});

describe('refreshDelay', () => {
  it('refreshes a minute early, or halfway through a short lifetime', () => {
    expect(refreshDelay(900)).toBe(840_000);
    expect(refreshDelay(60)).toBe(30_000);
  });
});

describe('refreshNow', () => {
  it('sends the CSRF header with the cookie, once for concurrent callers, and keeps the token in memory', async () => {
    document.cookie = 'garrison_csrf=csrf-1; path=/';
    const fetchMock = vi.fn(() =>
      Promise.resolve(
        new Response(JSON.stringify({ access_token: 'at-2', expires_in: 900, csrf_token: 'csrf-2', session_id: 's' }), {
          status: 200,
          headers: { 'Content-Type': 'application/json' },
        }),
      ),
    );
    vi.stubGlobal('fetch', fetchMock);
    const results = await Promise.all([refreshNow(), refreshNow(), refreshNow()]);
    expect(results).toEqual([true, true, true]);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/auth/refresh');
    expect(init.credentials).toBe('same-origin');
    expect((init.headers as Record<string, string>)['X-CSRF-Token']).toBe('csrf-1');
    expect(init.body).toBe('{}');
    expect(getAccessToken()).toBe('at-2');
    expect(window.localStorage.length).toBe(0);
    expect(window.sessionStorage.length).toBe(0);
  });

  it('signs out when the refresh is refused', async () => {
    document.cookie = 'garrison_csrf=csrf-1; path=/';
    acceptTokens({ access_token: 'at-1', expires_in: 900, session_id: 's' });
    vi.stubGlobal(
      'fetch',
      vi.fn(() => Promise.resolve(new Response('{}', { status: 401 }))),
    );
    expect(await refreshNow()).toBe(false);
    expect(getAccessToken()).toBeNull();
  });

  it('does not call the server without a CSRF cookie (no session to resume)', async () => {
    const fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);
    expect(await refreshNow()).toBe(false);
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
