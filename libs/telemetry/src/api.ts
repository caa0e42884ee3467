/**
 * The part of @oms/telemetry that needs only @opentelemetry/api, as `@oms/telemetry/api`: what
 * libraries import, so that loading them never loads the SDK (this package's index does, for
 * startTelemetry: seconds of start-up that a library's users should not pay for).
 */
export {
  captureTraceContext,
  currentTraceparent,
  extractTraceContext,
  injectTraceContext,
  traceIdFromTraceparent,
  withCapturedTraceContext,
  type TraceCarrier,
} from './trace-context';
export { setOrderId, ORDER_ID_ATTRIBUTE } from './attributes';
