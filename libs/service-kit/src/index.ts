export {
  runService,
  type ServiceSpec,
  type ServiceContext,
  type ServiceParts,
  type GrpcServiceBinding,
} from './run-service';
export { shutdownInOrder, type ShutdownStep } from './shutdown';
export { SERVICE_PORTS, type ServiceName } from './service-names';
export { ServiceMetrics } from './metrics';
export { DueTimer } from './due-timer';
export { admissionLimit } from './run-service';
