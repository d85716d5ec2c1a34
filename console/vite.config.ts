import { defineConfig } from 'vitest/config';
import preact from '@preact/preset-vite';
import { serviceWorker } from './sw-plugin.ts';

// The build is committed and embedded in the binary, so it must be byte-for-byte reproducible:
// content-hashed names only, no source maps, nothing inlined into index.html (the CSP allows
// only 'self' scripts and styles).
export default defineConfig({
  base: '/',
  plugins: [preact(), serviceWorker('src/sw/sw.js')],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    cssCodeSplit: true,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': process.env.ADAL_URL ?? 'http://127.0.0.1:18080',
      '/health': process.env.ADAL_URL ?? 'http://127.0.0.1:18080',
    },
  },
  preview: {
    proxy: {
      '/api': process.env.ADAL_URL ?? 'http://127.0.0.1:18080',
      '/health': process.env.ADAL_URL ?? 'http://127.0.0.1:18080',
    },
  },
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
  },
});
