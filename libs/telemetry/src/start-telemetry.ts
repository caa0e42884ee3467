import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { BatchSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { mongoStatement } from './mongo-statement';

export interface ProcessIdentity {
  service: string;
  /** Unique per process: the Consul service id, the log field `instance`, `service.instance.id`. */
  instance: string;
}

export interface Telemetry {
  identity: ProcessIdentity;
  shutdown(): Promise<void>;
}

let identity: ProcessIdentity | undefined;

/**
 * Drops NaN attributes before export. The MongoDB instrumentation reports FerretDB's port as NaN,
 * and one NaN makes Jaeger's query API fail for every trace that holds the span.
 */
class DropNaNAttributes implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}
  onStart(...args: Parameters<SpanProcessor['onStart']>): void {
    this.next.onStart(...args);
  }
  onEnd(span: ReadableSpan): void {
    const attributes = span.attributes as Record<string, unknown>;
    for (const [key, value] of Object.entries(attributes)) if (Number.isNaN(value)) delete attributes[key];
    this.next.onEnd(span);
  }
  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

export function processIdentity(): ProcessIdentity {
  if (!identity) throw new Error('startTelemetry() must run before anything else');
  return identity;
}

/**
 * Starts OpenTelemetry. Must run before http, mongodb or pino are first
 * required: the instrumentations patch those modules as they load.
 */
export function startTelemetry(service: string, env: NodeJS.ProcessEnv = process.env): Telemetry {
  identity = {
    service,
    instance: `${service}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
  };
  // Not even made when disabled: an instrumentation patches its module as it is constructed, and
  // the patches cost (no-op spans, context propagation) whether or not the SDK starts.
  if (env.OTEL_SDK_DISABLED === 'true') return { identity, shutdown: async () => undefined };
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: service,
      'service.instance.id': identity.instance,
    }),
    spanProcessors: [
      new DropNaNAttributes(
        new BatchSpanProcessor(
          new OTLPTraceExporter({ url: env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4317' }),
          {
            scheduledDelayMillis: 500,
          },
        ),
      ),
    ],
    // Traces only. Left to its defaults, the SDK also exports metrics (every instrumented request
    // recorded in histograms) and every log line over OTLP, which Jaeger does not take: metrics are
    // prom-client's job (/metrics), logs go to stdout with the trace id in them.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      // No http instrumentation: the gateway makes its own request spans (apps/gateway
      // request-tracing.ts), the services serve only probes and metrics over HTTP, and their one
      // outgoing call worth a span, to Stripe, makes its own (apps/payment checkout.ts). The
      // instrumentation wrapped every outgoing request, Consul's polling included, to do less.
      // gRPC spans come from @oms/rpc: one SERVER span per call, the caller's context in the
      // metadata (the grpc-js instrumentation made a CLIENT and a SERVER span of every call).
      // Puts trace_id and span_id into every log line; the lines themselves stay on stdout.
      new PinoInstrumentation({ disableLogSending: true }),
      // A span per database command, on request (TRACE_DB_COMMANDS=true): about six per order,
      // they took create-order's tracing cost from 11 % to 19 % of its throughput (bench tracing).
      ...(env.TRACE_DB_COMMANDS === 'true'
        ? [new MongoDBInstrumentation({ requireParentSpan: true, dbStatementSerializer: mongoStatement })]
        : []),
      // RabbitMQ spans come from @oms/messaging, which follows the messaging conventions itself.
    ],
  });
  sdk.start();
  return {
    identity,
    shutdown: () => sdk.shutdown().catch(() => undefined),
  };
}
