// The gateway's request spans with a real tracer and a real Fastify server: one SERVER span per
// request, active in the handler after its body was read, child of the caller's traceparent.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { request } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { traceRequests } from './request-tracing';

const exporter = new InMemorySpanExporter();
let app: FastifyInstance;
/** The span active where the handler and the response hooks ran, by request path. */
const activeIn = new Map<string, string | undefined>();
const activeSpanId = () => trace.getActiveSpan()?.spanContext().spanId;

before(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  app = Fastify();
  traceRequests(app);
  app.addHook('onResponse', async (request) => {
    activeIn.set(`response ${request.url}`, activeSpanId());
  });
  app.post('/things/:id', async (request, reply) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    activeIn.set(`handler ${request.url}`, activeSpanId());
    return reply.code(201).send({ got: request.body });
  });
  app.get('/broken', async () => {
    throw new Error('boom');
  });
  app.get('/healthz', async () => {
    activeIn.set('handler /healthz', activeSpanId());
    return { ok: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await app.close();
});

beforeEach(() => {
  exporter.reset();
  activeIn.clear();
});

const url = (path: string) => `http://127.0.0.1:${(app.server.address() as { port: number }).port}${path}`;

/** POSTs `body` in two parts 20 ms apart, so that the server reads it after the request started. */
function postSlowly(path: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = request(url(path), { method: 'POST', headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    sent.on('error', reject);
    const half = Math.floor(body.length / 2);
    sent.write(body.slice(0, half));
    setTimeout(() => sent.end(body.slice(half)), 20);
  });
}

test("a request's span is active in its handler after the body was read, and in the response hooks", async () => {
  const caller = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
  const status = await postSlowly('/things/7?verbose=1', JSON.stringify({ name: 'pizza' }), {
    'content-type': 'application/json',
    traceparent: `00-${caller.traceId}-${caller.spanId}-01`,
  });
  assert.equal(status, 201);
  const [span, ...others] = exporter.getFinishedSpans();
  assert.equal(others.length, 0, 'one span per request');
  assert.equal(span?.name, 'POST /things/:id');
  assert.equal(span?.kind, SpanKind.SERVER);
  assert.equal(span?.spanContext().traceId, caller.traceId, "in the caller's trace");
  assert.equal(span?.parentSpanContext?.spanId, caller.spanId);
  assert.deepEqual(span?.attributes, {
    'http.request.method': 'POST',
    'url.path': '/things/7',
    'http.route': '/things/:id',
    'http.response.status_code': 201,
  });
  assert.equal(activeIn.get('handler /things/7?verbose=1'), span?.spanContext().spanId);
  assert.equal(activeIn.get('response /things/7?verbose=1'), span?.spanContext().spanId);
});

test('a failing request is an error span; probes are not traced', async () => {
  assert.equal((await fetch(url('/broken'))).status, 500);
  assert.equal((await fetch(url('/healthz'))).status, 200);
  const spans = exporter.getFinishedSpans();
  assert.deepEqual(
    spans.map((span) => [span.name, span.status.code]),
    [['GET /broken', SpanStatusCode.ERROR]],
  );
  assert.equal(activeIn.get('handler /healthz'), undefined);
});

test('a request to no route is traced under its method', async () => {
  assert.equal((await fetch(url('/nowhere'), { method: 'DELETE' })).status, 404);
  const [span] = exporter.getFinishedSpans();
  assert.equal(span?.name, 'DELETE');
  assert.equal(span?.attributes['http.response.status_code'], 404);
});
