import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { RouteContext } from '../route-context';
import { HttpError } from '../http-errors';
import { consoleApiRoutes } from './console-api';
import { consoleStreamRoutes } from './console-stream';

/**
 * The operations console: its bundle under /console (public: code, no data), its API under
 * /console/api (admin token) and its event stream. Outside /v1, so admission control never
 * refuses the people looking at an overloaded system, and a stream holds no request slot.
 */
export async function consoleRoutes(app: FastifyInstance, context: RouteContext) {
  const parts = context.console;
  if (!parts) return;
  await app.register(async (scope) => consoleApiRoutes(scope, context, parts));
  await app.register(async (scope) => consoleStreamRoutes(scope, parts, context.authenticateAdmin));
  await app.register(async (scope) => consoleBundle(scope, parts.bundleDir));
}

/** The page may talk to its own origin only: no CDN, no third-party script, no framing. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

async function consoleBundle(app: FastifyInstance, bundleDir: string | undefined) {
  const index = bundleDir && existsSync(join(bundleDir, 'index.html'));
  const page = index ? readFileSync(join(bundleDir, 'index.html')) : undefined;
  if (bundleDir && index) {
    await app.register(fastifyStatic, {
      root: join(bundleDir, 'assets'),
      prefix: '/console/assets/',
      // File names carry their content hash: a new build is a new name.
      immutable: true,
      maxAge: '365d',
      decorateReply: false,
      index: false,
    });
  }
  const hide = { schema: { hide: true } };
  app.get('/console', hide, (_request, reply) => reply.redirect('/console/', 302));
  // Every other path is a view of the single-page app (orders, an order, traces...): the same page.
  app.get('/console/*', hide, (request, reply) => {
    if (request.url.startsWith('/console/assets/') || request.url.startsWith('/console/api/'))
      throw new HttpError(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
    if (!page)
      throw new HttpError(503, 'unavailable', 'the console is not built: run `npx nx build console`');
    return reply
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .type('text/html; charset=utf-8')
      .send(page);
  });
}
