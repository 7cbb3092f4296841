import { Badge } from '@mantine/core';

import type { SessionState } from '../lib/sessions';

const USER_STATUS: Record<string, string> = {
  active: 'teal',
  blocked: 'red',
  locked: 'orange',
  expired: 'gray',
};

export function UserStatusBadge({ status }: { status: string }) {
  return (
    <Badge color={USER_STATUS[status] ?? 'gray'} variant="light">
      {status}
    </Badge>
  );
}

const SESSION_STATE: Record<SessionState, string> = { active: 'teal', expired: 'gray', revoked: 'red' };

export function SessionStateBadge({ state }: { state: SessionState }) {
  return (
    <Badge color={SESSION_STATE[state]} variant="light">
      {state}
    </Badge>
  );
}

const SEVERITY: Record<string, string> = { low: 'blue', medium: 'yellow', high: 'red', critical: 'grape' };

export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <Badge color={SEVERITY[severity] ?? 'gray'} variant="filled">
      {severity}
    </Badge>
  );
}

const ANOMALY_STATUS: Record<string, string> = { open: 'red', acknowledged: 'yellow', resolved: 'teal' };

export function AnomalyStatusBadge({ status }: { status: string }) {
  return (
    <Badge color={ANOMALY_STATUS[status] ?? 'gray'} variant="outline">
      {status}
    </Badge>
  );
}
