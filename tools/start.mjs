#!/usr/bin/env node
// `npm start`: installs what is missing, brings up the real stack, builds and starts all six
// services, seeds the menu, and prints where everything is. Ctrl-C stops it all cleanly.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { SERVICE_ORDER, startServiceProcess } from './services.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const started = Date.now();
const run = (command, args) => {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!existsSync(resolve(ROOT, 'node_modules/.package-lock.json'))) run('npm', ['ci']);
const stack = await import('./stack/stack.mjs');
// Ctrl-C stops what this run brought up; a stack that was already running stays as it was.
const before = await stack.status({ quiet: true });
const ownStack = !before.components.some((c) => c.name !== 'rabbitmq' && c.status === 'up');
await stack.up();
run('npx', ['nx', 'run-many', '-t', 'build', '--projects', SERVICE_ORDER.join(','), '--output-style=stream']);

const services = [];
let stopping = false;
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping services...');
  for (const service of [...services].reverse()) service.child.kill('SIGTERM');
  await Promise.all(services.map((service) => service.exited));
  if (ownStack) await stack.down();
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  for (const name of SERVICE_ORDER) {
    const service = startServiceProcess(name);
    services.push(service);
    const port = await service.started;
    console.log(`  ${name.padEnd(8)} up on ${port}`);
    service.exited.then((code) => {
      if (!stopping) {
        console.error(`${name} exited unexpectedly (${code}); stopping everything`);
        void stopAll(1);
      }
    });
  }
  execFileSync(process.execPath, ['--import', 'tsx', 'tools/seed.ts'], { cwd: ROOT, stdio: 'inherit' });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  await stopAll(1);
}

const gatewayPort = process.env.GATEWAY_PORT ?? '8080';
// Every URL printed opens something useful in a browser (the console's browser test opens each).
const pages = await stack.webPages({ gatewayUrl: `http://127.0.0.1:${gatewayPort}` });
const lines = pages.map(
  ({ name, url, address, note }) => `  ${name.padEnd(11)} ${(url ?? address).padEnd(38)} ${note}`,
);
console.log(`
The order management system is up (${((Date.now() - started) / 1000).toFixed(1)} s).
${lines.join('\n')}
Service logs: .stack/logs/services/<name>.log — Ctrl-C stops everything.`);
