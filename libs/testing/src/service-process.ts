import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(__dirname, '../../..');

/** V8 flags of every service process: the same as tools/services.mjs SERVICE_NODE_FLAGS (see there). */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=32'];

export interface StartServiceOptions {
  /** OMS_ENV: isolates Consul discovery and databases per test. */
  deployment: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export interface RunningService {
  name: string;
  port: number;
  /** The instance id it registered in Consul (and its `service.instance.id`). */
  instanceId: string;
  pid: number;
  process: ChildProcess;
  logFile: string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Builds the services' bundles (Nx skips the unchanged ones), for commands a user runs on a fresh
 * checkout (bench, chaos). Test runs get theirs from the targets' dependsOn instead.
 */
export function buildServices(names: readonly string[]): void {
  const result = spawnSync(
    'npx',
    ['nx', 'run-many', '-t', 'build', '--projects', names.join(','), '--output-style=static'],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (result.status !== 0) throw new Error('building the services failed (npx nx run-many -t build)');
}

/**
 * Starts a built service (dist/apps/<name>/main.js) on a free port and resolves once it logged
 * that it started and registered in Consul.
 */
export async function startService(name: string, options: StartServiceOptions): Promise<RunningService> {
  const main = resolve(ROOT, `dist/apps/${name}/main.js`);
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx nx run-many -t build)`);
  const logDir = resolve(ROOT, '.stack/logs/tests');
  mkdirSync(logDir, { recursive: true });
  const logFile = resolve(logDir, `${options.deployment}-${name}-${Date.now()}.log`);
  const log = createWriteStream(logFile);
  // e.g. OMS_SERVICE_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile every service of a
  // bench run (node refuses --cpu-prof in NODE_OPTIONS)
  const nodeFlags = (process.env.OMS_SERVICE_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...nodeFlags, main], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      OMS_ENV: options.deployment,
      GRPC_PORT: '0',
      GATEWAY_PORT: '0',
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  child.stderr!.pipe(log, { end: false });
  const started = new Promise<{ port: number; instance: string }>((resolveStart, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start in time; see ${logFile}`)),
      options.timeoutMs ?? 20_000,
    );
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before starting; see ${logFile}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log.write(`${line}\n`);
      if (!line.includes(`"${name} started"`)) return;
      try {
        const entry = JSON.parse(line) as { port?: number; instance?: string };
        clearTimeout(timer);
        resolveStart({ port: entry.port ?? 0, instance: entry.instance ?? '' });
      } catch {
        // not a log line of ours
      }
    });
  });
  const { port, instance } = await started.catch((error: unknown) => {
    // Not started in time: it must not live on untracked, holding its port and registration.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw error;
  });
  return {
    name,
    port,
    instanceId: instance,
    pid: child.pid!,
    process: child,
    logFile,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
