import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { RpcError } from '@oms/rpc';
import { HttpError, httpErrorFromRpc } from './http-errors';
import { toHttpError } from './app';

const rpc = (
  code: status,
  reason: string,
  message = 'backend says so',
  details: Record<string, unknown>[] = [],
  retryAfter?: number,
) => new RpcError(code, reason, message, details, retryAfter);

// [gRPC status, reason sent by the backend, HTTP status, error.code, retry-after]
const TABLE: [status, string, number, string, string | undefined][] = [
  [status.INVALID_ARGUMENT, 'invalid_argument', 400, 'invalid_argument', undefined],
  [status.INVALID_ARGUMENT, 'unknown_item', 400, 'unknown_item', undefined],
  [status.INVALID_ARGUMENT, 'invalid_signature', 400, 'invalid_signature', undefined],
  [status.NOT_FOUND, 'not_found', 404, 'not_found', undefined],
  [status.ALREADY_EXISTS, 'already_exists', 409, 'already_exists', undefined],
  [status.FAILED_PRECONDITION, 'conflict', 409, 'conflict', undefined],
  [status.FAILED_PRECONDITION, 'out_of_stock', 409, 'out_of_stock', undefined],
  [status.FAILED_PRECONDITION, 'not_cancellable', 409, 'not_cancellable', undefined],
  [status.ABORTED, 'conflict', 409, 'conflict', undefined],
  [status.ABORTED, 'concurrent_update', 409, 'concurrent_update', undefined],
  [status.RESOURCE_EXHAUSTED, 'rate_limited', 429, 'rate_limited', '1'],
  [status.UNAVAILABLE, 'unavailable', 503, 'unavailable', '1'],
  [status.DEADLINE_EXCEEDED, 'timeout', 504, 'timeout', undefined],
  [status.UNAUTHENTICATED, 'unauthenticated', 401, 'unauthenticated', undefined],
  [status.PERMISSION_DENIED, 'forbidden', 403, 'forbidden', undefined],
  [status.INTERNAL, 'internal', 500, 'internal', undefined],
  [status.UNKNOWN, 'internal', 500, 'internal', undefined],
  [status.UNIMPLEMENTED, 'internal', 500, 'internal', undefined],
  [status.DATA_LOSS, 'internal', 500, 'internal', undefined],
  [status.CANCELLED, 'internal', 500, 'internal', undefined],
  [status.OUT_OF_RANGE, 'internal', 500, 'internal', undefined],
];

for (const [code, reason, httpStatus, errorCode, retryAfter] of TABLE) {
  test(`gRPC ${status[code]} (reason ${reason}) → ${httpStatus} ${errorCode}`, () => {
    const mapped = httpErrorFromRpc(rpc(code, reason));
    assert.equal(mapped.statusCode, httpStatus);
    assert.equal(mapped.code, errorCode);
    assert.equal(mapped.headers['retry-after'], retryAfter);
  });
}

test('retry-after comes from the error when it knows (open breaker: half-open time)', () => {
  assert.equal(
    httpErrorFromRpc(rpc(status.UNAVAILABLE, 'unavailable', 'order is unavailable (circuit open)', [], 5))
      .headers['retry-after'],
    '5',
  );
  assert.equal(
    httpErrorFromRpc(rpc(status.RESOURCE_EXHAUSTED, 'rate_limited', 'slow down', [], 2.2)).headers[
      'retry-after'
    ],
    '3',
  );
});

test('a precise reason only refines the rows that allow it', () => {
  assert.equal(httpErrorFromRpc(rpc(status.NOT_FOUND, 'order_missing')).code, 'not_found');
  assert.equal(httpErrorFromRpc(rpc(status.UNAVAILABLE, 'db_down')).code, 'unavailable');
  assert.equal(httpErrorFromRpc(rpc(status.INVALID_ARGUMENT, 'Not Snake Case')).code, 'invalid_argument');
});

test('business details pass through with camelCase keys', () => {
  const mapped = httpErrorFromRpc(
    rpc(status.FAILED_PRECONDITION, 'out_of_stock', 'not enough', [
      { item_id: 'margherita', requested: 5, available: 2 },
    ]),
  );
  assert.deepEqual(mapped.body(), {
    error: {
      code: 'out_of_stock',
      message: 'not enough',
      details: [{ itemId: 'margherita', requested: 5, available: 2 }],
    },
  });
});

test('5xx never carry the backend message or details', () => {
  for (const code of [status.INTERNAL, status.UNKNOWN, status.DATA_LOSS]) {
    const mapped = httpErrorFromRpc(
      rpc(code, 'internal', 'mongo at 10.0.0.3 said E11000 password=x', [{ stack: 'at x' }]),
    );
    assert.deepEqual(mapped.body(), { error: { code: 'internal', message: 'internal error' } });
  }
  for (const code of [status.UNAVAILABLE, status.DEADLINE_EXCEEDED]) {
    const body = JSON.stringify(
      httpErrorFromRpc(rpc(code, 'x', 'connect ECONNREFUSED 10.0.0.3:50051', [{ host: '10.0.0.3' }])).body(),
    );
    assert.doesNotMatch(body, /10\.0\.0\.3|ECONNREFUSED/);
  }
});

test('anything that is not an API error becomes a bare 500', () => {
  const mapped = toHttpError(new TypeError("Cannot read properties of undefined (reading 'secret')"));
  assert.equal(mapped.statusCode, 500);
  assert.deepEqual(mapped.body(), { error: { code: 'internal', message: 'internal error' } });
  assert.deepEqual(toHttpError('a string').body(), {
    error: { code: 'internal', message: 'internal error' },
  });
  assert.equal(toHttpError(null).statusCode, 500);
});

test('HttpErrors pass through unchanged', () => {
  const error = new HttpError(422, 'idempotency_key_reused', 'reused');
  assert.equal(toHttpError(error), error);
});
