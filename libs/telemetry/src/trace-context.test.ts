import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type TextMapGetter,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  captureTraceContext,
  currentTraceparent,
  extractTraceContext,
  injectTraceContext,
  traceIdFromTraceparent,
  withCapturedTraceContext,
} from './trace-context';

// What the SDK registers in a service.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const sampledSpan = trace.wrapSpanContext({
  traceId: TRACE_ID,
  spanId: SPAN_ID,
  traceFlags: TraceFlags.SAMPLED,
});
const inSpan = <R>(work: () => R): R => context.with(trace.setSpan(ROOT_CONTEXT, sampledSpan), work);
const activeTraceId = () => trace.getActiveSpan()?.spanContext().traceId;

test('a captured trace context is continued later, outside the span that captured it', async () => {
  const carrier = inSpan(() => captureTraceContext());
  assert.deepEqual(carrier, { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` });
  assert.equal(activeTraceId(), undefined);
  const seen = await withCapturedTraceContext(carrier, async () => activeTraceId());
  assert.equal(seen, TRACE_ID);
});

test('work with no captured context runs as it is', () => {
  assert.deepEqual(captureTraceContext(), {});
  assert.equal(
    withCapturedTraceContext({}, () => activeTraceId()),
    undefined,
  );
  assert.equal(
    inSpan(() => withCapturedTraceContext(undefined, () => activeTraceId())),
    TRACE_ID,
  );
});

test('any carrier works through its own getter, e.g. one whose values are Buffers', () => {
  const headers = injectTraceContext<Record<string, unknown>>({}, trace.setSpan(ROOT_CONTEXT, sampledSpan));
  const asBuffers = Object.fromEntries(
    Object.entries(headers).map(([key, value]) => [key, Buffer.from(String(value))]),
  );
  const bufferGetter: TextMapGetter<Record<string, unknown>> = {
    keys: (carrier) => Object.keys(carrier),
    get: (carrier, key) => (Buffer.isBuffer(carrier[key]) ? carrier[key].toString('utf8') : undefined),
  };
  const parent = trace.getSpanContext(extractTraceContext(asBuffers, bufferGetter));
  assert.equal(parent?.traceId, TRACE_ID);
  assert.equal(parent?.spanId, SPAN_ID);
  assert.equal(parent?.isRemote, true);
});

test('the trace id is read from a valid traceparent only', () => {
  assert.equal(traceIdFromTraceparent(`00-${TRACE_ID}-${SPAN_ID}-01`), TRACE_ID);
  assert.equal(traceIdFromTraceparent(` 00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-00 `), TRACE_ID);
  // A later version may append fields; version 00 may not.
  assert.equal(traceIdFromTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01-more`), TRACE_ID);
  assert.equal(traceIdFromTraceparent(`00-${TRACE_ID}-${SPAN_ID}-01-more`), '');
  assert.equal(traceIdFromTraceparent(`ff-${TRACE_ID}-${SPAN_ID}-01`), '');
  assert.equal(traceIdFromTraceparent(`00-${'0'.repeat(32)}-${SPAN_ID}-01`), '');
  assert.equal(traceIdFromTraceparent(`00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`), '');
  assert.equal(traceIdFromTraceparent(undefined), '');
});

test('the current traceparent is the active span, else keeps the caller trace id unsampled', () => {
  assert.equal(
    inSpan(() => currentTraceparent('00-11111111111111111111111111111111-2222222222222222-01')),
    `00-${TRACE_ID}-${SPAN_ID}-01`,
  );
  const kept = currentTraceparent(`00-${TRACE_ID}-${SPAN_ID}-01`);
  assert.match(kept, new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
  assert.notEqual(kept.split('-')[2], SPAN_ID);
  const fresh = currentTraceparent('not-a-traceparent');
  assert.match(fresh, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  assert.notEqual(fresh.split('-')[1], currentTraceparent(undefined).split('-')[1]);
});

test('a made-up traceparent never has the all-zero ids W3C calls invalid', (t) => {
  t.mock.method(Math, 'random', () => 0);
  const made = currentTraceparent(undefined);
  assert.match(made, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  assert.notEqual(traceIdFromTraceparent(made), '');
  assert.notEqual(made.split('-')[2], '0'.repeat(16));
});

test('@oms/telemetry/api loads no part of the SDK (libraries import it for that)', () => {
  const root = resolve(__dirname, '../../..');
  const loaded = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "require('@oms/telemetry/api'); console.log(JSON.stringify(Object.keys(require.cache)))",
    ],
    { cwd: root, encoding: 'utf8' },
  );
  const modules = JSON.parse(loaded) as string[];
  assert.ok(
    modules.some((path) => path.endsWith('trace-context.ts')),
    'the check sees the modules api.ts loads',
  );
  assert.deepEqual(
    modules.filter((path) => /@opentelemetry[\\/](sdk-|exporter-|instrumentation)/.test(path)),
    [],
  );
});
