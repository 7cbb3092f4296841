import {
  Alert,
  Button,
  Code,
  CopyButton,
  Drawer,
  Group,
  Modal,
  MultiSelect,
  Skeleton,
  Stack,
  Text,
  TextInput,
  Textarea,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';

import { api, errorMessage, unwrap, type Schemas } from '../api/client';
import { notifyDone } from '../lib/notify';
import { ROLE_OPTIONS } from './UserFilters';

/** A dialog form's last row: the error of its submission, if any, then Cancel and the submit button. */
function FormActions({
  error,
  onCancel,
  submitLabel,
  pending,
  disabled = false,
  color,
}: {
  error: Error | null;
  onCancel: () => void;
  submitLabel: string;
  pending: boolean;
  disabled?: boolean;
  color?: string;
}) {
  return (
    <>
      {error && (
        <Alert color="red" role="alert">
          {errorMessage(error)}
        </Alert>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" color={color} loading={pending} disabled={disabled}>
          {submitLabel}
        </Button>
      </Group>
    </>
  );
}

/** ISO datetime → the value of a datetime-local input, in the browser's zone. */
function toLocalInput(value: string | null | undefined): string {
  if (!value) return '';
  const date = new Date(value);
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

function fromLocalInput(value: string): string | null {
  return value ? new Date(value).toISOString() : null;
}

export function CreateUserDialog({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ username: '', email: '', full_name: '', department: '', roles: ['user'] });
  const [created, setCreated] = useState<Schemas['AdminUserCreated'] | null>(null);
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/api/v1/admin/users', {
          body: {
            username: form.username.trim(),
            email: form.email.trim(),
            full_name: form.full_name.trim() || null,
            department: form.department.trim() || null,
            roles: form.roles,
          },
        }),
      ),
    onSuccess: (answer) => {
      setCreated(answer);
      void queryClient.invalidateQueries({ queryKey: ['users'] });
      void queryClient.invalidateQueries({ queryKey: ['stats'] });
    },
  });
  const close = () => {
    setCreated(null);
    setForm({ username: '', email: '', full_name: '', department: '', roles: ['user'] });
    create.reset();
    onClose();
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };

  return (
    <Modal opened={opened} onClose={close} title={created ? 'User created' : 'Create a user'} size="md">
      {created ? (
        <Stack>
          <Text size="sm">
            <b>{created.user.username}</b> can now sign in with this temporary password and must change it at first
            login. It is shown only this once.
          </Text>
          <Group gap="xs" wrap="nowrap">
            <Code fz="md" data-testid="temporary-password" style={{ flex: 1 }}>
              {created.temporary_password}
            </Code>
            <CopyButton value={created.temporary_password}>
              {({ copied, copy }) => (
                <Button variant={copied ? 'filled' : 'light'} color={copied ? 'teal' : 'blue'} onClick={copy}>
                  {copied ? 'Copied' : 'Copy'}
                </Button>
              )}
            </CopyButton>
          </Group>
          <Group justify="flex-end">
            <Button onClick={close}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={submit}>
          <Stack>
            <TextInput
              label="Username"
              required
              data-autofocus
              value={form.username}
              onChange={(e) => setForm({ ...form, username: e.currentTarget.value })}
            />
            <TextInput
              label="Email"
              type="email"
              required
              value={form.email}
              onChange={(e) => setForm({ ...form, email: e.currentTarget.value })}
            />
            <TextInput
              label="Full name"
              value={form.full_name}
              onChange={(e) => setForm({ ...form, full_name: e.currentTarget.value })}
            />
            <TextInput
              label="Department"
              value={form.department}
              onChange={(e) => setForm({ ...form, department: e.currentTarget.value })}
            />
            <MultiSelect
              label="Roles"
              data={ROLE_OPTIONS}
              value={form.roles}
              onChange={(roles) => setForm({ ...form, roles })}
              required
            />
            <FormActions
              error={create.error}
              onCancel={close}
              submitLabel="Create user"
              pending={create.isPending}
              disabled={form.roles.length === 0}
            />
          </Stack>
        </form>
      )}
    </Modal>
  );
}

interface EditForm {
  full_name: string;
  department: string;
  rank: string;
  location: string;
  contact_number: string;
  roles: string[];
  expires: string;
}

export function EditUserDrawer({ userId, onClose }: { userId: string | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const user = useQuery({
    queryKey: ['user', userId],
    enabled: userId !== null,
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/admin/users/{user_id}', { params: { path: { user_id: userId ?? '' } } })),
  });
  const [form, setForm] = useState<EditForm | null>(null);
  // The form starts from each answer for the user (set during render, not in an effect).
  const [loaded, setLoaded] = useState(user.data);
  if (loaded !== user.data) {
    setLoaded(user.data);
    if (user.data) {
      setForm({
        full_name: user.data.full_name ?? '',
        department: user.data.department ?? '',
        rank: user.data.rank ?? '',
        location: user.data.location ?? '',
        contact_number: user.data.contact_number ?? '',
        roles: user.data.roles,
        expires: toLocalInput(user.data.account_expires_at),
      });
    } else {
      setForm(null);
    }
  }
  const save = useMutation({
    mutationFn: async (values: EditForm) =>
      unwrap(
        await api.PATCH('/api/v1/admin/users/{user_id}', {
          params: { path: { user_id: userId ?? '' } },
          body: {
            full_name: values.full_name.trim() || null,
            department: values.department.trim() || null,
            rank: values.rank.trim() || null,
            location: values.location.trim() || null,
            contact_number: values.contact_number.trim() || null,
            roles: values.roles,
            account_expires_at: fromLocalInput(values.expires),
          },
        }),
      ),
    onSuccess: (saved) => {
      notifyDone(`Saved ${saved.username}`);
      void queryClient.invalidateQueries({ queryKey: ['users'] });
      void queryClient.invalidateQueries({ queryKey: ['user'] });
      void queryClient.invalidateQueries({ queryKey: ['profile'] });
      onClose();
    },
  });
  const field = (key: Exclude<keyof EditForm, 'roles'>, label: string, type = 'text') =>
    form && (
      <TextInput
        label={label}
        type={type}
        value={form[key]}
        onChange={(e) => setForm({ ...form, [key]: e.currentTarget.value })}
      />
    );

  return (
    <Drawer
      opened={userId !== null}
      onClose={() => {
        save.reset();
        onClose();
      }}
      title={user.data ? `Edit ${user.data.username}` : 'Edit user'}
      position="right"
      size="md"
    >
      {user.isError && <Alert color="red">{errorMessage(user.error)}</Alert>}
      {!form ? (
        <Stack>
          <Skeleton h={36} />
          <Skeleton h={36} />
          <Skeleton h={36} />
        </Stack>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            save.mutate(form);
          }}
        >
          <Stack>
            {field('full_name', 'Full name')}
            {field('department', 'Department')}
            {field('rank', 'Rank')}
            {field('location', 'Location')}
            {field('contact_number', 'Contact number', 'tel')}
            <MultiSelect
              label="Roles"
              data={ROLE_OPTIONS}
              value={form.roles}
              onChange={(roles) => setForm({ ...form, roles })}
              required
            />
            {field('expires', 'Account expires (leave empty for never)', 'datetime-local')}
            <FormActions
              error={save.error}
              onCancel={onClose}
              submitLabel="Save"
              pending={save.isPending}
              disabled={form.roles.length === 0}
            />
          </Stack>
        </form>
      )}
    </Drawer>
  );
}

export function BlockDialog({
  user,
  onClose,
  onBlock,
  pending,
}: {
  user: { username: string } | null;
  onClose: () => void;
  onBlock: (reason: string) => void;
  pending: boolean;
}) {
  const [reason, setReason] = useState('');
  // A reason typed for one user is never offered for the next.
  const [shownUser, setShownUser] = useState(user);
  if (shownUser !== user) {
    setShownUser(user);
    setReason('');
  }
  return (
    <Modal opened={user !== null} onClose={onClose} title={user ? `Block ${user.username}` : 'Block'}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (reason.trim()) onBlock(reason.trim());
        }}
      >
        <Stack>
          <Text size="sm">
            Every session of this user ends now, on every device, and new sign-ins are refused until an administrator
            unblocks them.
          </Text>
          <Textarea
            label="Reason"
            description="Recorded in the audit log."
            required
            data-autofocus
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
            maxLength={500}
          />
          <FormActions
            error={null}
            onCancel={onClose}
            submitLabel="Block user"
            pending={pending}
            disabled={!reason.trim()}
            color="red"
          />
        </Stack>
      </form>
    </Modal>
  );
}
