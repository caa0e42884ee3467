import { resolve } from 'node:path';

/**
 * Where the .proto sources live (server reflection loads them at start-up). Three levels up from
 * both libs/contracts/src and a bundle in dist/apps/<name>.
 */
export const PROTO_ROOT = resolve(__dirname, '../../../proto');

export const PROTO_FILES = [
  'oms/v1/menu.proto',
  'oms/v1/stock.proto',
  'oms/v1/order.proto',
  'oms/v1/payment.proto',
  'oms/v1/kitchen.proto',
  'oms/v1/dead_letters.proto',
];
