// Starts the six built services as child processes and waits until each has registered.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '..');
/**
 * V8 flags of every service process, wherever it runs (here, the tests' and the bench's
 * libs/testing, the Dockerfile, the Nomad job; deploy/test/node-flags.test.ts keeps them equal).
 * A young generation of 32 MB semi-spaces instead of 16: with 64 requests in flight, each scavenge
 * copies what they hold, and half as many scavenges cost the gateway and order a third less GC time
 * per get-order and the services a fifth less per create-order (README: Node flags).
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=32'];
/** Start order: each finds the services it calls already registered. */
export const SERVICE_ORDER = ['menu', 'stock', 'order', 'payment', 'kitchen', 'gateway'];

export function startServiceProcess(name, { env = {}, logDir = resolve(ROOT, '.stack/logs/services') } = {}) {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(resolve(logDir, `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, resolve(ROOT, `dist/apps/${name}/main.js`)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((done) => child.once('exit', (code) => done(code)));
  const started = new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`${name} did not start within 30 s (log: .stack/logs/services/${name}.log)`)),
      30_000,
    );
    exited.then((code) =>
      fail(new Error(`${name} exited with ${code} (log: .stack/logs/services/${name}.log)`)),
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      log.write(`${line}\n`);
      if (line.includes(`"${name} started"`)) {
        clearTimeout(timer);
        done(JSON.parse(line).port);
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      log.write(`${line}\n`);
      process.stderr.write(`[${name}] ${line}\n`);
    });
  });
  return { name, child, started, exited };
}
