#!/usr/bin/env node
// Bundles one app into dist/apps/<name>/main.js (dependencies stay in node_modules so that
// OpenTelemetry can instrument them when they are required).
import { build } from 'esbuild';
import { resolve } from 'node:path';

const name = process.argv[2];
if (!name) throw new Error('usage: build-app.mjs <app>');
const root = resolve(import.meta.dirname, '../..');
await build({
  entryPoints: [resolve(root, `apps/${name}/src/main.ts`)],
  outfile: resolve(root, `dist/apps/${name}/main.js`),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: true,
  tsconfig: resolve(root, 'tsconfig.base.json'),
  logLevel: 'warning',
});
console.log(`built dist/apps/${name}/main.js`);
