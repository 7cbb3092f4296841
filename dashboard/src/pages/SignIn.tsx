import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';

import { ApiError, errorMessage } from '../api/client';
import { useAuth } from '../auth/AuthProvider';

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

function Frame({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder shadow="sm" p="xl" radius="md" w={420} maw="100%">
        <Stack>
          <div>
            <Text c="dimmed" size="sm" fw={600}>
              Garrison console
            </Text>
            <Title order={1} size="h2">
              {title}
            </Title>
          </div>
          {children}
        </Stack>
      </Paper>
    </Center>
  );
}

export function SignInPage() {
  const { signIn } = useAuth();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(username.trim(), password);
    } catch (problem) {
      setError(signInProblem(problem));
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <Frame title="Sign in">
      <form onSubmit={(e) => void submit(e)} aria-label="Sign in">
        <Stack>
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
          {error && (
            <Alert color="red" role="alert" title="Not signed in">
              {error}
            </Alert>
          )}
          <Button type="submit" loading={busy} fullWidth>
            Sign in
          </Button>
        </Stack>
      </form>
    </Frame>
  );
}

export function ChangePasswordPage() {
  const { me, changePassword, signOut } = useAuth();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const mismatch = repeat.length > 0 && next !== repeat;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (next !== repeat) return;
    setBusy(true);
    setError(null);
    try {
      await changePassword(current, next);
    } catch (problem) {
      setError(errorMessage(problem));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Frame title="Choose a new password">
      <Text size="sm">
        {me ? <b>{me.username}</b> : 'This account'} signed in with a temporary password. Choose your own before using
        the console: at least 12 characters, not a common password, not containing your username or email.
      </Text>
      <form onSubmit={(e) => void submit(e)} aria-label="Change password">
        <Stack>
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
          {error && (
            <Alert color="red" role="alert" title="Password not changed">
              {error}
            </Alert>
          )}
          <Button type="submit" loading={busy} disabled={mismatch} fullWidth>
            Change password
          </Button>
          <Button variant="subtle" onClick={() => void signOut()}>
            Sign out
          </Button>
        </Stack>
      </form>
    </Frame>
  );
}
