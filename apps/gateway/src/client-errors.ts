import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { currentTraceparent } from '@oms/telemetry';
import { HttpError } from './http-errors';

/** Node's default limit on the request line and headers together (`--max-http-header-size`). */
export const MAX_HEADER_BYTES = 16 * 1024;

const MALFORMED = () => new HttpError(400, 'invalid_argument', 'malformed HTTP request');

/** Node's parser error codes that deserve an answer other than a plain 400. */
const CLIENT_ERRORS: Record<string, () => HttpError> = {
  HPE_HEADER_OVERFLOW: () =>
    new HttpError(
      431,
      'headers_too_large',
      `request line and headers larger than ${MAX_HEADER_BYTES / 1024} KiB`,
    ),
  ERR_HTTP_REQUEST_TIMEOUT: () =>
    new HttpError(408, 'request_timeout', 'the request was not received in time'),
};

/**
 * A request that Node's HTTP parser refuses (bad bytes in a header, oversized headers, a broken
 * request line or chunked framing) never reaches a route, so Fastify would answer it with a body
 * of its own. It gets the API's error envelope, request id and traceparent like every other
 * answer; there is no request object, so the response is written to the socket by hand.
 */
export function answerClientError(error: { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const httpError = CLIENT_ERRORS[error.code ?? '']?.() ?? MALFORMED();
  const body = JSON.stringify(httpError.body());
  const head = [
    `HTTP/1.1 ${httpError.statusCode} ${STATUS_CODES[httpError.statusCode]}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${randomUUID()}`,
    `traceparent: ${currentTraceparent(undefined)}`,
    'connection: close',
  ];
  // end(), not destroy(): the client may still be sending, and a reset would discard the answer.
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * HTTP/1.1 requires a Host header, possibly empty (RFC 9112 §3.2). Node would refuse its absence with a bare 400
 * of its own, so that check is turned off in the server and made here, inside the API.
 */
export function assertHostHeader(httpVersion: string, host: string | undefined): void {
  if (httpVersion === '1.1' && host === undefined) {
    throw new HttpError(400, 'invalid_argument', 'an HTTP/1.1 request needs a Host header', [
      { in: 'headers', path: '/host', message: 'required' },
    ]);
  }
}
