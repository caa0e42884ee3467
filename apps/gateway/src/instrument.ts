import { startTelemetry } from '@oms/telemetry';

/** Imported first by main.ts: instrumentation must patch http, grpc-js, mongodb and pino before they load. */
export const telemetry = startTelemetry('gateway');
