import {
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  CircuitState,
  ExponentialBackoff,
  handleWhen,
  retry,
  wrap,
  type IPolicy,
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
 * bulkhead → retry (transient errors of idempotent methods only, exponential backoff with jitter)
 * → circuit breaker. The deadline (total budget) is carried by the gRPC call itself, so every
 * attempt shares it and a retry never outlives the caller.
 */
export function createTargetPolicy(options: TargetPolicyOptions): TargetPolicy {
  const breaker = circuitBreaker(handleWhen(countsAgainstBreaker), {
    halfOpenAfter: options.breakerHalfOpenMs,
    breaker: new ConsecutiveBreaker(options.breakerFailures),
  });
  breaker.onStateChange((state) => options.onBreakerStateChange?.(STATE_NAMES[state]));
  const limiter = bulkhead(options.bulkheadLimit, options.bulkheadQueue);
  const retries = retry(handleWhen(isTransient), {
    maxAttempts: options.retryAttempts,
    backoff: new ExponentialBackoff({ initialDelay: 25, maxDelay: 500 }),
  });
  const idempotentPolicy: IPolicy = wrap(limiter, retries, breaker);
  const onceOnlyPolicy: IPolicy = wrap(limiter, breaker);
  return {
    execute: (attempt, { idempotent }) =>
      (idempotent ? idempotentPolicy : onceOnlyPolicy).execute(({ signal }) => attempt(signal)),
    breakerState: () => STATE_NAMES[breaker.state],
    halfOpenAfterMs: options.breakerHalfOpenMs,
  };
}
