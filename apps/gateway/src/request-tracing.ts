import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * One SERVER span per HTTP request, the parent of everything the request does (its gRPC calls,
 * its log lines), child of the caller's `traceparent` if it sent one. Made with three Fastify hooks
 * rather than by @opentelemetry/instrumentation-http, which wraps every request and response
 * emitter so that their listeners run in the request's context, and derives two dozen attributes
 * from each request: in a profile of the bench's tracing scenario, 12 % of the gateway's busy time
 * was OpenTelemetry's own code, about 4 points of it that instrumentation and its emitter binding.
 * Here the request's context is entered once, where it starts, and Fastify's hooks, body parsing
 * and handler carry it on (request-tracing.test.ts sends a body in two parts to check that).
 */

const tracer = trace.getTracer('@oms/gateway');

/** Probes, scrapes and health checks would only add noise to traces. */
const UNTRACED = /^\/(healthz|readyz|metrics)(\?|$)/;

interface TracedRequest {
  span: Span;
  active: Context;
}

export function traceRequests(app: FastifyInstance): void {
  const traced = new WeakMap<FastifyRequest, TracedRequest>();

  app.addHook('onRequest', (request, _reply, done) => {
    if (UNTRACED.test(request.url)) return done();
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url;
    const span = tracer.startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?', 1)[0],
          ...(route ? { 'http.route': route } : {}),
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    traced.set(request, { span, active });
    context.with(active, done);
  });

  // Registered before the others: its span ends when the answer is sent, and the other hooks (the
  // request's log line) run in its context.
  app.addHook('onResponse', (request, reply, done) => {
    const tracedRequest = traced.get(request);
    if (!tracedRequest) return done();
    tracedRequest.span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) tracedRequest.span.setStatus({ code: SpanStatusCode.ERROR });
    tracedRequest.span.end();
    context.with(tracedRequest.active, done);
  });

  app.addHook('onRequestAbort', (request, done) => {
    const tracedRequest = traced.get(request);
    tracedRequest?.span.setStatus({ code: SpanStatusCode.ERROR, message: 'client closed the request' });
    tracedRequest?.span.end();
    done();
  });
}
