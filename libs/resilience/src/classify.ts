import { status } from '@grpc/grpc-js';

function codeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Worth another attempt: the request never reached a healthy server. */
export function isTransient(error: unknown): boolean {
  return codeOf(error) === status.UNAVAILABLE && !isComposedAnswer(error);
}

/**
 * An error our own server composed (it carries a reason in its trailers): the target is up and
 * answered, even if the answer is "my dependency is unavailable".
 */
function isComposedAnswer(error: unknown): boolean {
  const metadata = (error as { metadata?: { get(key: string): unknown[] } } | null)?.metadata;
  return typeof metadata?.get === 'function' && metadata.get('oms-error-reason').length > 0;
}

/**
 * A sign the target is unhealthy. Business answers (not found, invalid, out of stock, ...) are
 * the target working correctly and never open the breaker.
 */
export function countsAgainstBreaker(error: unknown): boolean {
  if (isComposedAnswer(error)) return false;
  const code = codeOf(error);
  return (
    code === status.UNAVAILABLE ||
    code === status.DEADLINE_EXCEEDED ||
    code === status.INTERNAL ||
    code === status.UNKNOWN ||
    code === status.DATA_LOSS
  );
}

/** The call ran out of time: the target may be away, or only busy. */
export function isDeadlineExceeded(error: unknown): boolean {
  return codeOf(error) === status.DEADLINE_EXCEEDED;
}

/**
 * The call found its target away, too busy, or too slow to answer in time, or the target said its
 * own dependency is away: the same call can succeed later, however often it failed so far.
 * Business answers and bugs (invalid, not found, internal) are not this.
 */
export function meansDependencyAway(error: unknown): boolean {
  const code = codeOf(error);
  return (
    code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED || code === status.RESOURCE_EXHAUSTED
  );
}
