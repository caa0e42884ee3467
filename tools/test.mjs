#!/usr/bin/env node
// `npm test`: the whole suite against the real stack — contracts fresh, lint, format and types
// clean, then every project's tests (unit, integration and system) through Nx.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
const steps = [
  ['contracts are generated from proto/', 'node', ['tools/proto/generate.mjs', '--check']],
  ['format', 'npx', ['prettier', '--check', '.']],
  ['lint', 'npx', ['nx', 'run-many', '-t', 'lint', '--output-style=stream', '--parallel=2']],
  // Every .ts file, tests and tools included: tests run through tsx, which checks no types.
  ['types', 'npx', ['tsc', '-p', 'tsconfig.json']],
  ['tests', 'npx', ['nx', 'run-many', '-t', 'test', '--output-style=stream', '--parallel=1']],
];

/** Runs a command, echoing its output line by line to `onLine` as well as to the terminal. */
function run(command, args, onLine) {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ]) {
      createInterface({ input: stream }).on('line', (line) => {
        out.write(`${line}\n`);
        onLine(line);
      });
    }
    child.on('close', (code) => resolveRun(code ?? 1));
  });
}

const stack = await import('./stack/stack.mjs');
// Leave a stack that was already running (e.g. by `npm start`) as it was; stop only our own.
const before = await stack.status({ quiet: true });
const ownStack = !before.components.some((c) => c.name !== 'rabbitmq' && c.status === 'up');
await stack.up();
const results = [];
let testsPassed = 0;
let testsFailed = 0;
// Failed tests with the first lines of their error, repeated in the summary so that its last
// lines say what failed and why.
const failures = new Map();
const FAILURE_DETAIL_LINES = 8;
let failing; // the failure whose error lines are being collected
const ANSI_COLOR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
for (const [title, command, args] of steps) {
  console.log(`\n=== ${title}: ${command} ${args.join(' ')}`);
  const status = await run(command, args, (line) => {
    // Node's test runner closes each project with `ℹ pass N` / `ℹ fail N`: add them up.
    const plain = line.replace(ANSI_COLOR, '').trim();
    const count = /ℹ (pass|fail) (\d+)$/.exec(plain);
    if (count?.[1] === 'pass') testsPassed += Number(count[2]);
    if (count?.[1] === 'fail') testsFailed += Number(count[2]);
    if (plain.includes('✖ ') && !plain.includes('✖ failing tests')) {
      failing = plain.slice(0, 200);
      if (!failures.has(failing)) failures.set(failing, []);
    } else if (failing && /[✔ℹ▶]/.test(plain)) failing = undefined;
    else if (failing && plain.includes(' ') && failures.get(failing).length < FAILURE_DETAIL_LINES)
      failures.get(failing).push(plain.slice(0, 200));
  });
  results.push({ title, ok: status === 0 });
  if (status !== 0) break;
}
if (ownStack && !process.env.OMS_KEEP_STACK) await stack.down();
const failed = results.filter((r) => !r.ok);
console.log(`\n${results.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.title}`).join('\n')}`);
if (failures.size > 0) {
  console.log('failed:');
  for (const [failure, detail] of [...failures].slice(0, 20))
    console.log([failure, ...detail.map((l) => `    ${l}`)].join('\n'));
}
console.log(`tests: ${testsPassed} passed, ${testsFailed} failed`);
process.exit(failed.length === 0 ? 0 : 1);
