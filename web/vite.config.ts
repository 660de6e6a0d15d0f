import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Built with `vite build web` (root = web/). The Pave server serves the
// output folder dist/web at `/`, with an SPA fallback to index.html.
export default defineConfig({
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: {
      '/api': 'http://localhost:7007',
    },
  },
});
