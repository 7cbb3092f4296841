import { describe, expect, it } from 'vitest';

import { ApiError } from '../api/client';
import { signInProblem } from './SignIn';

describe('signInProblem', () => {
  it('explains a rate limit with the wait the server asked for', () => {
    expect(signInProblem(new ApiError(429, 'Too many requests', 'slow down', 'rate-limited', 42))).toBe(
      'Too many sign-in attempts. Try again in 42 seconds.',
    );
    expect(signInProblem(new ApiError(429, 'Too many requests', 'slow down'))).toMatch(/Wait a minute/);
  });

  it('mentions lockout on a refused sign-in, without saying which part was wrong', () => {
    const message = signInProblem(new ApiError(401, 'Invalid credentials', 'x', 'invalid-credentials'));
    expect(message).toMatch(/incorrect/);
    expect(message).toMatch(/locked for 30 minutes/);
  });
});
