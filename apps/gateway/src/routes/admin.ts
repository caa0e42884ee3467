import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { RpcError } from '@oms/rpc';
import type { RouteContext } from '../route-context';
import { QUEUE_OWNERS, type QueueOwner } from '../backends';
import { HttpError, httpErrorFromRpc } from '../http-errors';
import { toDeadLetterQueueJson, toMenuItemJson } from '../mappers';
import { coerceQuery } from '../query';
import {
  BACKEND_ERRORS,
  DeadLettersQuery,
  DeadLettersSchema,
  DEGRADED_HEADER,
  errorResponses,
  ItemParams,
  QueueParams,
  ReplaySchema,
  SetStockBody,
  StockSchema,
  UpsertMenuItemBody,
  type UpsertMenuItemBodyType,
} from '../schemas';

interface SetStockRoute {
  Params: Static<typeof ItemParams>;
  Body: Static<typeof SetStockBody>;
}

type DeadLettersQueryType = Static<typeof DeadLettersQuery>;

/** A service that could not be asked, with the reason in the public API's error codes. */
interface Unreachable {
  service: QueueOwner;
  code: string;
  error: unknown;
}

const security = [{ bearer: [] }];

/** Admin API: every route requires `Authorization: Bearer <ADMIN_TOKEN>`, checked before the body is read. */
export async function adminRoutes(app: FastifyInstance, context: RouteContext) {
  app.addHook('onRequest', async (request) => {
    context.authenticateAdmin(request.headers.authorization);
  });
  app.put<SetStockRoute>('/v1/admin/stock/:itemId', { schema: setStockSchema() }, (request) =>
    setStock(context, request.params, request.body),
  );
  app.post<{ Body: UpsertMenuItemBodyType }>(
    '/v1/admin/menu',
    { schema: upsertMenuItemSchema() },
    (request, reply) => upsertMenuItem(context, request, reply),
  );
  app.get<{ Querystring: DeadLettersQueryType }>(
    '/v1/admin/dead-letters',
    { preValidation: coerceQuery(DeadLettersQuery), schema: listDeadLettersSchema() },
    (request) => listDeadLetters(context, request),
  );
  app.post<{ Params: Static<typeof QueueParams> }>(
    '/v1/admin/dead-letters/:queue/replay',
    { schema: replayDeadLettersSchema() },
    (request) => replayDeadLetters(context, request.params.queue),
  );
}

// Route schemas are built per app: Fastify normalizes a route's schema object in place.

function setStockSchema() {
  return {
    tags: ['admin'],
    security,
    summary: 'Set the quantity of a menu item that can be reserved now',
    params: ItemParams,
    body: SetStockBody,
    response: { 200: StockSchema, ...errorResponses(400, 401, 404, 413, 415, ...BACKEND_ERRORS) },
  };
}

function upsertMenuItemSchema() {
  return {
    tags: ['admin'],
    security,
    summary: 'Create a menu item, or replace an existing one (same id)',
    description:
      'A new item starts with stock 0 (set it with PUT /v1/admin/stock/{itemId}); an existing stock record is ' +
      'kept. When stock is unreachable the item is still created and answered with `available: null` and ' +
      '`x-degraded: stock`; repeating the call is safe.',
    body: UpsertMenuItemBody,
    response: {
      201: { ...Type.Ref('MenuItem'), headers: { ...DEGRADED_HEADER, location: { type: 'string' } } },
      ...errorResponses(400, 401, 413, 415, ...BACKEND_ERRORS),
    },
  };
}

function listDeadLettersSchema() {
  return {
    tags: ['admin'],
    security,
    summary: 'Dead-letter queues of payment, order, stock and kitchen: count and newest messages',
    description: 'Services that cannot be asked are listed in `unreachable`; the others still answer.',
    querystring: DeadLettersQuery,
    response: { 200: DeadLettersSchema, ...errorResponses(400, 401) },
  };
}

function replayDeadLettersSchema() {
  return {
    tags: ['admin'],
    security,
    summary: 'Move the messages of a dead-letter queue back for processing',
    description:
      'The queue is replayed by the service(s) that list it. 404 when no reachable service has it; 503 when ' +
      'it was not found but some service could not be asked.',
    params: QueueParams,
    response: { 200: ReplaySchema, ...errorResponses(400, 401, 404, ...BACKEND_ERRORS) },
  };
}

async function setStock(
  { backends }: RouteContext,
  { itemId }: SetStockRoute['Params'],
  { available }: SetStockRoute['Body'],
) {
  await backends.menu.getItem({ id: itemId }); // 404 for an item not on the menu
  const stock = await backends.stock.setAvailable({ itemId, available });
  return { itemId, available: stock.available };
}

async function upsertMenuItem(
  { backends }: RouteContext,
  request: FastifyRequest<{ Body: UpsertMenuItemBodyType }>,
  reply: FastifyReply,
) {
  const { id, name, description, priceCents, currency } = request.body;
  // The gateway names new items itself, so a retried call replaces rather than duplicates.
  const itemId = id ?? `item-${randomUUID().slice(0, 8)}`;
  const item = await backends.menu.upsertItem({ id: itemId, name, description, priceCents, currency });
  let available: number | null = null;
  try {
    available = (await backends.stock.ensureItem({ itemId: item.id, initialAvailable: 0 })).available;
  } catch (error) {
    request.log.warn(
      { err: error, itemId: item.id },
      'menu item created but its stock record could not be ensured',
    );
    reply.header('x-degraded', 'stock');
  }
  reply.code(201).header('location', `/v1/menu/${encodeURIComponent(item.id)}`);
  return toMenuItemJson(item, available);
}

async function listDeadLetters(
  { backends }: RouteContext,
  request: FastifyRequest<{ Querystring: DeadLettersQueryType }>,
) {
  const limit = request.query.limit ?? 10;
  const { answers, unreachable } = await askEveryOwner((service) =>
    backends.deadLetters[service].listDeadLetters({ limit }),
  );
  for (const { service, error } of unreachable)
    request.log.warn({ err: error, service }, 'dead letters unavailable');
  return {
    queues: answers.flatMap(({ service, answer }) =>
      answer.queues.map((queue) => toDeadLetterQueueJson(service, queue)),
    ),
    unreachable: publicUnreachable(unreachable),
  };
}

async function replayDeadLetters({ backends }: RouteContext, queue: string) {
  const { owners, down } = await queueOwners(backends, queue);
  const replays = await Promise.allSettled(
    owners.map((service) => backends.deadLetters[service].replayDeadLetters({ queue })),
  );
  const failed = replays.flatMap((result, index): Unreachable[] =>
    result.status === 'rejected'
      ? [{ service: owners[index]!, code: failureCode(result.reason), error: result.reason }]
      : [],
  );
  if (failed.length === owners.length) throw failed[0]!.error;
  const replayed = replays.reduce(
    (sum, result) => sum + (result.status === 'fulfilled' ? result.value.replayed : 0),
    0,
  );
  return { queue, replayed, services: owners, unreachable: publicUnreachable([...down, ...failed]) };
}

/** The services that list the queue, and those that could not be asked; 404 or 503 when none lists it. */
async function queueOwners(backends: RouteContext['backends'], queue: string) {
  const listed = await askEveryOwner((service) =>
    backends.deadLetters[service].listDeadLetters({ limit: 0 }),
  );
  const owners = listed.answers
    .filter(({ answer }) => answer.queues.some((candidate) => candidate.queue === queue))
    .map(({ service }) => service);
  // A service without a dead-letter service simply owns no queue.
  const down = listed.unreachable.filter(({ code }) => code !== 'unimplemented');
  if (owners.length === 0) {
    if (down.length > 0) {
      throw new HttpError(
        503,
        'unavailable',
        `queue ${queue} not found on the services that answered; some could not be asked`,
        publicUnreachable(down),
        { 'retry-after': '1' },
      );
    }
    throw new HttpError(404, 'not_found', `no dead-letter queue named ${queue}`);
  }
  return { owners, down };
}

/** Asks every service that owns queues; the ones that fail are reported instead of failing the call. */
async function askEveryOwner<T>(ask: (service: QueueOwner) => Promise<T>) {
  const settled = await Promise.allSettled(QUEUE_OWNERS.map((service) => ask(service)));
  const answers: { service: QueueOwner; answer: T }[] = [];
  const unreachable: Unreachable[] = [];
  settled.forEach((result, index) => {
    const service = QUEUE_OWNERS[index]!;
    if (result.status === 'fulfilled') answers.push({ service, answer: result.value });
    else unreachable.push({ service, code: failureCode(result.reason), error: result.reason });
  });
  return { answers, unreachable };
}

/** Why a service could not be asked, as an error code of the public API. */
function failureCode(error: unknown): string {
  if (error instanceof RpcError && error.code === status.UNIMPLEMENTED) return 'unimplemented';
  return error instanceof RpcError ? httpErrorFromRpc(error).code : 'internal';
}

const publicUnreachable = (list: { service: string; code: string }[]) =>
  list.map(({ service, code }) => ({ service, code }));
