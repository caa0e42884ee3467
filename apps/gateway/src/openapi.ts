import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';

/**
 * The OpenAPI document is generated from the routes' own schemas, so it must be registered before
 * any route: it collects them as they are added.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Order management system gateway',
        version: '1.0.0',
        description:
          'The public HTTP API of the order management system. Every answer carries `x-request-id` ' +
          '(echoed or generated) and `traceparent` (W3C trace context of the request span). Errors are ' +
          '`{"error":{"code","message","details?"}}`. Bodies are JSON (content-type application/json), at most 64 KiB; ' +
          'unknown fields are rejected. Any route may also answer a request that is not well-formed HTTP (bad bytes ' +
          'in the request line or headers, broken framing, an HTTP/1.1 request without Host) with 400 ' +
          'invalid_argument, request line and headers over 16 KiB with 431 headers_too_large, and a request not ' +
          'received in time with 408 request_timeout.',
      },
      tags: [
        { name: 'health' },
        { name: 'menu' },
        { name: 'orders' },
        { name: 'kitchen' },
        { name: 'webhooks' },
        { name: 'admin', description: 'Bearer ADMIN_TOKEN' },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
}

/** The document itself is not part of the API it describes. */
export function serveOpenApi(app: FastifyInstance): void {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
