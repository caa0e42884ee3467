import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ConsoleContext } from '../console/console-context';
import type { BoardUpdate } from '../console/order-board';
import { cookieValue, STREAM_COOKIE } from '../console/stream-pass';
import { HttpError } from '../http-errors';
import { errorResponses } from '../schemas';
import { StreamMessagesSchema } from '../console/console-schemas';

/** A comment line now and then keeps proxies and the browser from taking a quiet stream for a dead one. */
const HEARTBEAT_MS = 15_000;
/** A client this far behind (bytes not yet sent) is cut off; it reconnects and starts from a snapshot. */
const MAX_BACKLOG_BYTES = 1 << 20;

/**
 * GET /console/api/stream: the live board as Server-Sent Events. First a `snapshot` of the latest
 * orders, then an `order` message each time one changes and a `kitchen` message each time a ticket
 * moves. The browser's EventSource sends no Authorization header: the pass cookie from
 * POST /console/api/session admits it (a bearer token does too, for scripts).
 */
export async function consoleStreamRoutes(
  app: FastifyInstance,
  parts: ConsoleContext,
  authenticateAdmin: (authorization: string | undefined) => void,
) {
  app.addSchema(StreamMessagesSchema);
  const streams = new Set<ServerResponse>();
  // Open streams would hold shutdown up: they end first, and their clients reconnect elsewhere.
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });
  app.get(
    '/console/api/stream',
    {
      schema: {
        tags: ['console'],
        summary: 'The live board: Server-Sent Events (snapshot, order, kitchen)',
        description:
          'Admitted by the `oms_console_stream` cookie that POST /console/api/session sets (or a bearer ' +
          'token). Each message is `event: <name>` with JSON `data` as ConsoleStreamMessages describes.',
        response: {
          200: {
            description: 'text/event-stream',
            content: { 'text/event-stream': { schema: Type.Ref('ConsoleStreamMessages') } },
          },
          ...errorResponses(401),
        },
      },
    },
    (request, reply) => {
      admit(parts, authenticateAdmin, request);
      openStream(parts, streams, request, reply);
    },
  );
}

function openStream(
  parts: ConsoleContext,
  streams: Set<ServerResponse>,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  reply.hijack();
  const stream = reply.raw;
  stream.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });
  const send = (event: string, data: unknown) => {
    if (stream.writableLength > MAX_BACKLOG_BYTES) return stream.end();
    stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  send('snapshot', { orders: parts.board.snapshot() });
  const unsubscribe = parts.board.subscribe((update: BoardUpdate) => {
    if (update.kind === 'order') send('order', update.order);
    else send('kitchen', { type: update.type, orderId: update.orderId, at: update.at });
  });
  const heartbeat = setInterval(() => stream.write(': keep-alive\n\n'), HEARTBEAT_MS);
  streams.add(stream);
  stream.once('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
    streams.delete(stream);
  });
}

function admit(
  parts: ConsoleContext,
  authenticateAdmin: (authorization: string | undefined) => void,
  request: FastifyRequest,
): void {
  if (parts.passes.verify(cookieValue(request.headers.cookie, STREAM_COOKIE))) return;
  if (request.headers.authorization) return authenticateAdmin(request.headers.authorization);
  throw new HttpError(
    401,
    'unauthenticated',
    'a stream pass (POST /console/api/session) or the admin token is required',
    undefined,
    { 'www-authenticate': 'Bearer realm="oms-admin"' },
  );
}
