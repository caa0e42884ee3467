import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import {
  extractTraceContext,
  injectTraceContext,
  ORDER_ID_ATTRIBUTE,
  traceIdFromTraceparent,
} from '@oms/telemetry/api';
import type { DomainEvent } from './event';

/**
 * Spans and W3C trace context for messages, after OpenTelemetry's messaging conventions. The amqplib
 * auto-instrumentation stays off: these spans know the event, the queue and the attempt.
 */

const tracer = trace.getTracer('@oms/messaging');

export type MessageHeaders = Record<string, unknown>;

/** Header values arrive as strings or as Buffers (AMQP byte arrays); nothing else carries trace context. */
function headerText(headers: MessageHeaders, key: string): string | undefined {
  const value = headers[key];
  if (typeof value === 'string') return value;
  return Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
}

const headerGetter: TextMapGetter<MessageHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: headerText,
};

function orderIdAttribute(event: DomainEvent): Attributes {
  const data = event.data as { orderId?: unknown } | null;
  return typeof data === 'object' && data !== null && typeof data.orderId === 'string'
    ? { [ORDER_ID_ATTRIBUTE]: data.orderId }
    : {};
}

/** Starts the PRODUCER span of a publish, child of the active context, and returns the headers that carry it. */
export function startPublishSpan(
  exchange: string,
  event: DomainEvent,
): { span: Span; headers: MessageHeaders } {
  const span = tracer.startSpan(`${exchange} publish`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.destination.name': exchange,
      'messaging.rabbitmq.destination.routing_key': event.type,
      'messaging.message.id': event.id,
      ...orderIdAttribute(event),
    },
  });
  const headers = injectTraceContext<MessageHeaders>({}, trace.setSpan(context.active(), span));
  return { span, headers };
}

export interface ConsumeSpanDetails {
  queue: string;
  service: string;
  attempt: number;
  headers: MessageHeaders;
  messageId: string | undefined;
  routingKey: string;
  deliveryTag: number;
}

/**
 * Runs `work` inside a CONSUMER span whose parent is the context the publisher put in the headers,
 * so the handler's logs carry its trace id and its outgoing calls continue the publisher's trace.
 */
export function withConsumeSpan<R>(
  details: ConsumeSpanDetails,
  work: (span: Span) => Promise<R>,
): Promise<R> {
  const parent = extractTraceContext(details.headers, headerGetter);
  const attributes: Attributes = {
    'messaging.system': 'rabbitmq',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': details.queue,
    'messaging.consumer.group.name': details.service,
    'messaging.rabbitmq.destination.routing_key': details.routingKey,
    'messaging.rabbitmq.message.delivery_tag': details.deliveryTag,
    'oms.messaging.attempt': details.attempt,
  };
  if (details.messageId) attributes['messaging.message.id'] = details.messageId;
  const span = tracer.startSpan(`${details.queue} process`, { kind: SpanKind.CONSUMER, attributes }, parent);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await work(span);
    } finally {
      span.end();
    }
  });
}

export function annotateWithEvent(span: Span, event: DomainEvent): void {
  span.setAttributes({ 'messaging.message.id': event.id, ...orderIdAttribute(event) });
}

export function recordFailure(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The trace id of the publisher's context, read straight from `traceparent` (works without a registered propagator). */
export function traceIdFromHeaders(headers: MessageHeaders | undefined): string {
  return traceIdFromTraceparent(headers ? headerText(headers, 'traceparent') : undefined);
}
