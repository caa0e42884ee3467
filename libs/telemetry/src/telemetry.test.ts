import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ORDER_ID_ATTRIBUTE, setOrderId } from './attributes';
import { processIdentity, startTelemetry } from './start-telemetry';

test('setOrderId tags the active span so Jaeger can find it by order.id', () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
    'test',
  );
  const span = tracer.startSpan('work');
  context.with(trace.setSpan(context.active(), span), () => setOrderId('ord_42'));
  span.end();
  assert.equal(exporter.getFinishedSpans()[0]!.attributes[ORDER_ID_ATTRIBUTE], 'ord_42');
});

test('the process identity names the service and is unique per start', async () => {
  const first = startTelemetry('kitchen', { OTEL_SDK_DISABLED: 'true' });
  assert.equal(processIdentity().service, 'kitchen');
  assert.match(first.identity.instance, /^kitchen-.+-\d+-[0-9a-f]{6}$/);
  const second = startTelemetry('kitchen', { OTEL_SDK_DISABLED: 'true' });
  assert.notEqual(first.identity.instance, second.identity.instance);
  await first.shutdown();
});

test('disabled (OTEL_SDK_DISABLED=true), it patches nothing: no instrumentation costs a thing', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the live module object, as instrumentations patch it
  const http = require('node:http') as typeof import('node:http') & Record<string, unknown>;
  const isWrapped = (fn: unknown) => typeof fn === 'function' && '__wrapped' in fn;
  const telemetry = startTelemetry('menu', { OTEL_SDK_DISABLED: 'true' });
  assert.equal(isWrapped(http.request), false, 'http.request is wrapped');
  assert.equal(isWrapped(http.get), false, 'http.get is wrapped');
  await telemetry.shutdown();
});

test('database commands become spans only with TRACE_DB_COMMANDS=true', () => {
  // A process of its own for each start: the SDK patches modules as they load, process-wide.
  const probe = `
    const { startTelemetry } = require(${JSON.stringify(join(__dirname, 'start-telemetry.ts'))});
    const telemetry = startTelemetry('menu', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...JSON.parse(process.argv[1]) });
    const { Connection } = require('mongodb/lib/cmap/connection');
    process.stdout.write(String('__wrapped' in Connection.prototype.command));
    void telemetry.shutdown();`;
  const commandWrapped = (env: Record<string, string>) =>
    execFileSync(process.execPath, ['--import', 'tsx', '-e', probe, JSON.stringify(env)], {
      encoding: 'utf8',
    });
  assert.equal(commandWrapped({}), 'false', 'by default the driver is left alone');
  assert.equal(commandWrapped({ TRACE_DB_COMMANDS: 'true' }), 'true');
});

test('enabled, it leaves outgoing HTTP alone: the one call worth a span (Stripe) makes its own', () => {
  const probe = `
    const { startTelemetry } = require(${JSON.stringify(join(__dirname, 'start-telemetry.ts'))});
    const telemetry = startTelemetry('payment', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    const http = require('node:http');
    const { trace } = require('@opentelemetry/api');
    const recording = trace.getTracer('probe').startSpan('probe').isRecording();
    process.stdout.write(JSON.stringify({ http: '__wrapped' in http.request, recording }));
    void telemetry.shutdown();`;
  const wrapped = JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', '-e', probe], { encoding: 'utf8' }),
  ) as { http: boolean; recording: boolean };
  assert.deepEqual(wrapped, { http: false, recording: true }, 'the SDK started: spans record');
});
