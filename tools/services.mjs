// Starts the six built services as child processes and waits until each has registered.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '..');
/** Start order: each finds the services it calls already registered. */
export const SERVICE_ORDER = ['menu', 'stock', 'order', 'payment', 'kitchen', 'gateway'];

export function startServiceProcess(name, { env = {}, logDir = resolve(ROOT, '.stack/logs/services') } = {}) {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(resolve(logDir, `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, [resolve(ROOT, `dist/apps/${name}/main.js`)], {
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
