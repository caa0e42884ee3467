#!/usr/bin/env node
// Runs every *.test.ts / *.test.mjs under a project folder with Node's test runner (TypeScript via tsx).
// usage: run-tests.mjs <projectRoot> [--concurrency=N]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [projectRoot, ...flags] = process.argv.slice(2);
if (!projectRoot) throw new Error('usage: run-tests.mjs <projectRoot>');
const root = resolve(import.meta.dirname, '../..');

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name === 'dist') return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findTests(path);
    return /\.test\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

const files = findTests(resolve(root, projectRoot)).sort();
if (files.length === 0) {
  console.error(`no test files under ${projectRoot}`);
  process.exit(1);
}
const concurrency = flags.find((f) => f.startsWith('--concurrency='))?.split('=')[1] ?? '1';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status ?? 1);
