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
import { countsAgainstBreaker, isTransient } from './classify';

export type BreakerStateName = 'closed' | 'open' | 'half_open' | 'isolated';

export interface TargetPolicyOptions {
  retryAttempts: number;
  breakerFailures: number;
  breakerHalfOpenMs: number;
  bulkheadLimit: number;
  bulkheadQueue: number;
  onBreakerStateChange?: (state: BreakerStateName) => void;
}

/** The composed call policy of one target service; shared by every call to it. */
export interface TargetPolicy {
  execute<T>(attempt: (signal: AbortSignal) => Promise<T>, options: { idempotent: boolean }): Promise<T>;
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

/**
 * A signal of its own for one execution of a cockatiel policy. Without one, cockatiel hands every
 * execution the same module-wide signal, and each gRPC call (libs/rpc) listens on it for
 * cancellation while it runs: more than ten calls at once printed MaxListenersExceededWarning
 * ("possible memory leak") under load, although every listener is removed again.
 */
export const executionSignal = (): AbortSignal => new AbortController().signal;

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
  const { retries, breaker } = retryAndBreaker({
    ...options,
    retryWhen: isTransient,
    breakWhen: countsAgainstBreaker,
    backoffMs: { initial: 25, max: 500 },
  });
  breaker.onStateChange((state) => options.onBreakerStateChange?.(STATE_NAMES[state]));
  const limiter = bulkhead(options.bulkheadLimit, options.bulkheadQueue);
  const idempotentPolicy: IPolicy = wrap(limiter, retries, breaker);
  const onceOnlyPolicy: IPolicy = wrap(limiter, breaker);
  return {
    execute: (attempt, { idempotent }) =>
      (idempotent ? idempotentPolicy : onceOnlyPolicy).execute(
        ({ signal }) => attempt(signal),
        executionSignal(),
      ),
    breakerState: () => STATE_NAMES[breaker.state],
    halfOpenAfterMs: options.breakerHalfOpenMs,
  };
}
