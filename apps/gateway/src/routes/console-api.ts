import { status } from '@grpc/grpc-js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { PaymentStatus, type Payment } from '@oms/contracts';
import { RpcError } from '@oms/rpc';
import { setOrderId } from '@oms/telemetry';
import type { RouteContext } from '../route-context';
import type { ConsoleContext } from '../console/console-context';
import { HttpError, notFoundError } from '../http-errors';
import { toOrderJson, toTicketJson } from '../mappers';
import { BACKEND_ERRORS, errorResponses } from '../schemas';
import {
  ConsoleOrderParams,
  DevCheckoutSchema,
  OrderDetailSchema,
  ServicesSchema,
  SessionSchema,
  StockListSchema,
  TracesQuery,
  TracesSchema,
  type ConsoleOrderParamsType,
} from '../console/console-schemas';
import { signedCheckoutEvent, type DevCheckoutAction } from '../console/dev-checkout';
import { jaegerSearchQuery, orderTraces } from '../console/jaeger';
import { STREAM_COOKIE } from '../console/stream-pass';

const tags = ['console'];
const security = [{ bearer: [] }];
const OrderRef = Type.Ref('Order');

/** The console's reads and actions: every one needs the admin token, checked before anything else. */
export async function consoleApiRoutes(app: FastifyInstance, context: RouteContext, parts: ConsoleContext) {
  app.addHook('onRequest', async (request) => {
    context.authenticateAdmin(request.headers.authorization);
  });
  app.post('/console/api/session', { schema: SCHEMAS.session() }, (_request, reply) =>
    startSession(parts, reply),
  );
  app.get<OrderRoute>('/console/api/orders/:customerId/:orderId', { schema: SCHEMAS.detail() }, (request) =>
    orderDetail(context, request.params),
  );
  app.post<OrderRoute>(
    '/console/api/orders/:customerId/:orderId/cancel',
    { schema: SCHEMAS.cancel() },
    (request) => cancel(context, parts, request.params),
  );
  if (parts.development) {
    for (const action of ['pay', 'expire'] as const)
      app.post<OrderRoute>(
        `/console/api/orders/:customerId/:orderId/${action}`,
        { schema: SCHEMAS.devCheckout(action) },
        (request) => devCheckout(context, parts, request.params, action),
      );
  }
  app.get('/console/api/stock', { schema: SCHEMAS.stock() }, () => stockList(context));
  app.get('/console/api/services', { schema: SCHEMAS.services() }, () => services(parts));
  app.get<{ Querystring: Static<typeof TracesQuery> }>(
    '/console/api/traces',
    { schema: SCHEMAS.traces() },
    (request) => traces(parts, request.query.orderId),
  );
}

type OrderRoute = { Params: ConsoleOrderParamsType };

// Route schemas are built per app: Fastify normalizes a route's schema object in place.
const SCHEMAS = {
  session: () => ({
    tags,
    security,
    summary: 'Log in: checks the admin token and sets the stream pass cookie',
    response: { 200: SessionSchema, ...errorResponses(401) },
  }),
  detail: () => ({
    tags,
    security,
    params: ConsoleOrderParams,
    summary: 'An order with its payment and kitchen tickets',
    response: { 200: OrderDetailSchema, ...errorResponses(400, 401, 404, ...BACKEND_ERRORS) },
  }),
  cancel: () => ({
    tags,
    security,
    params: ConsoleOrderParams,
    summary: 'Cancel a pending or awaiting_payment order; the board shows it at once',
    response: { 200: OrderRef, ...errorResponses(400, 401, 404, 409, ...BACKEND_ERRORS) },
  }),
  devCheckout: (action: DevCheckoutAction) => ({
    tags,
    security,
    params: ConsoleOrderParams,
    summary: `Development only (absent in production): Stripe's signed webhook as if the customer ${
      action === 'pay' ? 'paid' : 'let the Checkout Session expire'
    }`,
    response: { 200: DevCheckoutSchema, ...errorResponses(400, 401, 404, ...BACKEND_ERRORS) },
  }),
  stock: () => ({
    tags,
    security,
    summary: 'Every item: available, held by unpaid orders, committed to paid ones',
    response: { 200: StockListSchema, ...errorResponses(401, ...BACKEND_ERRORS) },
  }),
  services: () => ({
    tags,
    security,
    summary: 'Every instance in Consul: health, breaker states, request rate, error rate, p99',
    response: { 200: ServicesSchema, ...errorResponses(401, 503) },
  }),
  traces: () => ({
    tags,
    security,
    querystring: TracesQuery,
    summary: "An order's traces (spans tagged order.id) from Jaeger's query API",
    response: { 200: TracesSchema, ...errorResponses(400, 401, 503) },
  }),
};

/** The pass is sent back only to the stream's path, never readable by scripts, never cross-site. */
async function startSession(parts: ConsoleContext, reply: FastifyReply) {
  const pass = parts.passes.issue();
  const maxAge = Math.floor((pass.expiresAt - Date.now()) / 1000);
  reply.header(
    'set-cookie',
    `${STREAM_COOKIE}=${pass.value}; Path=/console/api/stream; Max-Age=${maxAge}; HttpOnly; SameSite=Strict`,
  );
  return {
    development: parts.development,
    jaegerUiUrl: await parts.jaeger.uiUrl(),
    streamExpiresAt: new Date(pass.expiresAt).toISOString(),
  };
}

async function readOrder({ backends }: RouteContext, { customerId, orderId }: ConsoleOrderParamsType) {
  setOrderId(orderId);
  const order = await backends.order.getOrder({ customerId, orderId });
  if (order.customerId !== customerId) throw notFoundError('order not found');
  return toOrderJson(order);
}

async function orderDetail(context: RouteContext, params: ConsoleOrderParamsType) {
  const order = await readOrder(context, params);
  const [payment, tickets] = await Promise.allSettled([
    context.backends.payment.getPayment({ orderId: order.id }),
    context.backends.kitchen.listTickets({ status: '', orderId: order.id }),
  ]);
  const missing = (result: PromiseSettledResult<unknown>) =>
    result.status === 'rejected' &&
    !(result.reason instanceof RpcError && result.reason.code === status.NOT_FOUND)
      ? describe(result.reason)
      : null;
  return {
    order,
    payment: payment.status === 'fulfilled' ? toPaymentJson(payment.value) : null,
    paymentError: missing(payment),
    tickets: tickets.status === 'fulfilled' ? tickets.value.tickets.map(toTicketJson) : [],
    ticketsError: missing(tickets),
    jaegerSearch: jaegerSearchQuery(order.id),
  };
}

const PAYMENT_STATUSES: Partial<Record<PaymentStatus, string>> = {
  [PaymentStatus.PAYMENT_STATUS_SESSION_PENDING]: 'session_pending',
  [PaymentStatus.PAYMENT_STATUS_AWAITING_PAYMENT]: 'awaiting_payment',
  [PaymentStatus.PAYMENT_STATUS_PAID]: 'paid',
  [PaymentStatus.PAYMENT_STATUS_FAILED]: 'failed',
};

const toPaymentJson = (payment: Payment) => ({
  status: PAYMENT_STATUSES[payment.status] ?? 'unknown',
  checkoutSessionId: payment.checkoutSessionId,
  paymentUrl: payment.paymentUrl,
  amountCents: payment.amountCents,
  currency: payment.currency,
});

/** The order service publishes no event for a cancel: the board learns it from the answer. */
async function cancel(context: RouteContext, parts: ConsoleContext, params: ConsoleOrderParamsType) {
  await readOrder(context, params); // 404 for another customer's order
  const order = toOrderJson(await context.backends.order.cancelOrder(params));
  parts.board.note(order);
  return order;
}

async function devCheckout(
  context: RouteContext,
  parts: ConsoleContext,
  params: ConsoleOrderParamsType,
  action: DevCheckoutAction,
) {
  const order = await readOrder(context, params);
  const { rawBody, signature, eventId } = signedCheckoutEvent(action, order, parts.webhookSecret);
  const { received } = await context.backends.payment.handleStripeWebhook({ rawBody, signature });
  return { event: JSON.parse(rawBody.toString('utf8')).type as string, eventId, received };
}

async function stockList({ backends }: RouteContext) {
  const [{ items: menu }, { items: stock }] = await Promise.all([
    backends.menu.listItems({}),
    backends.stock.getAvailability({ itemIds: [] }),
  ]);
  const names = new Map(menu.map((item) => [item.id, item.name]));
  return {
    items: stock
      .map(({ itemId, available, held, committed }) => ({
        itemId,
        name: names.get(itemId) ?? itemId,
        available,
        held,
        committed,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

async function traces(parts: ConsoleContext, orderId: string) {
  const found = await orderTraces(parts.jaeger.queryUrl, orderId).catch((error: unknown) => {
    throw unavailable(`Jaeger's query API did not answer: ${describe(error)}`);
  });
  return { jaegerUiUrl: await parts.jaeger.uiUrl(), jaegerSearch: jaegerSearchQuery(orderId), traces: found };
}

async function services(parts: ConsoleContext) {
  const listed = await parts.services().catch((error: unknown) => {
    throw unavailable(`Consul did not answer: ${describe(error)}`);
  });
  return { services: listed };
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

const unavailable = (message: string) =>
  new HttpError(503, 'unavailable', message, undefined, { 'retry-after': '1' });
