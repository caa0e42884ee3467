/**
 * TypeBox schemas of the public API: the single source of request validation (Fastify's ajv),
 * response serialization and the OpenAPI document at /openapi.json.
 * Every request object schema is closed (`additionalProperties: false`): unknown fields are a 400.
 */
import {
  Type,
  type Static,
  type TProperties,
  type TSchema,
  type TString,
  type TInteger,
} from '@sinclair/typebox';
import { ID_PATTERN, MAX_LINES, MAX_QUANTITY } from '@oms/domain';

/** A closed object: unknown properties are rejected, never silently dropped. */
export const StrictObject = <T extends TProperties>(properties: T, options: { description?: string } = {}) =>
  Type.Object(properties, { ...options, additionalProperties: false });

/** `T | null` as a JSON-Schema type array (valid OpenAPI 3.1, and fast to serialize). */
const Nullable = <T extends TString | TInteger>(schema: T, description?: string) =>
  Type.Unsafe<Static<T> | null>({
    ...schema,
    type: [schema.type, 'null'],
    ...(description ? { description } : {}),
  });

export const CustomerId = Type.String({ pattern: ID_PATTERN, description: `matches ${ID_PATTERN}` });
export const ItemId = Type.String({ pattern: ID_PATTERN, description: 'a menu item id' });
/**
 * Text without control characters: nothing the system issues contains one, and NUL cannot even be
 * stored (PostgreSQL under FerretDB refuses it, which would fail the lookup instead of missing).
 */
const NO_CONTROL_CHARACTERS = '^[^\\u0000-\\u001f\\u007f]*$';

/** Ids issued by the system are opaque: only their length and characters are checked here; unknown ids are a 404. */
export const OpaqueId = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: NO_CONTROL_CHARACTERS,
  description: 'an opaque id issued by the system',
});

// ---------------------------------------------------------------- errors

const ErrorObjectSchema = Type.Object({
  code: Type.String({ description: 'snake_case error code, e.g. invalid_argument, out_of_stock' }),
  message: Type.String({ description: 'human readable' }),
  details: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
});

export const ErrorBodySchema = Type.Object(
  { error: ErrorObjectSchema },
  { $id: 'ErrorBody', description: 'Every error answer, whatever the status' },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'invalid_argument (details list offending paths), invalid_json, or a more precise code',
  401: 'unauthenticated: missing or wrong bearer token',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict, or a more precise code (out_of_stock, not_cancellable, request_in_progress)',
  413: 'payload_too_large: body over 64 KiB',
  415: 'unsupported_media_type: the body must be application/json',
  422: 'idempotency_key_reused: the key was used with a different body',
  429: 'rate_limited (with retry-after)',
  500: 'internal: nothing internal leaks',
  503: 'unavailable (with retry-after)',
  504: 'timeout: a backend did not answer in time',
};

/** Documented error answers of a route (all share the error body). */
export function errorResponses(...codes: number[]): Record<number, TSchema> {
  return Object.fromEntries(
    [...new Set([...codes, 500])].map((code) => [
      code,
      Type.Ref('ErrorBody', { description: ERROR_DESCRIPTIONS[code] ?? 'error' }),
    ]),
  );
}

/** The answers every route may give whatever it does: a backend down, slow or broken. */
export const BACKEND_ERRORS = [503, 504] as const;

// ---------------------------------------------------------------- menu

export const MenuItemSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    priceCents: Type.Integer({ description: 'integer minor units' }),
    currency: Type.String({ description: 'lowercase ISO 4217, e.g. usd' }),
    available: Nullable(
      Type.Integer(),
      'quantity that can be ordered now; null when stock is unreachable (x-degraded: stock)',
    ),
  },
  { $id: 'MenuItem' },
);
export type MenuItemJson = Static<typeof MenuItemSchema>;

export const MenuSchema = Type.Object({ items: Type.Array(Type.Ref('MenuItem')) });

export const DEGRADED_HEADER = {
  'x-degraded': {
    type: 'string',
    description: 'present (value "stock") when availability could not be read; available is then null',
  },
};

// ---------------------------------------------------------------- orders

export const OrderSchema = Type.Object(
  {
    id: Type.String(),
    customerId: Type.String(),
    status: Type.String({
      enum: ['pending', 'awaiting_payment', 'paid', 'preparing', 'ready', 'cancelled', 'failed'],
    }),
    items: Type.Array(
      Type.Object({
        itemId: Type.String(),
        name: Type.String(),
        quantity: Type.Integer(),
        unitPriceCents: Type.Integer(),
        lineTotalCents: Type.Integer(),
      }),
    ),
    totalCents: Type.Integer(),
    currency: Type.String(),
    paymentUrl: Nullable(Type.String(), 'Stripe Checkout URL once the order is awaiting payment'),
    history: Type.Array(Type.Object({ status: Type.String(), at: Type.String({ format: 'date-time' }) }), {
      description: 'every status the order entered, oldest first',
    }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Order' },
);
export type OrderJson = Static<typeof OrderSchema>;

export const OrderLineInputSchema = StrictObject({
  itemId: ItemId,
  quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY }),
});

export const CreateOrderBody = StrictObject(
  { items: Type.Array(OrderLineInputSchema, { minItems: 1, maxItems: MAX_LINES }) },
  {
    description: `1..${MAX_LINES} lines; lines with the same itemId are merged (merged quantity at most ${MAX_QUANTITY})`,
  },
);
export type CreateOrderBodyType = Static<typeof CreateOrderBody>;

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description:
        'Scoped to the customer, kept at least 24 h: the same key with the same body replays the original 201 ' +
        '(header idempotent-replayed: true); with a different body it is a 422 idempotency_key_reused.',
    }),
  ),
});

export const CustomerParams = StrictObject({ customerId: CustomerId });
export const OrderParams = StrictObject({ customerId: CustomerId, orderId: OpaqueId });

export const ListOrdersQuery = StrictObject({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 512,
      pattern: NO_CONTROL_CHARACTERS,
      description: 'nextCursor of the previous page',
    }),
  ),
});
export type ListOrdersQueryType = Static<typeof ListOrdersQuery>;

export const OrderListSchema = Type.Object({
  orders: Type.Array(Type.Ref('Order'), { description: 'newest first' }),
  nextCursor: Nullable(Type.String(), 'null on the last page'),
});

// ---------------------------------------------------------------- kitchen

export const TicketStatus = Type.Unsafe<'queued' | 'preparing' | 'ready'>(
  Type.String({ enum: ['queued', 'preparing', 'ready'] }),
);

export const TicketsQuery = StrictObject({
  status: Type.Optional(TicketStatus),
  orderId: Type.Optional(OpaqueId),
});
export type TicketsQueryType = Static<typeof TicketsQuery>;

export const TicketSchema = Type.Object({
  id: Type.String(),
  orderId: Type.String(),
  status: Type.String({ enum: ['queued', 'preparing', 'ready'] }),
  items: Type.Array(Type.Object({ itemId: Type.String(), name: Type.String(), quantity: Type.Integer() })),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Nullable(Type.String()),
  readyAt: Nullable(Type.String()),
});
export type TicketJson = Static<typeof TicketSchema>;

// ---------------------------------------------------------------- admin

export const SetStockBody = StrictObject({ available: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }) });
export const ItemParams = StrictObject({ itemId: ItemId });
export const StockSchema = Type.Object({ itemId: Type.String(), available: Type.Integer() });

export const UpsertMenuItemBody = StrictObject({
  id: Type.Optional(
    Type.String({ pattern: ID_PATTERN, description: 'generated when absent; an existing id is replaced' }),
  ),
  // Display text: a name is one line with something visible; no control characters in either (NUL
  // cannot even be stored), though a description may break lines.
  name: Type.String({ minLength: 1, maxLength: 120, pattern: '^(?=.*\\S)[^\\u0000-\\u001f\\u007f]*$' }),
  description: Type.String({
    maxLength: 1000,
    pattern: '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$',
  }),
  priceCents: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
  currency: Type.String({ pattern: '^[a-z]{3}$', description: 'lowercase ISO 4217' }),
});
export type UpsertMenuItemBodyType = Static<typeof UpsertMenuItemBody>;

export const DeadLettersQuery = StrictObject({
  limit: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 100, default: 10, description: 'newest messages per queue' }),
  ),
});
export const QueueParams = StrictObject({ queue: Type.String({ minLength: 1, maxLength: 255 }) });

const UnreachableSchema = Type.Array(Type.Object({ service: Type.String(), code: Type.String() }), {
  description: 'services that could not be asked (their queues are missing from the answer)',
});

export const DeadLettersSchema = Type.Object({
  queues: Type.Array(
    Type.Object({
      service: Type.String(),
      queue: Type.String(),
      count: Type.Integer(),
      newest: Type.Array(
        Type.Object({
          eventId: Type.String(),
          type: Type.String(),
          lastError: Type.String(),
          attempts: Type.Integer(),
          traceId: Type.String(),
        }),
      ),
    }),
  ),
  unreachable: UnreachableSchema,
});

export const ReplaySchema = Type.Object({
  queue: Type.String(),
  replayed: Type.Integer(),
  services: Type.Array(Type.String(), { description: 'services owning the queue' }),
  unreachable: UnreachableSchema,
});

// ---------------------------------------------------------------- health

export const HealthSchema = Type.Object({ status: Type.Literal('ok') });
export const DependencyState = Type.String({ enum: ['ok', 'unavailable'] });
export const ReadySchema = Type.Object({
  status: Type.String({ enum: ['ready', 'not_ready', 'shutting_down'] }),
  dependencies: Type.Record(Type.String(), DependencyState),
  error: Type.Optional(ErrorObjectSchema),
});

/** Schemas registered once with Fastify (`$ref` targets, and components of the OpenAPI document). */
export const SHARED_SCHEMAS = [ErrorBodySchema, MenuItemSchema, OrderSchema];
