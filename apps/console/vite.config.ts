import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  // The ingest API serves the build at /console (client-side routes included).
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The Content-Security-Policy allows no inline script or style, so nothing may be inlined.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
  server: {
    proxy: { '/admin': 'http://127.0.0.1:8080' },
  },
});
