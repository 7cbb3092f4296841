import { Stack, Text, Title } from '@mantine/core';
import { lazy, Suspense } from 'react';
import { Route, Routes } from 'react-router';

import { useAuth, type Permission } from './auth/AuthProvider';
import { PageLoader } from './components/PageLoader';
import { ChangePasswordPage, SignInPage } from './pages/SignIn';

// The sign-in page comes with the first load; the console and each of its pages (and the charts some
// of them draw) are fetched when first needed, so a visitor who is not signed in downloads little.
const Layout = lazy(() => import('./Layout').then((m) => ({ default: m.Layout })));
const OverviewPage = lazy(() => import('./pages/Overview').then((m) => ({ default: m.OverviewPage })));
const UsersPage = lazy(() => import('./pages/Users').then((m) => ({ default: m.UsersPage })));
const UserProfilePage = lazy(() => import('./pages/UserProfile').then((m) => ({ default: m.UserProfilePage })));
const SessionsPage = lazy(() => import('./pages/Sessions').then((m) => ({ default: m.SessionsPage })));
const AnalyticsPage = lazy(() => import('./pages/Analytics').then((m) => ({ default: m.AnalyticsPage })));
const AnomaliesPage = lazy(() => import('./pages/Anomalies').then((m) => ({ default: m.AnomaliesPage })));
const AuditPage = lazy(() => import('./pages/Audit').then((m) => ({ default: m.AuditPage })));

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
    return <PageLoader label="Starting the console" fullScreen />;
  }
  if (status === 'signed-out') return <SignInPage />;
  if (status === 'password-change') return <ChangePasswordPage />;
  return (
    <Suspense fallback={<PageLoader label="Loading the console" fullScreen />}>
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
    </Suspense>
  );
}
