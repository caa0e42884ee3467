import { status } from '@grpc/grpc-js';
import { RpcError } from '@oms/rpc';

export type ErrorDetail = Record<string, unknown>;

/** The one error body of the API, whatever the status. */
export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

/** An error the gateway answers with as is: status, snake_case code, message, details, headers. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  body(): ErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details?.length ? { details: this.details } : {}),
      },
    };
  }
}

export const badRequest = (message: string, details?: ErrorDetail[]) =>
  new HttpError(400, 'invalid_argument', message, details);
export const notFoundError = (message = 'not found') => new HttpError(404, 'not_found', message);
export const internalError = () => new HttpError(500, 'internal', 'internal error');

interface Row {
  http: number;
  code: string;
  /** The backend's `reason` may replace `code` (e.g. `unknown_item`, `out_of_stock`). */
  preciseReason?: boolean;
  /** Fixed message for 5xx: a backend's or the channel's own message never leaks. */
  message?: string;
  retryAfter?: boolean;
  /** A 4xx keeps the backend's business message and details. */
  passDetails?: boolean;
}

/** gRPC status → HTTP, exactly as HTTP-API.md tabulates it. */
const GRPC_TO_HTTP: Partial<Record<status, Row>> = {
  [status.INVALID_ARGUMENT]: { http: 400, code: 'invalid_argument', preciseReason: true, passDetails: true },
  [status.NOT_FOUND]: { http: 404, code: 'not_found', passDetails: true },
  [status.ALREADY_EXISTS]: { http: 409, code: 'already_exists', passDetails: true },
  [status.FAILED_PRECONDITION]: { http: 409, code: 'conflict', preciseReason: true, passDetails: true },
  [status.ABORTED]: { http: 409, code: 'conflict', preciseReason: true, passDetails: true },
  [status.RESOURCE_EXHAUSTED]: {
    http: 429,
    code: 'rate_limited',
    retryAfter: true,
    message: 'too many requests, retry later',
  },
  [status.UNAVAILABLE]: {
    http: 503,
    code: 'unavailable',
    retryAfter: true,
    message: 'a backend service is unavailable, retry later',
  },
  [status.DEADLINE_EXCEEDED]: {
    http: 504,
    code: 'timeout',
    message: 'a backend service did not answer in time',
  },
  [status.UNAUTHENTICATED]: { http: 401, code: 'unauthenticated', message: 'authentication required' },
  [status.PERMISSION_DENIED]: { http: 403, code: 'forbidden', message: 'not allowed' },
};

const SNAKE_CASE_CODE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/** Backends may name detail fields in proto style (`item_id`); the public API is camelCase. */
function camelCaseKeys(detail: ErrorDetail): ErrorDetail {
  return Object.fromEntries(
    Object.entries(detail).map(([key, value]) => [
      key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
      value,
    ]),
  );
}

/** Table-driven mapping of a backend failure to the HTTP answer; anything unknown is a bare 500. */
export function httpErrorFromRpc(error: RpcError): HttpError {
  const row = GRPC_TO_HTTP[error.code];
  if (!row) return internalError();
  const code =
    row.preciseReason && SNAKE_CASE_CODE.test(error.reason) && error.reason !== 'internal'
      ? error.reason
      : row.code;
  const headers: Record<string, string> = {};
  if (row.retryAfter) {
    const seconds =
      error.retryAfterSeconds !== undefined && error.retryAfterSeconds > 0
        ? Math.ceil(error.retryAfterSeconds)
        : 1;
    headers['retry-after'] = String(seconds);
  }
  const message = row.message ?? (error.message || code.replace(/_/g, ' '));
  const details = row.passDetails && error.details.length > 0 ? error.details.map(camelCaseKeys) : undefined;
  return new HttpError(row.http, code, message, details, headers);
}
