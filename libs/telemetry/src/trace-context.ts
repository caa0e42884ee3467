import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

/**
 * W3C trace context (`traceparent`, `tracestate`) into and out of carriers: message headers,
 * documents that hold an event until it is published, HTTP answers. Injection and extraction go
 * through the globally registered propagator (the SDK registers W3C's); with none registered they
 * carry nothing, and work runs untraced.
 */

/** Trace context as plain strings, e.g. stored beside an event that is published later. */
export type TraceCarrier = Record<string, string>;

/** Writes the trace context of `ctx` (the active one by default) into `carrier`, and returns it. */
export function injectTraceContext<C>(
  carrier: C,
  ctx: Context = context.active(),
  setter: TextMapSetter<C> = defaultTextMapSetter,
): C {
  propagation.inject(ctx, carrier, setter);
  return carrier;
}

/** The context `carrier` continues (its span as the remote parent); the root context if none. */
export function extractTraceContext<C>(carrier: C, getter: TextMapGetter<C> = defaultTextMapGetter): Context {
  return propagation.extract(ROOT_CONTEXT, carrier, getter);
}

/** The active trace context as plain strings, to continue it later (withCapturedTraceContext). */
export function captureTraceContext(): TraceCarrier {
  return injectTraceContext<TraceCarrier>({});
}

/** Runs `work` in the trace context captured by captureTraceContext(); as it is without one. */
export function withCapturedTraceContext<R>(carrier: TraceCarrier | undefined, work: () => R): R {
  if (!carrier || Object.keys(carrier).length === 0) return work();
  return context.with(extractTraceContext(carrier), work);
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);

/**
 * The trace id of a W3C `traceparent` value, read straight from it (so it works without a
 * registered propagator); '' when it is not a valid one. Later versions may append fields.
 */
export function traceIdFromTraceparent(traceparent: string | undefined): string {
  const match = traceparent ? TRACEPARENT.exec(traceparent.trim().toLowerCase()) : null;
  if (!match || match[1] === 'ff' || match[2] === ZERO_TRACE) return '';
  if (match[1] === '00' && match[5] !== undefined) return '';
  return match[2]!;
}

/**
 * The W3C `traceparent` of the active span (on a server, the one its instrumentation created for
 * the request). Without one (untraced requests such as health probes, or telemetry disabled) a
 * well-formed, unsampled value that keeps the trace id of `incoming` (the caller's traceparent)
 * when it has a valid one.
 */
export function currentTraceparent(incoming?: string): string {
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span)) {
    return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  }
  const traceId = traceIdFromTraceparent(incoming) || randomHexId(16);
  return `00-${traceId}-${randomHexId(8)}-00`;
}

/**
 * A random id of `bytes` bytes in hex, made as the SDK's RandomIdGenerator makes its spans' (this
 * module must not load the SDK: see api.ts): Math.random, not the CSPRNG, since a trace id must be
 * unique, not secret. randomBytes cost 8 µs a call on these VMs and about 30 under load; the
 * gateway made two for every answer with tracing off, 6 % of its CPU per get-order.
 */
function randomHexId(bytes: 8 | 16): string {
  let id = '';
  for (let i = 0; i < bytes / 4; i++) id += ((Math.random() * 2 ** 32) >>> 0).toString(16).padStart(8, '0');
  // All zeros is W3C's invalid id.
  return /^0+$/.test(id) ? `${id.slice(0, -1)}1` : id;
}
