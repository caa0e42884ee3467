export {
  createTargetPolicy,
  retryAndBreaker,
  type RetryAndBreakerOptions,
  type TargetPolicy,
  type TargetPolicyOptions,
  type BreakerStateName,
} from './target-policy';
export { isTransient, countsAgainstBreaker, meansDependencyAway } from './classify';
export {
  AdaptiveConcurrencyLimit,
  type AdaptiveLimitOptions,
  type CallOutcome,
  type Release,
} from './adaptive-limit';
export { DueTimer, type DueTimerOptions } from './due-timer';
