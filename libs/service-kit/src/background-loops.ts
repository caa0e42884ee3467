import type { Logger } from '@oms/logging';
import { DueTimer } from '@oms/resilience';

/**
 * How a loop paces itself: every `n` ms, or between `minMs` and `maxMs` as each round asks (a
 * round that finds nothing to do can sleep long, and `dueBy` wakes it when work arrives).
 */
export type LoopTiming = number | { minMs: number; maxMs: number };

/**
 * One round of a loop: resolves to how long to sleep before the next, or nothing for `minMs`. A
 * long round should end early once `stopping` aborts (shutdown waits for it).
 */
export type LoopRound = (stopping: AbortSignal) => Promise<number | void>;

/** A running background loop. */
export interface BackgroundLoop {
  /** Work due at `at` arrived: run a round by then if the loop would sleep longer. */
  dueBy(at: Date): void;
  /** Work is due now: run a round as soon as the loop's shortest sleep allows. */
  wake(): void;
}

/**
 * The service's background loops. Rounds of one loop never overlap, a failed round is logged
 * under the loop's name and retried, and shutdown stops every loop and waits for its round.
 */
export class BackgroundLoops {
  private readonly timers = new Map<string, DueTimer>();
  private readonly stopping = new AbortController();

  constructor(private readonly logger: Logger) {}

  every(name: string, timing: LoopTiming, round: LoopRound): BackgroundLoop {
    if (this.stopping.signal.aborted) throw new Error(`background loop "${name}" started during shutdown`);
    if (this.timers.has(name)) throw new Error(`background loop "${name}" already runs`);
    const { minMs, maxMs } = typeof timing === 'number' ? { minMs: timing, maxMs: timing } : timing;
    const timer = new DueTimer(async () => (await round(this.stopping.signal)) ?? minMs, {
      minMs,
      maxMs,
      onError: (error) => this.logger.warn({ err: error, loop: name }, `${name} failed; retrying`),
    });
    this.timers.set(name, timer);
    timer.start();
    return timer;
  }

  /** Stops every loop and waits for the rounds under way. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([...this.timers.values()].map((timer) => timer.stop()));
  }
}
