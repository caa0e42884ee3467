export { startTelemetry, processIdentity, type ProcessIdentity, type Telemetry } from './start-telemetry';
export { setOrderId, ORDER_ID_ATTRIBUTE } from './attributes';
