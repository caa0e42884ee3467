import { startTelemetry } from '@oms/telemetry';

/** Imported first by main.ts: instrumentation must patch libraries before they load. */
export const telemetry = startTelemetry('stock');
