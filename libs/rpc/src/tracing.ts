import { Metadata, status } from '@grpc/grpc-js';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

/**
 * One span per call, on the server, after OpenTelemetry's RPC conventions; the caller only puts its
 * trace context into the call's metadata. The grpc-js auto-instrumentation made a CLIENT span and
 * a SERVER span of every call, and wrapped every client method and server handler to do it: about
 * a third of what tracing cost a get-order (bench tracing). The server span, a child of the
 * caller's active span, keeps one trace per request and says what the call did.
 */

const tracer = trace.getTracer('@oms/rpc');

const metadataSetter: TextMapSetter<Metadata> = {
  set: (metadata, key, value) => metadata.set(key, value),
};

const metadataGetter: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const [value] = metadata.get(key);
    return value === undefined ? undefined : String(value);
  },
};

/** The metadata of an outgoing call: the trace context `from` (the caller's, when the call was made). */
export function outgoingMetadata(from: Context): Metadata {
  const metadata = new Metadata();
  propagation.inject(from, metadata, metadataSetter);
  return metadata;
}

/** Statuses that mean the server failed, not the caller (the RPC conventions' list). */
const SERVER_ERRORS = new Set([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

export interface ServerSpan {
  /** Runs `work` with the span active: its logs, database calls and outgoing calls are its children. */
  run<T>(work: () => T): T;
  end(code: status, error?: unknown): void;
}

/** Starts the SERVER span of a call to `path` (`/package.Service/Method`), child of the caller's context. */
export function startServerSpan(path: string, metadata: Metadata): ServerSpan {
  const [, service = '', method = ''] = path.split('/');
  const parent = propagation.extract(context.active(), metadata, metadataGetter);
  const span: Span = tracer.startSpan(
    `grpc.${service}/${method}`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method },
    },
    parent,
  );
  const active = trace.setSpan(parent, span);
  return {
    run: (work) => context.with(active, work),
    end(code, error) {
      span.setAttribute('rpc.grpc.status_code', code);
      if (SERVER_ERRORS.has(code)) {
        if (error !== undefined) span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: status[code] });
      }
      span.end();
    },
  };
}
