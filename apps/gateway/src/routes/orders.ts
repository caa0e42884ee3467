import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { Order, OrderLineInput } from '@oms/contracts';
import { byCodePoint, MAX_QUANTITY, mergeLines as mergeSameItems } from '@oms/domain';
import { setOrderId } from '@oms/telemetry';
import type { RouteContext } from '../route-context';
import { badRequest, notFoundError } from '../http-errors';
import type { StoredResponse } from '../idempotency-store';
import { toOrderJson } from '../mappers';
import { coerceQuery } from '../query';
import {
  BACKEND_ERRORS,
  CreateOrderBody,
  CustomerParams,
  errorResponses,
  IdempotencyHeaders,
  ListOrdersQuery,
  OrderListSchema,
  OrderParams,
  type CreateOrderBodyType,
} from '../schemas';

type OrderParamsType = Static<typeof OrderParams>;

interface PlaceOrderRoute {
  Params: Static<typeof CustomerParams>;
  Body: CreateOrderBodyType;
  Headers: Static<typeof IdempotencyHeaders>;
}

interface ListOrdersRoute {
  Params: Static<typeof CustomerParams>;
  Querystring: Static<typeof ListOrdersQuery>;
}

const OrderRef = Type.Ref('Order');

export async function orderRoutes(app: FastifyInstance, context: RouteContext) {
  app.post<PlaceOrderRoute>(
    '/v1/customers/:customerId/orders',
    { schema: placeOrderSchema() },
    (request, reply) => placeOrder(context, request, reply),
  );
  app.get<{ Params: OrderParamsType }>(
    '/v1/customers/:customerId/orders/:orderId',
    { schema: getOrderSchema() },
    (request) => getOrder(context, request.params),
  );
  app.get<ListOrdersRoute>(
    '/v1/customers/:customerId/orders',
    { preValidation: coerceQuery(ListOrdersQuery), schema: listOrdersSchema() },
    (request) => listOrders(context, request.params, request.query),
  );
  app.post<{ Params: OrderParamsType }>(
    '/v1/customers/:customerId/orders/:orderId/cancel',
    { schema: cancelOrderSchema() },
    (request) => cancelOrder(context, request.params, request.body),
  );
}

// Route schemas are built per app: Fastify normalizes a route's schema object in place.

function placeOrderSchema() {
  return {
    tags: ['orders'],
    summary: 'Place an order (all lines reserved, or none)',
    description:
      'Answers 201 with the order (pending, or already awaiting_payment) and its `location`. With an ' +
      '`Idempotency-Key`, a repeat with the same body replays the original answer (header ' +
      '`idempotent-replayed: true`), a repeat with another body is a 422, and concurrent repeats wait for ' +
      'the first (409 request_in_progress after 10 s). A failed attempt frees the key for a retry.',
    params: CustomerParams,
    headers: IdempotencyHeaders,
    body: CreateOrderBody,
    response: {
      201: {
        ...OrderRef,
        description: 'The order',
        headers: {
          location: { type: 'string', description: 'the order URL' },
          'idempotent-replayed': {
            type: 'string',
            description: '"true" when replayed for an Idempotency-Key',
          },
        },
      },
      ...errorResponses(400, 409, 413, 415, 422, 429, ...BACKEND_ERRORS),
    },
  };
}

function getOrderSchema() {
  return {
    tags: ['orders'],
    summary: "One of the customer's orders",
    description: "404 also when the order exists but is another customer's.",
    params: OrderParams,
    response: { 200: OrderRef, ...errorResponses(400, 404, ...BACKEND_ERRORS) },
  };
}

function listOrdersSchema() {
  return {
    tags: ['orders'],
    summary: "The customer's orders, newest first",
    params: CustomerParams,
    querystring: ListOrdersQuery,
    response: { 200: OrderListSchema, ...errorResponses(400, ...BACKEND_ERRORS) },
  };
}

function cancelOrderSchema() {
  return {
    tags: ['orders'],
    summary: 'Cancel a pending or awaiting_payment order (its stock is released)',
    description:
      'No body (or `{}`). Cancelling a cancelled order answers 200 with it unchanged; any other status ' +
      'is a 409 not_cancellable.',
    params: OrderParams,
    response: { 200: OrderRef, ...errorResponses(400, 404, 409, 415, ...BACKEND_ERRORS) },
  };
}

/** With an Idempotency-Key the answer is stored and replayed; without one every call is a new order. */
async function placeOrder(
  { backends, idempotency }: RouteContext,
  request: FastifyRequest<PlaceOrderRoute>,
  reply: FastifyReply,
) {
  const { customerId } = request.params;
  const items = mergeLines(request.body.items);
  const key = request.headers['idempotency-key'];

  const create = async (requestId: string): Promise<StoredResponse> => {
    const order = await backends.order.createOrder({ customerId, items, requestId });
    ownOrder(order, customerId);
    return {
      statusCode: 201,
      body: JSON.stringify(toOrderJson(order)),
      headers: { location: orderLocation(customerId, order.id) },
    };
  };

  const { response, replayed } =
    key === undefined
      ? { response: await create(randomUUID()), replayed: false }
      : await idempotency.run(`${customerId}:${key}`, requestHash(items), () =>
          create(requestIdForKey(customerId, key)),
        );
  if (replayed) {
    reply.header('idempotent-replayed', 'true');
    const { id } = JSON.parse(response.body) as { id?: unknown };
    if (typeof id === 'string') setOrderId(id);
  }
  // The stored JSON is sent byte for byte, so a replay is exactly the original answer.
  return reply
    .code(response.statusCode)
    .headers(response.headers)
    .type('application/json; charset=utf-8')
    .send(response.body);
}

async function getOrder({ backends }: RouteContext, { customerId, orderId }: OrderParamsType) {
  return toOrderJson(ownOrder(await backends.order.getOrder({ customerId, orderId }), customerId));
}

async function listOrders(
  { backends }: RouteContext,
  { customerId }: ListOrdersRoute['Params'],
  query: ListOrdersRoute['Querystring'],
) {
  const { orders, nextCursor } = await backends.order.listOrders({
    customerId,
    limit: query.limit ?? 20,
    cursor: query.cursor ?? '',
  });
  return {
    orders: orders.filter((order) => order.customerId === customerId).map(toOrderJson),
    nextCursor: nextCursor === '' ? null : nextCursor,
  };
}

async function cancelOrder(
  { backends }: RouteContext,
  { customerId, orderId }: OrderParamsType,
  body: unknown,
) {
  assertEmptyBody(body);
  return toOrderJson(ownOrder(await backends.order.cancelOrder({ customerId, orderId }), customerId));
}

/** Lines with the same item are one line; the merged quantity obeys the same 1..100 rule. */
export function mergeLines(items: CreateOrderBodyType['items']): OrderLineInput[] {
  const merged = mergeSameItems(items);
  const tooMany = merged.filter(({ quantity }) => quantity > MAX_QUANTITY);
  if (tooMany.length > 0) {
    throw badRequest(
      `the merged quantity of an item must be at most ${MAX_QUANTITY}`,
      tooMany.map(({ itemId, quantity }) => ({
        path: '/items',
        itemId,
        quantity,
        message: `lines of ${itemId} add up to ${quantity} (at most ${MAX_QUANTITY})`,
      })),
    );
  }
  return merged;
}

/** The canonical request: merged lines in item order, so reordering lines is the same request. */
export function requestHash(lines: OrderLineInput[]): string {
  const canonical = [...lines].sort((a, b) => byCodePoint(a.itemId, b.itemId));
  return sha256(JSON.stringify(canonical.map((line) => [line.itemId, line.quantity])));
}

/** The request id the order service deduplicates on: one key of one customer is one order. */
export function requestIdForKey(customerId: string, idempotencyKey: string): string {
  return sha256(`${customerId}:${idempotencyKey}`);
}

/** The cancel route declares no body: nothing or `{}` passes, anything else gets the 400 a closed schema gives. */
function assertEmptyBody(body: unknown): void {
  if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
    throw badRequest('the body must be empty or {}', [{ path: '', message: 'must be an empty object' }]);
  }
  if (!body) return;
  const unknown = Object.keys(body);
  if (unknown.length > 0) {
    throw badRequest(
      'invalid request body',
      unknown.map((field) => ({
        path: `/${field.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        message: 'unknown field',
      })),
    );
  }
}

/** Never hand out another customer's order, whatever a backend answers. */
function ownOrder(order: Order, customerId: string): Order {
  if (order.customerId !== customerId) throw notFoundError('order not found');
  setOrderId(order.id);
  return order;
}

const orderLocation = (customerId: string, orderId: string) =>
  `/v1/customers/${encodeURIComponent(customerId)}/orders/${encodeURIComponent(orderId)}`;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
