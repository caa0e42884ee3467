export interface AdaptiveLimitOptions {
  /** Concurrent work admitted at start. */
  initial: number;
  min: number;
  max: number;
  /** A call slower than this is a sign of queueing: the limit shrinks. */
  latencyTargetMs: number;
  /** Multiplicative decrease on a slow or dropped call. Default 0.9. */
  backoffRatio?: number;
  now?: () => number;
}

/** How a call ended: `dropped` is an overload signal whatever its latency (a deadline, a rejection below). */
export type CallOutcome = 'ok' | 'dropped';

/** Ends an admitted call; idempotent. */
export type Release = (outcome?: CallOutcome) => void;

/**
 * Admission control by an adaptive concurrency limit (AIMD, as in Netflix's concurrency-limits):
 * the limit grows by one for each call that finishes within the latency target while the limit is
 * in use, and shrinks by `backoffRatio` for each call that does not. Work beyond the limit is
 * refused at once, so it gets a fast "retry later" instead of waiting in a queue until its
 * deadline passes.
 */
export class AdaptiveConcurrencyLimit {
  private current: number;
  private inFlight = 0;
  private refused = 0;
  private readonly now: () => number;

  constructor(private readonly options: AdaptiveLimitOptions) {
    if (options.min < 1 || options.min > options.max) throw new Error('need 1 <= min <= max');
    this.current = Math.min(options.max, Math.max(options.min, options.initial));
    this.now = options.now ?? (() => performance.now());
  }

  /** A release for the admitted call, or undefined when the limit is reached. */
  tryAcquire(): Release | undefined {
    if (this.inFlight >= Math.floor(this.current)) {
      this.refused += 1;
      return undefined;
    }
    this.inFlight += 1;
    const started = this.now();
    let released = false;
    return (outcome = 'ok') => {
      if (released) return;
      released = true;
      const busy = this.inFlight;
      this.inFlight -= 1;
      this.adjust(outcome === 'dropped' || this.now() - started > this.options.latencyTargetMs, busy);
    };
  }

  /** The figures a metric reports. */
  snapshot(): { limit: number; inFlight: number; refused: number } {
    return { limit: Math.floor(this.current), inFlight: this.inFlight, refused: this.refused };
  }

  private adjust(slow: boolean, busy: number): void {
    const { min, max, backoffRatio = 0.9 } = this.options;
    if (slow) this.current = Math.max(min, this.current * backoffRatio);
    // Growing while half the limit sits unused would only raise a ceiling nobody tests.
    else if (busy * 2 >= this.current) this.current = Math.min(max, this.current + 1);
  }
}
