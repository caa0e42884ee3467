export { startTelemetry, processIdentity, type ProcessIdentity, type Telemetry } from './start-telemetry';
export * from './api';
