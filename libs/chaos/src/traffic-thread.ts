import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { KnownOrder, Second, Traffic, TrafficOptions } from './traffic';

/** What the traffic thread hands back when it has stopped. */
export interface TrafficOutcome {
  orders: Map<string, KnownOrder>;
  seconds: Second[];
  violations: string[];
  counts: Traffic['counts'];
}

export type ToTraffic =
  | { kind: 'start'; options: Omit<TrafficOptions, 'gateways'>; gateways: string[] }
  | { kind: 'gateways'; gateways: string[] }
  | { kind: 'stop' };

export type FromTraffic =
  { kind: 'started'; priority: number | string } | ({ kind: 'stopped' } & TrafficOutcome);

/**
 * The load generator on a thread of its own, at a higher scheduling priority where the machine
 * allows it. On the main thread it shared an event loop with the fault injector and the process
 * watchers, and on a saturated 2-core machine it started 7 flows a second of the 20 asked for: a
 * starved generator measures itself, not the system.
 */
export class TrafficThread {
  private readonly worker: Worker;
  private lastGateways = '';
  private readonly watcher: NodeJS.Timeout;
  private readonly outcome: Promise<TrafficOutcome>;
  /** Resolves with the thread's scheduling priority (a nice value), or why it kept the default. */
  readonly started: Promise<number | string>;

  constructor(options: TrafficOptions) {
    // The thread runs the TypeScript source, as this process does: `--import tsx` does not reach
    // a worker's loader on Node 20, so the thread registers tsx itself.
    const entry = JSON.stringify(resolve(__dirname, 'traffic-worker.ts'));
    this.worker = new Worker(`require('tsx/cjs');\nrequire(${entry});`, { eval: true });
    const failed = new Promise<never>((_, reject) => {
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the traffic thread exited with ${code}`)));
    });
    this.started = Promise.race([this.next('started').then((m) => m.priority), failed]);
    this.outcome = Promise.race([this.next('stopped'), failed]);
    const { gateways, ...rest } = options;
    this.post({ kind: 'start', options: rest, gateways: gateways() });
    // Gateways come and go with the faults; the thread always has the current list.
    this.watcher = setInterval(() => this.sendGateways(gateways()), 250);
  }

  /** Stops starting flows; resolves with what the traffic learned once the flows under way ended. */
  async stop(): Promise<TrafficOutcome> {
    clearInterval(this.watcher);
    this.post({ kind: 'stop' });
    try {
      return await this.outcome;
    } finally {
      await this.worker.terminate();
    }
  }

  private sendGateways(gateways: string[]): void {
    const key = gateways.join(' ');
    if (key === this.lastGateways) return;
    this.lastGateways = key;
    this.post({ kind: 'gateways', gateways });
  }

  private post(message: ToTraffic): void {
    this.worker.postMessage(message);
  }

  private next<K extends FromTraffic['kind']>(kind: K): Promise<Extract<FromTraffic, { kind: K }>> {
    return new Promise((resolveMessage) => {
      const listener = (message: FromTraffic) => {
        if (message.kind !== kind) return;
        this.worker.off('message', listener);
        resolveMessage(message as Extract<FromTraffic, { kind: K }>);
      };
      this.worker.on('message', listener);
    });
  }
}
