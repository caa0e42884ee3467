// Checkout against the local stack's stripe-mock: each request to Stripe is a CLIENT span of the
// trace that asked for it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ORDER_ID_ATTRIBUTE } from '@oms/telemetry/api';
import { ensureStack, stackAddresses } from '@oms/testing';
import { Checkout, stripeConnection } from './checkout';

const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();
let apiUrl: URL;

before(async () => {
  await ensureStack();
  apiUrl = new URL((await stackAddresses()).STRIPE_API_URL!);
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
});

after(() => {
  trace.disable();
  context.disable();
});

function checkoutAgainst(url: URL): Checkout {
  const stripe = new Stripe('sk_test_checkout', {
    ...stripeConnection(url),
    maxNetworkRetries: 0,
    timeout: 2000,
  });
  return new Checkout(stripe, {
    apiUrl: url,
    successUrl: 'http://127.0.0.1:8080/paid?order={ORDER_ID}',
    cancelUrl: 'http://127.0.0.1:8080/cancelled?order={ORDER_ID}',
  });
}

const payment = (orderId: string) => ({
  _id: orderId,
  customerId: 'c1',
  currency: 'usd',
  items: [{ itemId: 'margherita', name: 'Margherita', quantity: 2, unitPriceCents: 1250 }],
});

/** Runs `work` inside a parent span, as a consumer's or an RPC's span would be; returns the trace id. */
async function inParentSpan(work: () => Promise<unknown>): Promise<{ traceId: string; spanId: string }> {
  const parent = trace.getTracer('test').startSpan('order.created process');
  try {
    await context.with(trace.setSpan(context.active(), parent), work);
  } catch {
    // the spans are what this test looks at
  } finally {
    parent.end();
  }
  return parent.spanContext();
}

const stripeSpans = (traceId: string) =>
  exporter
    .getFinishedSpans()
    .filter((span) => span.spanContext().traceId === traceId && span.kind === SpanKind.CLIENT);

test("a Checkout Session's request to Stripe is a CLIENT span of the trace that asked for it", async () => {
  const checkout = checkoutAgainst(apiUrl);
  let session: { id: string; url: string } | undefined;
  const parent = await inParentSpan(async () => {
    session = await checkout.createSession(payment('ord_traced'));
  });
  assert.match(session?.id ?? '', /^cs_/);

  const [span, ...others] = stripeSpans(parent.traceId);
  assert.equal(others.length, 0, 'one request, one span');
  assert.equal(span!.name, 'POST /v1/checkout/sessions');
  assert.equal(span!.parentSpanContext?.spanId, parent.spanId);
  assert.deepEqual(span!.attributes, {
    'http.request.method': 'POST',
    'url.template': '/v1/checkout/sessions',
    'server.address': apiUrl.hostname,
    'server.port': Number(apiUrl.port),
    [ORDER_ID_ATTRIBUTE]: 'ord_traced',
    'http.response.status_code': 200,
  });
  assert.equal(span!.status.code, SpanStatusCode.UNSET);
});

test('each attempt against an unreachable Stripe is a span of its own, marked as an error', async () => {
  const unreachable = new URL('http://127.0.0.1:9');
  const parent = await inParentSpan(() => checkoutAgainst(unreachable).createSession(payment('ord_down')));

  const spans = stripeSpans(parent.traceId);
  assert.equal(spans.length, 3, 'the first attempt and two retries');
  for (const span of spans) {
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], 'StripeConnectionError');
    assert.equal(span.attributes['http.response.status_code'], undefined);
    assert.equal(span.attributes['server.port'], 9);
    assert.equal(span.events[0]?.name, 'exception');
  }
});
