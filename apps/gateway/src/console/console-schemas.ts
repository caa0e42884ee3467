/**
 * Schemas of the console's own endpoints (under /console/api): validation, serialization and
 * their part of /openapi.json, from which the console's TypeScript types are generated.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CustomerId, OpaqueId, StrictObject, TicketSchema } from '../schemas';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const SessionSchema = Type.Object({
  development: Type.Boolean({ description: 'whether the developer actions (pay, expire) exist' }),
  jaegerUiUrl: Nullable(Type.String({ description: "Jaeger's own UI, when one is reachable" })),
  streamExpiresAt: Type.String({ format: 'date-time', description: 'when the stream pass cookie expires' }),
});

export const ConsoleOrderParams = StrictObject({ customerId: CustomerId, orderId: OpaqueId });
export type ConsoleOrderParamsType = Static<typeof ConsoleOrderParams>;

const PaymentSchema = Type.Object({
  status: Type.String({ enum: ['session_pending', 'awaiting_payment', 'paid', 'failed', 'unknown'] }),
  checkoutSessionId: Type.String(),
  paymentUrl: Type.String(),
  amountCents: Type.Integer(),
  currency: Type.String(),
});

export const OrderDetailSchema = Type.Object({
  order: Type.Ref('Order'),
  payment: Nullable(PaymentSchema),
  paymentError: Nullable(Type.String({ description: 'why the payment could not be read' })),
  tickets: Type.Array(TicketSchema),
  ticketsError: Nullable(Type.String({ description: 'why the tickets could not be read' })),
  jaegerSearch: Type.String({
    description: "Jaeger's search query for this order (service and order.id tag)",
  }),
});

export const DevCheckoutSchema = Type.Object({
  event: Type.String({ description: 'the Stripe event type sent' }),
  eventId: Type.String(),
  received: Type.Boolean(),
});

export const StockListSchema = Type.Object({
  items: Type.Array(
    Type.Object({
      itemId: Type.String(),
      name: Type.String(),
      available: Type.Integer({ description: 'can be reserved now' }),
      held: Type.Integer({ description: 'reserved by orders not paid yet' }),
      committed: Type.Integer({ description: 'taken by paid orders' }),
    }),
  ),
});

const BreakerSchema = Type.Object({ target: Type.String(), state: Type.String() });

export const ServicesSchema = Type.Object({
  services: Type.Array(
    Type.Object({
      name: Type.String(),
      instances: Type.Array(
        Type.Object({
          id: Type.String(),
          address: Type.String(),
          port: Type.Integer(),
          health: Type.String({ enum: ['passing', 'warning', 'critical'] }),
          checks: Type.Array(
            Type.Object({ name: Type.String(), status: Type.String(), output: Type.String() }),
          ),
          metricsUrl: Nullable(Type.String()),
          metrics: Nullable(
            Type.Object({
              rate: Type.Number({ description: 'requests per second over the window' }),
              errorRate: Nullable(
                Type.Number({ description: 'share of requests failed by the server (0..1)' }),
              ),
              p99Ms: Nullable(Type.Number()),
              windowSeconds: Type.Number(),
              breakers: Type.Array(BreakerSchema),
            }),
          ),
          metricsError: Nullable(Type.String()),
        }),
      ),
    }),
  ),
});

export const TracesQuery = StrictObject({ orderId: OpaqueId });

export const TracesSchema = Type.Object({
  jaegerUiUrl: Nullable(Type.String()),
  jaegerSearch: Type.String(),
  traces: Type.Array(
    Type.Object({
      traceId: Type.String(),
      startedAt: Type.String({ format: 'date-time' }),
      durationMs: Type.Number(),
      rootService: Type.String(),
      rootOperation: Type.String(),
      errorCount: Type.Integer(),
      spans: Type.Array(
        Type.Object({
          spanId: Type.String(),
          parentSpanId: Nullable(Type.String()),
          service: Type.String(),
          operation: Type.String(),
          startMs: Type.Number({ description: 'from the start of the trace' }),
          durationMs: Type.Number(),
          error: Type.Boolean(),
          attributes: Type.Record(Type.String(), Type.String()),
        }),
      ),
    }),
  ),
});

/** The messages of GET /console/api/stream (Server-Sent Events), documented for the console's types. */
export const StreamMessagesSchema = Type.Object(
  {
    snapshot: Type.Object({ orders: Type.Array(Type.Ref('Order')) }),
    order: Type.Ref('Order'),
    kitchen: Type.Object({ type: Type.String(), orderId: Type.String(), at: Type.String() }),
  },
  { $id: 'ConsoleStreamMessages', description: 'event name → data of each Server-Sent Event' },
);
