import '@mantine/core/styles.css';
import '@mantine/charts/styles.css';
import '@mantine/notifications/styles.css';
import './styles.css';

import { MantineProvider } from '@mantine/core';
import { ModalsProvider } from '@mantine/modals';
import { Notifications } from '@mantine/notifications';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { setNonce } from 'get-nonce';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';

import { ApiError } from './api/client';
import { App } from './App';
import { AuthProvider } from './auth/AuthProvider';
import { SettingsProvider } from './settings';
import { readableColors, theme } from './theme';

// The server puts this response's CSP nonce here; Mantine stamps it on the <style> elements it adds.
const styleNonce = document.querySelector<HTMLMetaElement>('meta[name="garrison-style-nonce"]')?.content ?? '';

// Modals and drawers lock page scrolling with a <style> element (react-remove-scroll); it takes its
// nonce from get-nonce.
setNonce(styleNonce);

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 2_000,
      refetchIntervalInBackground: false,
      refetchOnWindowFocus: true,
      // A refused or missing resource will not change by asking again.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
    },
  },
});

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <MantineProvider
        theme={theme}
        cssVariablesResolver={readableColors}
        defaultColorScheme="auto"
        getStyleNonce={() => styleNonce}
      >
        <ModalsProvider>
          <Notifications position="bottom-right" autoClose={4000} />
          <QueryClientProvider client={queryClient}>
            <SettingsProvider>
              <BrowserRouter basename="/admin">
                <AuthProvider>
                  <App />
                </AuthProvider>
              </BrowserRouter>
            </SettingsProvider>
          </QueryClientProvider>
        </ModalsProvider>
      </MantineProvider>
    </StrictMode>,
  );
}
