// The clients of the sustained-overload scenario, on a thread of their own at a raised priority.
// On the main thread they shared an event loop with the CPU meter and the services' log pipes,
// and at 300 clients that loop lagged 80-230 ms at p99: every latency they measured included it.
// A real client is not on the machine it loads; a thread that gets the CPU first is the nearest
// this machine has.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SustainedPhase } from './sustained';
import { percentile, sleep } from '../stats';

export interface DriveSettings {
  url: string;
  body: string;
  connections: number;
  durationS: number;
}

/** What the clients measured; CPU and rates are the main thread's to add. */
export type DrivenPhase = Omit<SustainedPhase, 'cpuMsPerCreated' | 'createdPerSecond' | 'generatorPriority'>;

/** Runs `drive` on a new thread (sustained-worker.ts) and resolves with what it measured. */
export async function driveOnGeneratorThread(
  settings: DriveSettings,
): Promise<DrivenPhase & { generatorPriority: number | string }> {
  // The thread runs the TypeScript source, as this process does: `--import tsx` does not reach a
  // worker's loader on Node 20, so the thread registers tsx itself.
  const entry = JSON.stringify(resolve(__dirname, 'sustained-worker.ts'));
  const worker = new Worker(`require('tsx/cjs');\nrequire(${entry});`, {
    eval: true,
    workerData: settings,
  });
  try {
    return await new Promise((resolveResult, reject) => {
      worker.once('message', resolveResult);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the generator thread exited with ${code}`)));
    });
  } finally {
    await worker.terminate();
  }
}

/** One create, its body read to the end; the answer's status and headers, and its body. */
export async function postCreate(url: string, body: string): Promise<{ response: Response; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return { response, text: await response.text() };
}

function errorMessage(text: string): string {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? message : 'no error message';
  } catch {
    return 'not JSON';
  }
}

/**
 * When clients arrive (spread over this, not in one instant) and how far past `retry-after` a
 * refused client waits (a random share of it up to this). Clients that all come in the same
 * millisecond, and after a refusal all come back in the same millisecond, meet one burst of
 * `connections` requests a second: its tail is the time this thread takes to send and read
 * hundreds of requests at once (a bare handler refusing every request answered 300 such clients
 * at p99 189 ms), not the service's. Real clients spread themselves; well-behaved ones add jitter
 * to a retry.
 */
export const ARRIVAL_SPREAD_MS = 500;
export const RETRY_JITTER = 0.5;

/** `connections` clients creating orders for `durationS`, each one request at a time. */
export async function drive({ url, body, connections, durationS }: DriveSettings): Promise<DrivenPhase> {
  const answers: Record<string, number> = {};
  const created: number[] = [];
  const refused: number[] = [];
  const refusedBy: Record<string, number[]> = {};
  let refusalsWithoutRetryAfter = 0;
  const deadline = Date.now() + durationS * 1000;
  const client = async () => {
    await sleep(Math.random() * ARRIVAL_SPREAD_MS);
    while (Date.now() < deadline) {
      const started = performance.now();
      let status = 'error';
      let waitS = 0;
      try {
        const { response, text } = await postCreate(url, body);
        status = String(response.status);
        const ms = performance.now() - started;
        if (response.status === 201) created.push(ms);
        if (response.status === 503 || response.status === 429) {
          refused.push(ms);
          (refusedBy[errorMessage(text)] ??= []).push(ms);
          const retryAfter = Number(response.headers.get('retry-after'));
          if (!(retryAfter > 0)) refusalsWithoutRetryAfter += 1;
          waitS = (retryAfter > 0 ? retryAfter : 1) * (1 + Math.random() * RETRY_JITTER);
        }
      } catch {
        waitS = 1 + Math.random() * RETRY_JITTER;
      }
      answers[status] = (answers[status] ?? 0) + 1;
      if (waitS > 0) await sleep(Math.min(waitS * 1000, Math.max(0, deadline - Date.now())));
    }
  };
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  await Promise.all(Array.from({ length: connections }, client));
  lag.disable();
  return {
    generatorLagP99Ms: lag.percentile(99) / 1e6,
    connections,
    durationS,
    created: created.length,
    answers,
    refusalsWithoutRetryAfter,
    p99CreatedMs: percentile(created, 0.99),
    p99RefusedMs: percentile(refused, 0.99),
    refusalsByMessage: Object.fromEntries(
      Object.entries(refusedBy).map(([message, ms]) => [
        message,
        { count: ms.length, p99Ms: percentile(ms, 0.99) },
      ]),
    ),
  };
}
