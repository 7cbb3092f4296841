import { Button, PasswordInput, Text, TextInput } from '@mantine/core';
import { useState } from 'react';

import { ApiError, errorMessage } from '../api/client';
import { useAuth } from '../auth/AuthProvider';
import { GateForm, GateFrame } from '../components/GateForm';

/** What a failed sign-in means, in words: no enumeration (the server answers the same for all). */
export function signInProblem(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 429) {
      const wait = error.retryAfter ? ` Try again in ${error.retryAfter} seconds.` : ' Wait a minute and try again.';
      return `Too many sign-in attempts.${wait}`;
    }
    if (error.status === 401) {
      return 'The username or password is incorrect, or this account cannot sign in now. After 5 wrong passwords an account is locked for 30 minutes; an administrator can unlock it.';
    }
    if (error.status === 409) return error.message;
  }
  return errorMessage(error);
}

export function SignInPage() {
  const { signIn } = useAuth();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');

  return (
    <GateFrame title="Sign in">
      <GateForm
        label="Sign in"
        submitLabel="Sign in"
        failureTitle="Not signed in"
        onSubmit={() => signIn(username.trim(), password)}
        describe={signInProblem}
        onFailure={() => setPassword('')}
      >
        <TextInput
          label="Username or email"
          autoComplete="username"
          required
          autoFocus
          value={username}
          onChange={(e) => setUsername(e.currentTarget.value)}
        />
        <PasswordInput
          label="Password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
      </GateForm>
    </GateFrame>
  );
}

export function ChangePasswordPage() {
  const { me, changePassword, signOut } = useAuth();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const mismatch = repeat.length > 0 && next !== repeat;

  return (
    <GateFrame title="Choose a new password">
      <Text size="sm">
        {me ? <b>{me.username}</b> : 'This account'} signed in with a temporary password. Choose your own before using
        the console: at least 12 characters, not a common password, not containing your username or email.
      </Text>
      <GateForm
        label="Change password"
        submitLabel="Change password"
        failureTitle="Password not changed"
        onSubmit={() => changePassword(current, next)}
        disabled={mismatch}
        footer={
          <Button variant="subtle" onClick={() => void signOut()}>
            Sign out
          </Button>
        }
      >
        <PasswordInput
          label="Current (temporary) password"
          autoComplete="current-password"
          required
          autoFocus
          value={current}
          onChange={(e) => setCurrent(e.currentTarget.value)}
        />
        <PasswordInput
          label="New password"
          autoComplete="new-password"
          required
          minLength={12}
          value={next}
          onChange={(e) => setNext(e.currentTarget.value)}
        />
        <PasswordInput
          label="Repeat the new password"
          autoComplete="new-password"
          required
          value={repeat}
          error={mismatch ? 'The two passwords differ.' : undefined}
          onChange={(e) => setRepeat(e.currentTarget.value)}
        />
      </GateForm>
    </GateFrame>
  );
}
