import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';

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

export function processIdentity(): ProcessIdentity {
  if (!identity) throw new Error('startTelemetry() must run before anything else');
  return identity;
}

/** Paths that would only add noise to traces (probes, scrapes, health checks). */
const UNTRACED_HTTP = /^\/(healthz|readyz|metrics)(\?|$)/;
const UNTRACED_RPC = ['grpc.health.v1.Health', 'grpc.reflection'];

/**
 * Starts OpenTelemetry. Must run before grpc-js, http, mongodb, amqplib or pino are first
 * required: the instrumentations patch those modules as they load.
 */
export function startTelemetry(service: string, env: NodeJS.ProcessEnv = process.env): Telemetry {
  identity = {
    service,
    instance: `${service}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
  };
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: service,
      'service.instance.id': identity.instance,
    }),
    spanProcessors: [
      new BatchSpanProcessor(
        new OTLPTraceExporter({ url: env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4317' }),
        { scheduledDelayMillis: 500 },
      ),
    ],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_HTTP.test(request.url ?? ''),
        // Outgoing HTTP is traced only inside a trace (Consul polling would flood Jaeger otherwise).
        requireParentforOutgoingSpans: true,
      }),
      new GrpcInstrumentation({
        ignoreGrpcMethods: [(name: string) => UNTRACED_RPC.some((p) => name.includes(p))],
      }),
      new PinoInstrumentation(),
      new MongoDBInstrumentation({ requireParentSpan: true }),
      // RabbitMQ spans come from @oms/messaging, which follows the messaging conventions itself.
    ],
  });
  if (env.OTEL_SDK_DISABLED !== 'true') sdk.start();
  return {
    identity,
    shutdown: () => sdk.shutdown().catch(() => undefined),
  };
}
