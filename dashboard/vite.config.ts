/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by Garrison under /admin; `npm run dev` proxies the API to a local server.
export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 500,
    rollupOptions: {
      output: {
        // Each page is its own chunk (React.lazy in App.tsx); Rollup already keeps the chart code (Recharts,
        // d3, Mantine's charts) in one chunk of its own, fetched with the first page that draws a chart.
        // A manualChunks rule for it does worse: it drags the Mantine components the charts use into
        // that chunk, and the entry then imports it. Pages share many small pieces of Mantine; fewer,
        // larger chunks mean fewer requests.
        experimentalMinChunkSize: 10_000,
      },
    },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    css: false,
    restoreMocks: true,
  },
});
