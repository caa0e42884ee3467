#!/usr/bin/env node
// `npm test`: the whole suite against the real stack — contracts fresh, lint and format clean,
// then every project's tests (unit, integration and system) through Nx.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
const steps = [
  ['contracts are generated from proto/', 'node', ['tools/proto/generate.mjs', '--check']],
  ['format', 'npx', ['prettier', '--check', '.']],
  ['lint', 'npx', ['nx', 'run-many', '-t', 'lint', '--output-style=stream', '--parallel=2']],
  ['tests', 'npx', ['nx', 'run-many', '-t', 'test', '--output-style=stream', '--parallel=1']],
];

const stack = await import('./stack/stack.mjs');
// Leave a stack that was already running (e.g. by `npm start`) as it was; stop only our own.
const before = await stack.status({ quiet: true });
const ownStack = !before.components.some((c) => c.name !== 'rabbitmq' && c.status === 'up');
await stack.up();
const results = [];
for (const [title, command, args] of steps) {
  console.log(`\n=== ${title}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env });
  results.push({ title, ok: result.status === 0 });
  if (result.status !== 0) break;
}
if (ownStack && !process.env.OMS_KEEP_STACK) await stack.down();
const failed = results.filter((r) => !r.ok);
console.log(`\n${results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.title}`).join('\n')}`);
process.exit(failed.length === 0 ? 0 : 1);
