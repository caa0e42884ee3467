/**
 * Generated from proto/ (npm run proto:gen): the single source of RPC types for servers and clients,
 * and of the event payloads that services send each other.
 */
export * from './generated/oms/v1/menu';
export * from './generated/oms/v1/stock';
export * from './generated/oms/v1/order';
export * from './generated/oms/v1/payment';
export * from './generated/oms/v1/kitchen';
export * from './generated/oms/v1/dead_letters';
export * from './generated/oms/v1/events';
export { PROTO_ROOT, PROTO_FILES } from './proto-files';
// Every generated file declares these helpers; name one copy explicitly to settle the ambiguity.
export {
  protobufPackage,
  protobufFileName,
  type DeepPartial,
  type MessageFns,
} from './generated/oms/v1/menu';
export * from './events';

/** OrderService.GetOrders' bound (order.proto): the server refuses more, the gateway sends no more. */
export const MAX_ORDERS_PER_GET = 100;
