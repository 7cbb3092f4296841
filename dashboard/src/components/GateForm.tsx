import { Alert, Button, Center, Paper, Stack, Text, Title } from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';

import { errorMessage } from '../api/client';

/** The card the pages before the console stand in: sign-in and the forced password change. */
export function GateFrame({ title, children }: { title: string; children: ReactNode }) {
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

interface Props {
  /** The form's accessible name. */
  label: string;
  submitLabel: string;
  /** The title of the alert that says why a submission failed. */
  failureTitle: string;
  /** Runs on submit; what it throws is shown in the alert, in the words of `describe`. */
  onSubmit: () => Promise<void>;
  describe?: (error: unknown) => string;
  /** After a failure (to clear a password field, say). */
  onFailure?: () => void;
  disabled?: boolean;
  /** The fields. */
  children: ReactNode;
  /** Below the submit button. */
  footer?: ReactNode;
}

/** A sign-in-style form: its fields, the reason of a failed submission, a full-width submit button. */
export function GateForm({
  label,
  submitLabel,
  failureTitle,
  onSubmit,
  describe = errorMessage,
  onFailure,
  disabled = false,
  children,
  footer,
}: Props) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (disabled) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit();
    } catch (problem) {
      setError(describe(problem));
      onFailure?.();
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(event) => void submit(event)} aria-label={label}>
      <Stack>
        {children}
        {error && (
          <Alert color="red" role="alert" title={failureTitle}>
            {error}
          </Alert>
        )}
        <Button type="submit" loading={busy} disabled={disabled} fullWidth>
          {submitLabel}
        </Button>
        {footer}
      </Stack>
    </form>
  );
}
