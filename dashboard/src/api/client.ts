import createClient from 'openapi-fetch';

import { getAccessToken, refreshNow } from '../auth/tokens';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

/** A problem+json answer (RFC 9457) or a network failure, thrown by {@link unwrap}. */
export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly retryAfter: number | null;

  constructor(status: number, title: string, detail: string, type = '', retryAfter: number | null = null) {
    super(detail || title);
    this.name = 'ApiError';
    this.status = status;
    this.type = type.replace('urn:garrison:problem:', '');
    this.retryAfter = retryAfter;
  }
}

/** Adds the in-memory access token; on a 401, refreshes once through the cookie and retries. */
export async function authFetch(request: Request): Promise<Response> {
  const send = (): Promise<Response> => {
    const attempt = request.clone();
    const token = getAccessToken();
    if (token) attempt.headers.set('Authorization', `Bearer ${token}`);
    return fetch(attempt);
  };
  const response = await send();
  const isAuthCall = new URL(request.url, window.location.href).pathname.startsWith('/api/v1/auth/');
  if (response.status !== 401 || isAuthCall || !getAccessToken()) return response;
  return (await refreshNow()) ? send() : response;
}

export const api = createClient<paths>({
  baseUrl: window.location.origin,
  credentials: 'same-origin',
  fetch: authFetch,
});

interface Problem {
  title?: string;
  detail?: string;
  type?: string;
}

export function problemOf(response: Response, error: unknown): ApiError {
  const problem = (error ?? {}) as Problem;
  const retry = Number(response.headers.get('Retry-After'));
  return new ApiError(
    response.status,
    problem.title ?? response.statusText,
    problem.detail ?? `The server answered ${response.status}.`,
    problem.type,
    Number.isFinite(retry) && retry > 0 ? retry : null,
  );
}

/** The data of an openapi-fetch answer, or an {@link ApiError}. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.data !== undefined) return result.data;
  if (result.response.ok) return undefined as T; // 204
  throw problemOf(result.response, result.error);
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}
