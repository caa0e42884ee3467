import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const GATEWAY = process.env.GATEWAY_URL ?? `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 8080}`;

/**
 * The console is served by the gateway under /console (dist/apps/console, beside the gateway's
 * bundle). Everything is bundled: no CDN, no font or script from elsewhere.
 * `npx nx serve console` runs Vite's dev server with the API proxied to a running gateway.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: resolve(import.meta.dirname, '../../dist/apps/console'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Small enough to inline nothing: the page's CSP allows scripts and styles from its origin only.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
  server: {
    port: 5173,
    proxy: { '/console/api': GATEWAY, '/v1': GATEWAY },
  },
});
