export {
  RpcError,
  isServiceError,
  defaultReason,
  fromDomainError,
  invalidArgument,
  notFound,
} from './rpc-error';
export { unaryService, type Admission, type UnaryHandlers, type UnaryServiceOptions } from './server';
export { createRpcClient, type RpcClient, type RpcClientOptions } from './client';
export { inboundDeadline, runWithInboundCall } from './call-context';
