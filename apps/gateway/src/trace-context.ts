import { randomBytes } from 'node:crypto';
import { isSpanContextValid, trace } from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);

/**
 * The W3C `traceparent` of the span serving the request (created by the HTTP instrumentation).
 * Requests that are not traced (health probes, or telemetry disabled) still get a well-formed,
 * unsampled context that keeps the caller's trace id when it sent one.
 */
export function currentTraceparent(incoming: string | undefined): string {
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span)) {
    return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  }
  const match = incoming ? TRACEPARENT.exec(incoming.trim().toLowerCase()) : null;
  const traceId = match && match[1] !== ZERO_TRACE ? match[1]! : randomBytes(16).toString('hex');
  return `00-${traceId}-${randomBytes(8).toString('hex')}-00`;
}
