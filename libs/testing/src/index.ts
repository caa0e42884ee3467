export { ensureStack, stackAddresses } from './stack';
export { waitFor } from './wait-for';
export { startService, type RunningService, type StartServiceOptions } from './service-process';
export { passingInstances, grpcHealthStatus, jaegerServices, uniqueDeployment } from './probes';
