import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Paths never written to logs, whatever a caller passes in. */
const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["stripe-signature"]',
  'headers["stripe-signature"]',
  '*.token',
  '*.secret',
  '*.password',
  '*.card',
  'card',
];

/**
 * JSON logs with `service` and `instance` on every line. Inside a span, the OpenTelemetry pino
 * instrumentation adds `trace_id` and `span_id`.
 */
export function createLogger(options: {
  service: string;
  instance: string;
  level?: string;
  /** Defaults to stdout. */
  destination?: NodeJS.WritableStream;
}): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: { service: options.service, instance: options.instance },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
