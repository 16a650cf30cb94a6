import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The dashboard: built into dist/web and served by `warden serve`.
export default defineConfig({
  root: 'src/web',
  base: '/',
  plugins: [preact()],
  build: { outDir: '../../dist/web', emptyOutDir: true, chunkSizeWarningLimit: 400 },
  logLevel: 'warn',
});
