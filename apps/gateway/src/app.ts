import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from '@oms/logging';
import { RpcError } from '@oms/rpc';
import { createAdminAuth } from './admin-auth';
import { answerClientError, assertHostHeader } from './client-errors';
import { registerAdmission, wasRefused, type GatewayAdmission } from './admission';
import type { Readiness, RouteContext } from './route-context';
import type { Backends } from './backends';
import { HttpError, httpErrorFromRpc, internalError, type ErrorDetail } from './http-errors';
import { IdempotencyGuard, type IdempotencyOptions } from './idempotency';
import type { IdempotencyStore } from './idempotency-store';
import { registerOpenApi, serveOpenApi } from './openapi';
import { SHARED_SCHEMAS } from './schemas';
import { traceRequests } from './request-tracing';
import { currentTraceparent } from '@oms/telemetry';
import { adminRoutes } from './routes/admin';
import { healthRoutes } from './routes/health';
import { kitchenRoutes } from './routes/kitchen';
import { menuRoutes } from './routes/menu';
import { orderRoutes } from './routes/orders';
import { webhookRoutes } from './routes/webhooks';
import { consoleRoutes } from './routes/console';
import type { ConsoleContext } from './console/console-context';

export const BODY_LIMIT_BYTES = 64 * 1024;
const MAX_PARAM_LENGTH = 256;

/** Everything the HTTP layer needs, injected so tests can hand in fakes. */
export interface GatewayDependencies {
  logger: Logger;
  backends: Backends;
  idempotencyStore: IdempotencyStore;
  idempotency: IdempotencyOptions;
  adminToken: string;
  /** Request metrics per route (Prometheus, served by the bootstrap). */
  observeHttp?: (route: string, method: string, statusCode: number, seconds: number) => void;
  readiness: Readiness;
  /** Concurrency limits of /v1 requests; none admits everything (unit tests). */
  admission?: GatewayAdmission;
  /** The operations console under /console; none serves no console (unit tests). */
  console?: ConsoleContext;
}

/**
 * Builds the gateway's Fastify instance: strict validation at the edge (closed schemas, no type
 * coercion of bodies), one error shape, request id and traceparent on every answer, OpenAPI from
 * the same schemas.
 */
export async function buildApp(deps: GatewayDependencies): Promise<FastifyInstance> {
  const app = createServer(deps.logger);
  traceRequests(app);
  acceptJsonBodiesOnly(app);
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  await registerOpenApi(app);
  registerHooks(app, deps);
  registerErrorReplies(app);
  await registerRoutes(app, deps);
  serveOpenApi(app);
  await app.ready();
  return app;
}

function createServer(logger: Logger): FastifyInstance {
  return Fastify({
    // A pino Logger is a FastifyBaseLogger; widening keeps FastifyInstance's default type parameters.
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Requests still arriving on open connections while closing are served (and told to reconnect).
    return503OnClosing: false,
    requestIdHeader: false,
    genReqId: (raw) => {
      const given = raw.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: {
      // Unknown fields are errors (not dropped), every problem is reported, and bodies are never
      // coerced ("2" is not a quantity); query strings are converted per route (see coerceQuery).
      customOptions: { removeAdditional: false, allErrors: true, coerceTypes: false, useDefaults: true },
    },
    frameworkErrors: (error, request, reply) => {
      void sendError(error, request, reply);
    },
    clientErrorHandler: answerClientError,
    // Node would answer a missing Host with a bare 400 before Fastify sees the request.
    http: { requireHostHeader: false },
  });
}

/** Fastify's text/plain parser is removed so a JSON body sent with another type is a 415. */
function acceptJsonBodiesOnly(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // An empty body counts as no body (e.g. `POST .../cancel` sent with a JSON content type).
    const text = body as string; // parseAs: 'string'
    if (text === '') return done(null, undefined);
    parseJson(request, text, done);
  });
}

function registerHooks(app: FastifyInstance, deps: GatewayDependencies): void {
  app.addHook('onRequest', async (request, reply) => {
    stampRequest(request, reply);
    assertHostHeader(request.raw.httpVersion, request.headers.host);
  });
  if (deps.admission)
    registerAdmission(app, deps.admission, (error, _request, reply) =>
      reply
        .code(error.statusCode)
        .headers(error.headers)
        .type('application/json; charset=utf-8')
        .send(error.body()),
    );
  app.addHook('onSend', async (_request, reply, payload) => {
    // While shutting down, keep-alive clients are told to reconnect (to another instance).
    if (deps.readiness.isShuttingDown()) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.observeHttp?.(
      request.routeOptions.url ?? 'unmatched',
      request.method,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    logCompletedRequest(request, reply);
  });
}

function logCompletedRequest(request: FastifyRequest, reply: FastifyReply): void {
  // A storm of refusals would be a storm of log lines: they are counted instead.
  if (wasRefused(request)) return;
  const quiet = request.url === '/healthz' || request.url === '/readyz';
  // Only method, path and status: headers (Authorization, Stripe-Signature) and bodies are never logged.
  request.log[quiet ? 'debug' : 'info'](
    {
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime),
    },
    'request completed',
  );
}

function registerErrorReplies(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendError(
      new HttpError(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`),
      request,
      reply,
    ),
  );
}

const ROUTE_MODULES = [
  healthRoutes,
  menuRoutes,
  orderRoutes,
  kitchenRoutes,
  webhookRoutes,
  adminRoutes,
  consoleRoutes,
];

/** Each route module is a plugin of its own, so its hooks and parsers (admin auth, raw webhook bodies) stay inside it. */
async function registerRoutes(app: FastifyInstance, deps: GatewayDependencies): Promise<void> {
  const context: RouteContext = {
    backends: deps.backends,
    idempotency: new IdempotencyGuard(deps.idempotencyStore, deps.idempotency, deps.logger),
    authenticateAdmin: createAdminAuth(deps.adminToken),
    readiness: deps.readiness,
    console: deps.console,
  };
  for (const routes of ROUTE_MODULES) await app.register(async (scope) => routes(scope, context));
}

function stampRequest(request: FastifyRequest, reply: FastifyReply): void {
  if (!reply.hasHeader('x-request-id')) reply.header('x-request-id', request.id);
  if (!reply.hasHeader('traceparent')) {
    const incoming = request.headers.traceparent;
    reply.header('traceparent', currentTraceparent(typeof incoming === 'string' ? incoming : undefined));
  }
}

function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const httpError = toHttpError(error);
  if (httpError.statusCode >= 500) {
    const expected = error instanceof HttpError || error instanceof RpcError;
    const rpc =
      error instanceof RpcError
        ? { rpcCode: error.code, rpcReason: error.reason, rpcMessage: error.message }
        : {};
    request.log[expected ? 'warn' : 'error'](
      { err: error, ...rpc, statusCode: httpError.statusCode },
      'request failed',
    );
  }
  stampRequest(request, reply);
  return reply
    .code(httpError.statusCode)
    .headers(httpError.headers)
    .type('application/json; charset=utf-8')
    .send(httpError.body());
}

/** Any failure → the documented error answer; nothing unexpected ever leaks. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof RpcError) return httpErrorFromRpc(error);
  const fastifyError = error as Partial<FastifyError> | null;
  if (fastifyError?.validation) {
    const part = fastifyError.validationContext ?? 'body';
    return new HttpError(
      400,
      'invalid_argument',
      part === 'body' ? 'invalid request body' : `invalid request ${part}`,
      validationDetails(fastifyError.validation, part),
    );
  }
  const known = fastifyError?.code ? FASTIFY_ERRORS[fastifyError.code] : undefined;
  if (known) return known();
  const statusCode = fastifyError?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new HttpError(
      statusCode,
      GENERIC_4XX[statusCode] ?? 'bad_request',
      'the request cannot be served',
    );
  }
  return internalError();
}

interface AjvLikeError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Ajv errors → `details: [{path, message}]` with JSON-pointer paths (`in` names non-body parts). */
export function validationDetails(errors: readonly AjvLikeError[], part: string): ErrorDetail[] {
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  for (const error of errors) {
    let path = error.instancePath ?? '';
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties') {
      path = `${path}/${escapePointer(String(error.params.additionalProperty))}`;
      message = 'unknown field';
    } else if (error.keyword === 'required') {
      path = `${path}/${escapePointer(String(error.params.missingProperty))}`;
      message = 'required';
    }
    const detail: ErrorDetail = part === 'body' ? { path, message } : { in: part, path, message };
    const fingerprint = JSON.stringify(detail);
    if (seen.has(fingerprint)) continue;
    seen.add(fingerprint);
    details.push(detail);
    if (details.length === MAX_VALIDATION_DETAILS) break;
  }
  return details;
}

/** An incoming x-request-id is echoed only when it is a sane token (no header injection, bounded). */
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
const MAX_VALIDATION_DETAILS = 20;

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

const FASTIFY_ERRORS: Record<string, () => HttpError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new HttpError(413, 'payload_too_large', `request body larger than ${BODY_LIMIT_BYTES / 1024} KiB`),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new HttpError(
      415,
      'unsupported_media_type',
      'request bodies must be sent as content-type application/json',
    ),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new HttpError(400, 'invalid_json', 'request body is not valid JSON'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new HttpError(400, 'invalid_json', 'request body is empty'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new HttpError(400, 'invalid_argument', 'request body size does not match content-length'),
  FST_ERR_BAD_URL: () => new HttpError(400, 'invalid_argument', 'malformed URL'),
  // Every path parameter is at most 255 characters by its schema: a longer one is the same 400.
  FST_ERR_MAX_PARAM_LENGTH: () =>
    new HttpError(400, 'invalid_argument', 'invalid request params', [
      { in: 'params', path: '', message: `a path parameter is longer than ${MAX_PARAM_LENGTH} characters` },
    ]),
};

const GENERIC_4XX: Record<number, string> = {
  400: 'invalid_argument',
  404: 'not_found',
  405: 'method_not_allowed',
};
