export interface DueTimerOptions {
  /** The shortest sleep between rounds, even when more work is due at once. */
  minMs: number;
  /** The longest sleep: the safety net when no wake-up announces work. */
  maxMs: number;
  /** A round that throws is reported here and the next one runs after `minMs`. */
  onError: (error: unknown) => void;
}

/**
 * A background round that sleeps until its next work is due: each round answers how long to
 * sleep (kept between `minMs` and `maxMs`), and `dueBy` wakes it earlier when work arrives that
 * is due sooner. Rounds never overlap, and `stop` waits for the one under way.
 */
export class DueTimer {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;
  /** When the sleeping timer wakes next. */
  private wakeAt = Infinity;
  /** The earliest due time announced while a round ran (the round may have looked before it). */
  private dueDuringRound = Infinity;

  constructor(
    private readonly round: () => Promise<number>,
    private readonly options: DueTimerOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.sleep(this.options.minMs);
  }

  /** Work due at `at` arrived: wake by then if sleeping longer. */
  dueBy(at: Date): void {
    if (this.running) {
      this.dueDuringRound = Math.min(this.dueDuringRound, at.getTime());
      return;
    }
    if (this.stopped || at.getTime() >= this.wakeAt) return;
    clearTimeout(this.timer);
    this.sleep(at.getTime() - Date.now());
  }

  /** Work is due now: run a round as soon as `minMs` allows. */
  wake(): void {
    this.dueBy(new Date());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private sleep(requestedMs: number): void {
    if (this.stopped) return;
    const { minMs, maxMs } = this.options;
    const ms = Math.max(minMs, Math.min(maxMs, requestedMs, this.dueDuringRound - Date.now()));
    this.dueDuringRound = Infinity;
    this.wakeAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.wakeAt = Infinity;
      this.running = this.round()
        .catch((error: unknown) => {
          this.options.onError(error);
          return minMs;
        })
        .then((next) => {
          this.running = undefined;
          this.sleep(next);
        });
    }, ms);
  }
}
