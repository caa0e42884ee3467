import { trace } from '@opentelemetry/api';

/** Jaeger finds an order's traces by this tag: `tags={"order.id":"<id>"}`. */
export const ORDER_ID_ATTRIBUTE = 'order.id';

export function setOrderId(orderId: string): void {
  trace.getActiveSpan()?.setAttribute(ORDER_ID_ATTRIBUTE, orderId);
}
