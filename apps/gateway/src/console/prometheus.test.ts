import { test } from 'node:test';
import assert from 'node:assert/strict';
import { breakerStates, figuresBetween, parsePrometheus, quantileMs, requestCounters } from './prometheus';

const scrape = (ok: number, unavailable: number, buckets: [string, number][]) => `
# HELP oms_rpc_server_requests_total gRPC requests served
# TYPE oms_rpc_server_requests_total counter
oms_rpc_server_requests_total{method="GetOrder",code="OK",service="order"} ${ok}
oms_rpc_server_requests_total{method="GetOrder",code="NOT_FOUND",service="order"} 5
oms_rpc_server_requests_total{method="CreateOrder",code="UNAVAILABLE",service="order"} ${unavailable}
${buckets.map(([le, count]) => `oms_rpc_server_duration_seconds_bucket{le="${le}",method="GetOrder",service="order"} ${count}`).join('\n')}
oms_rpc_client_breaker_state{target="stock",service="order"} 2
oms_rpc_client_breaker_state{target="menu",service="order"} 0
process_start_time_seconds{service="order"} 1000
`;

test('parses samples with their labels, escapes included', () => {
  const [sample] = parsePrometheus('x_total{a="1",b="say \\"hi\\""} 3.5 1700000000\n# a comment');
  assert.deepEqual(sample, { name: 'x_total', labels: { a: '1', b: 'say "hi"' }, value: 3.5 });
});

test('rate, server errors (not business answers) and p99 between two scrapes', () => {
  const earlier = requestCounters(
    parsePrometheus(
      scrape(10, 0, [
        ['0.01', 10],
        ['0.1', 15],
        ['+Inf', 15],
      ]),
    ),
    2_000_000,
  );
  const later = requestCounters(
    parsePrometheus(
      scrape(105, 5, [
        ['0.01', 10],
        ['0.1', 115],
        ['+Inf', 115],
      ]),
    ),
    2_010_000,
  );
  const figures = figuresBetween(earlier, later);
  assert.equal(figures.windowSeconds, 10);
  assert.equal(figures.rate, 10); // 95 OK + 5 UNAVAILABLE in 10 s; NOT_FOUND unchanged
  assert.equal(figures.errorRate, 0.05);
  // All 100 new observations fell in (0.01, 0.1]: the 99th is 99 % of the way through that bucket.
  assert.ok(Math.abs(figures.p99Ms! - 99.1) < 0.01, String(figures.p99Ms));
});

test('the first scrape counts from the start of the process', () => {
  const counters = requestCounters(
    parsePrometheus(
      scrape(20, 0, [
        ['0.01', 20],
        ['+Inf', 20],
      ]),
    ),
    1_010_000,
  );
  const figures = figuresBetween(undefined, counters);
  assert.equal(figures.windowSeconds, 10);
  assert.equal(figures.rate, 2.5); // 20 OK + 5 NOT_FOUND since the start
  assert.equal(figures.errorRate, 0);
});

test('no request, no error rate and no p99; above the last bucket, its bound', () => {
  const idle = requestCounters([], 1);
  assert.deepEqual([figuresBetween(idle, idle).errorRate, figuresBetween(idle, idle).p99Ms], [null, null]);
  assert.equal(
    quantileMs(
      [
        [0.5, 1],
        [Infinity, 100],
      ],
      0.99,
    ),
    500,
  );
});

test('breaker states by target', () => {
  assert.deepEqual(breakerStates(parsePrometheus(scrape(0, 0, []))), [
    { target: 'menu', state: 'closed' },
    { target: 'stock', state: 'open' },
  ]);
});
