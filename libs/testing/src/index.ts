export { ensureStack, stackAddresses } from './stack';
export { waitFor } from './wait-for';
export { openTestDatabase } from './test-database';
export {
  buildServices,
  SERVICE_NODE_FLAGS,
  startService,
  type RunningService,
  type StartServiceOptions,
} from './service-process';
export { passingInstances, grpcHealthStatus, jaegerServices, uniqueDeployment } from './probes';
export {
  TestSystem,
  ALL_SERVICES,
  ADMIN_TOKEN,
  deploymentDatabase,
  type SystemServiceName,
  type TestOrder,
} from './system';
export {
  signedCheckoutEvent,
  LOCAL_WEBHOOK_SECRET,
  type CheckoutEventType,
  type WebhookOrder,
} from './stripe-webhook';
export { RabbitNode } from './rabbit-node';
export {
  hostileRequests,
  sampleHostileRequests,
  type HostileRequest,
  type HostileTarget,
} from './hostile-requests';
export {
  checkHostileAnswer,
  describeHostileRequest,
  runHostileRequests,
  HOSTILE_ERROR_CODES,
  type HostileFailure,
  type HostileRunSummary,
} from './hostile-run';
export { sendRawRequest, encodeRawRequest, type RawRequest, type RawAnswer } from './raw-http';
export { raiseThreadPriority } from './thread-priority';
