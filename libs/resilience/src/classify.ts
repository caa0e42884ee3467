import { status } from '@grpc/grpc-js';

function codeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Worth another attempt: the request never reached a healthy server. */
export function isTransient(error: unknown): boolean {
  return codeOf(error) === status.UNAVAILABLE;
}

/**
 * A sign the target is unhealthy. Business answers (not found, invalid, out of stock, ...) are
 * the target working correctly and never open the breaker.
 */
export function countsAgainstBreaker(error: unknown): boolean {
  const code = codeOf(error);
  return (
    code === status.UNAVAILABLE ||
    code === status.DEADLINE_EXCEEDED ||
    code === status.INTERNAL ||
    code === status.UNKNOWN ||
    code === status.DATA_LOSS
  );
}
