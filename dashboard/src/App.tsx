import { Center, Loader, Stack, Text, Title } from '@mantine/core';
import { Route, Routes } from 'react-router';

import { useAuth, type Permission } from './auth/AuthProvider';
import { Layout } from './Layout';
import { AnalyticsPage } from './pages/Analytics';
import { AnomaliesPage } from './pages/Anomalies';
import { AuditPage } from './pages/Audit';
import { OverviewPage } from './pages/Overview';
import { SessionsPage } from './pages/Sessions';
import { ChangePasswordPage, SignInPage } from './pages/SignIn';
import { UserProfilePage } from './pages/UserProfile';
import { UsersPage } from './pages/Users';

function Guard({ permission, children }: { permission: Permission; children: React.ReactNode }) {
  const { can } = useAuth();
  if (can(permission)) return <>{children}</>;
  return (
    <Stack>
      <Title order={2}>Not available</Title>
      <Text>Your roles do not grant {permission}.</Text>
    </Stack>
  );
}

function NotFound() {
  return (
    <Stack>
      <Title order={2}>Page not found</Title>
      <Text>There is no console page at this address.</Text>
    </Stack>
  );
}

export function App() {
  const { status } = useAuth();
  if (status === 'starting') {
    return (
      <Center mih="100vh" role="status">
        <Loader aria-label="Starting the console" />
      </Center>
    );
  }
  if (status === 'signed-out') return <SignInPage />;
  if (status === 'password-change') return <ChangePasswordPage />;
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<OverviewPage />} />
        <Route
          path="users"
          element={
            <Guard permission="users:read">
              <UsersPage />
            </Guard>
          }
        />
        <Route
          path="users/:userId"
          element={
            <Guard permission="users:read">
              <UserProfilePage />
            </Guard>
          }
        />
        <Route
          path="sessions"
          element={
            <Guard permission="sessions:read">
              <SessionsPage />
            </Guard>
          }
        />
        <Route
          path="analytics"
          element={
            <Guard permission="analytics:read">
              <AnalyticsPage />
            </Guard>
          }
        />
        <Route
          path="anomalies"
          element={
            <Guard permission="anomalies:read">
              <AnomaliesPage />
            </Guard>
          }
        />
        <Route
          path="audit"
          element={
            <Guard permission="audit:read">
              <AuditPage />
            </Guard>
          }
        />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
