import { AsyncResource } from 'node:async_hooks';

/**
 * Deliveries run in the async context the process started in. amqplib calls back in the context
 * that opened the connection's socket, and a connection (re)opened while a gRPC call was being
 * served would hand every message it delivers that call's context: its deadline, long past, to
 * each RPC a handler makes (the chaos suite saw payment.succeeded dead-lettered with "Deadline
 * exceeded after 0.031s"), and its span as the parent of the handler's trace.
 */
export const DELIVERY_SCOPE = new AsyncResource('oms.message-delivery');
