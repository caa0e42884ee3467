// A real grpc-js server and client on loopback, with a real tracer: one SERVER span per call, the
// child of the span that was active where the call was made, and nothing on the client side.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status, type Server } from '@grpc/grpc-js';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
import { MenuServiceService } from '@oms/contracts';
import { RpcError, unaryService, type RpcClient } from './index';
import { menuClient, serveMenu } from './loopback.test-support';

const exporter = new InMemorySpanExporter();
let server: Server;
let client: RpcClient<typeof MenuServiceService>;

before(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  let port: number;
  ({ server, port } = await serveMenu(
    unaryService(
      MenuServiceService,
      {
        listItems: async () => {
          // The handler's own work is a child of the server span.
          trace.getTracer('test').startSpan('handler work').end();
          return { items: [] };
        },
        getItem: async () => {
          throw new Error('boom');
        },
        getItems: async () => ({ items: [], missingIds: [] }),
        upsertItem: async (item) => item,
      },
      pino({ level: 'silent' }),
    ),
  ));
  client = menuClient(port, ['listItems']);
});

after(() => {
  client.close();
  server.forceShutdown();
});

test("a call makes one SERVER span, the child of the caller's active span, and the handler's work its child", async () => {
  exporter.reset();
  const caller = trace.getTracer('test').startSpan('caller');
  await context.with(trace.setSpan(context.active(), caller), () => client.listItems({}));
  caller.end();

  const spans = exporter.getFinishedSpans();
  const rpcSpans = spans.filter((span) => span.attributes['rpc.system'] === 'grpc');
  assert.equal(rpcSpans.length, 1, 'one span per call');
  const [serverSpan] = rpcSpans;
  assert.equal(serverSpan!.name, 'grpc.oms.v1.MenuService/ListItems');
  assert.equal(serverSpan!.kind, SpanKind.SERVER);
  assert.equal(serverSpan!.spanContext().traceId, caller.spanContext().traceId);
  assert.equal(serverSpan!.parentSpanContext?.spanId, caller.spanContext().spanId);
  assert.equal(serverSpan!.attributes['rpc.grpc.status_code'], status.OK);
  const work = spans.find((span) => span.name === 'handler work');
  assert.equal(work?.parentSpanContext?.spanId, serverSpan!.spanContext().spanId);
});

test('a failed call ends its span with the status and an error', async () => {
  exporter.reset();
  await assert.rejects(client.getItem({ id: 'x' }), RpcError);

  const [serverSpan] = exporter.getFinishedSpans().filter((span) => span.attributes['rpc.system'] === 'grpc');
  assert.equal(serverSpan?.attributes['rpc.grpc.status_code'], status.INTERNAL);
  assert.equal(serverSpan?.status.code, SpanStatusCode.ERROR);
});
