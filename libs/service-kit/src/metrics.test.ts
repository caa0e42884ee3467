import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceMetrics } from './metrics';

test('serves Prometheus metrics with RPC counts, latency and breaker state', async () => {
  const metrics = new ServiceMetrics('order');
  const port = await metrics.listen('127.0.0.1', 0);
  try {
    metrics.observeRpc('createOrder', 'OK', 0.012);
    metrics.observeRpc('createOrder', 'FAILED_PRECONDITION', 0.004);
    metrics.setBreakerState('stock', 'open');
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(response.status, 200);
    const body = await response.text();
    assert.match(body, /oms_rpc_server_requests_total\{method="createOrder",code="OK",service="order"\} 1/);
    assert.match(
      body,
      /oms_rpc_server_requests_total\{method="createOrder",code="FAILED_PRECONDITION",service="order"\} 1/,
    );
    assert.match(body, /oms_rpc_server_duration_seconds_count\{service="order",method="createOrder"\} 2/);
    assert.match(body, /oms_rpc_client_breaker_state\{target="stock",service="order"\} 2/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
  } finally {
    await metrics.close();
  }
});
