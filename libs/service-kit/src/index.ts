export {
  runGrpcService,
  runHttpService,
  type ServiceSpec,
  type ServiceContext,
  type ServiceParts,
  type GrpcServiceParts,
  type HttpServiceParts,
} from './run-service';
export { type GrpcServiceBinding, admissionLimit } from './grpc-listener';
export { type BackgroundLoop, type LoopTiming, type LoopRound } from './background-loops';
export { type ServiceMessaging } from './service-messaging';
export { type ServiceConfig } from './service-config';
export { shutdownInOrder, type ShutdownStep } from './shutdown';
export { SERVICE_PORTS, type ServiceName } from './service-names';
export { ServiceMetrics } from './metrics';
