import { Type, type Static } from '@sinclair/typebox';

const port = (fallback: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: fallback, description });
const url = (schemes: string, fallback: string) =>
  Type.String({ pattern: `^(${schemes})://[^\\s]+$`, default: fallback, description: `a ${schemes} URL` });

/** Call policy for every outgoing gRPC call (see @oms/resilience). */
export const ResilienceConfig = Type.Object({
  RPC_TIMEOUT_MS: Type.Integer({ minimum: 10, maximum: 120_000, default: 2000 }),
  RPC_RETRY_ATTEMPTS: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
  RPC_BREAKER_FAILURES: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
  RPC_BREAKER_HALF_OPEN_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 5000 }),
  RPC_BULKHEAD_LIMIT: Type.Integer({ minimum: 1, maximum: 10_000, default: 128 }),
  RPC_BULKHEAD_QUEUE: Type.Integer({ minimum: 0, maximum: 100_000, default: 512 }),
});

/**
 * Admission control of every gRPC method and of the gateway (see @oms/resilience
 * AdaptiveConcurrencyLimit): concurrent work shrinks when calls take longer than the target, and
 * work beyond the limit is refused at once with "retry later".
 */
export const AdmissionConfig = Type.Object({
  // Half the longest budget a caller gives (CreateOrder's 10 s): work that cannot finish in it is
  // refused early rather than abandoned at its deadline.
  ADMISSION_LATENCY_TARGET_MS: Type.Integer({ minimum: 1, maximum: 120_000, default: 5000 }),
  ADMISSION_MAX_CONCURRENCY: Type.Integer({ minimum: 4, maximum: 100_000, default: 256 }),
});

/** What every service reads, whatever it does. */
export const BaseServiceConfig = Type.Composite([
  Type.Object({
    NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
      default: 'development',
    }),
    OMS_ENV: Type.String({
      pattern: '^[a-z0-9][a-z0-9_-]{0,31}$',
      default: 'local',
      description: 'deployment name: Consul tag and database suffix',
    }),
    LOG_LEVEL: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
      { default: 'info' },
    ),
    CONSUL_URL: url('http|https', 'http://127.0.0.1:8500'),
    MONGO_URL: url('mongodb|mongodb\\+srv', 'mongodb://127.0.0.1:27017'),
    AMQP_URL: url('amqp|amqps', 'amqp://guest:guest@127.0.0.1:5672'),
    OTEL_EXPORTER_OTLP_ENDPOINT: url('http|https', 'http://127.0.0.1:4317'),
    GRPC_HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
    ADVERTISE_HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
    METRICS_PORT: port(0, 'Prometheus /metrics port (0: any free port)'),
    INBOX_RETENTION_HOURS: Type.Integer({
      minimum: 1,
      maximum: 24 * 365,
      default: 24 * 7,
      description: 'how long an applied event is remembered: longer than any redelivery or replay',
    }),
    SHUTDOWN_DRAIN_MS: Type.Integer({ minimum: 0, maximum: 120_000, default: 10_000 }),
    SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, maximum: 30_000, default: 300 }),
  }),
  ResilienceConfig,
  AdmissionConfig,
]);

export type BaseServiceConfigType = Static<typeof BaseServiceConfig>;
