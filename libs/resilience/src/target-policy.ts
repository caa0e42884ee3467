import {
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  CircuitState,
  ExponentialBackoff,
  handleWhen,
  retry,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
  type RetryPolicy,
} from 'cockatiel';
import { countsAgainstBreaker, isDeadlineExceeded, isTransient } from './classify';

export type BreakerStateName = 'closed' | 'open' | 'half_open' | 'isolated';

export interface TargetPolicyOptions {
  retryAttempts: number;
  breakerFailures: number;
  breakerHalfOpenMs: number;
  bulkheadLimit: number;
  bulkheadQueue: number;
  onBreakerStateChange?: (state: BreakerStateName) => void;
  /** How long a target that answered counts as up (ANSWERED_RECENTLY_MS by default). */
  answeredRecentlyMs?: number;
  /** The clock, in ms (tests). */
  now?: () => number;
}

/**
 * A target that answered a call this recently is up: its calls that run out of time meanwhile
 * waited in its queue, which is overload, and the admission limits deal with overload. They do not
 * count towards opening the breaker, which is for a target that is away. One that answers nothing
 * (a hung process) does open it once this long has passed without an answer.
 */
export const ANSWERED_RECENTLY_MS = 10_000;

/** The composed call policy of one target service; shared by every call to it. */
export interface TargetPolicy {
  /**
   * Runs `attempt` under the policy. Attempts get no cancellation signal: none of these policies
   * aborts one (the deadline travels with the gRPC call itself, and a retry waits between attempts),
   * and a signal of its own for every call cost an AbortController and an abort listener per call.
   */
  execute<T>(attempt: () => Promise<T>, options: { idempotent: boolean }): Promise<T>;
  breakerState(): BreakerStateName;
  /** How long an open breaker stays open: the gateway's `retry-after`. */
  readonly halfOpenAfterMs: number;
}

const STATE_NAMES: Record<CircuitState, BreakerStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

/** What `retryAndBreaker` builds its two policies from. */
export interface RetryAndBreakerOptions extends Pick<
  TargetPolicyOptions,
  'retryAttempts' | 'breakerFailures' | 'breakerHalfOpenMs'
> {
  /** Failures another attempt may cure. */
  retryWhen: (error: Error) => boolean;
  /** Failures that count towards opening the breaker. */
  breakWhen: (error: Error) => boolean;
  /** The first and the longest pause between attempts; exponential with jitter in between. */
  backoffMs: { initial: number; max: number };
}

/**
 * A retry with exponential backoff, and a breaker that opens after consecutive failures. Wrapped
 * retries outside (`wrap(retries, breaker)`), every attempt counts towards the breaker, and an open
 * breaker fails the attempts left at once.
 */
export function retryAndBreaker(options: RetryAndBreakerOptions): {
  retries: RetryPolicy;
  breaker: CircuitBreakerPolicy;
} {
  return {
    retries: retry(handleWhen(options.retryWhen), {
      maxAttempts: options.retryAttempts,
      backoff: new ExponentialBackoff({
        initialDelay: options.backoffMs.initial,
        maxDelay: options.backoffMs.max,
      }),
    }),
    breaker: circuitBreaker(handleWhen(options.breakWhen), {
      halfOpenAfter: options.breakerHalfOpenMs,
      breaker: new ConsecutiveBreaker(options.breakerFailures),
    }),
  };
}

/**
 * bulkhead → retry (transient errors of idempotent methods only, exponential backoff with jitter)
 * → circuit breaker. The deadline (total budget) is carried by the gRPC call itself, so every
 * attempt shares it and a retry never outlives the caller.
 */
export function createTargetPolicy(options: TargetPolicyOptions): TargetPolicy {
  const now = options.now ?? (() => performance.now());
  const answeredRecentlyMs = options.answeredRecentlyMs ?? ANSWERED_RECENTLY_MS;
  let answeredAt = Number.NEGATIVE_INFINITY;
  const overloaded = (error: Error) => isDeadlineExceeded(error) && now() - answeredAt < answeredRecentlyMs;
  const { retries, breaker } = retryAndBreaker({
    ...options,
    retryWhen: isTransient,
    breakWhen: (error) => countsAgainstBreaker(error) && !overloaded(error),
    backoffMs: { initial: 25, max: 500 },
  });
  /** Runs one attempt; any answer the target composed, success or not, shows that it is up. */
  const attemptNotingAnswer = async <T>(attempt: () => Promise<T>): Promise<T> => {
    try {
      const result = await attempt();
      answeredAt = now();
      return result;
    } catch (error) {
      if (!countsAgainstBreaker(error)) answeredAt = now();
      throw error;
    }
  };
  breaker.onStateChange((state) => options.onBreakerStateChange?.(STATE_NAMES[state]));
  const limiter = bulkhead(options.bulkheadLimit, options.bulkheadQueue);
  const idempotentPolicy: IPolicy = wrap(limiter, retries, breaker);
  const onceOnlyPolicy: IPolicy = wrap(limiter, breaker);
  return {
    execute: (attempt, { idempotent }) =>
      (idempotent ? idempotentPolicy : onceOnlyPolicy).execute(() => attemptNotingAnswer(attempt)),
    breakerState: () => STATE_NAMES[breaker.state],
    halfOpenAfterMs: options.breakerHalfOpenMs,
  };
}
