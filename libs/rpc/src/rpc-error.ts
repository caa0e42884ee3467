import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import type { DomainError, DomainErrorKind } from '@oms/domain';

const REASON_KEY = 'oms-error-reason';
const DETAILS_KEY = 'oms-error-details';
const RETRY_AFTER_KEY = 'oms-retry-after';

/**
 * An error that crosses a service boundary with its gRPC status, a snake_case `reason` the gateway
 * turns into `error.code`, and optional structured details (e.g. which item is out of stock).
 */
export class RpcError extends Error {
  constructor(
    readonly code: status,
    readonly reason: string,
    message: string,
    readonly details: readonly Record<string, unknown>[] = [],
    /** Seconds after which a retry may succeed (breaker half-open time, rate limit window). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'RpcError';
  }

  toStatus(): Partial<StatusObject> {
    const metadata = new Metadata();
    metadata.set(REASON_KEY, this.reason);
    if (this.details.length > 0) metadata.set(DETAILS_KEY, JSON.stringify(this.details));
    if (this.retryAfterSeconds !== undefined) metadata.set(RETRY_AFTER_KEY, String(this.retryAfterSeconds));
    return { code: this.code, details: this.message, metadata };
  }

  /** Reads what a server sent; anything unrecognised keeps its status with a generic reason. */
  static fromServiceError(error: ServiceError): RpcError {
    const reason = error.metadata?.get(REASON_KEY)[0];
    const rawDetails = error.metadata?.get(DETAILS_KEY)[0];
    let details: Record<string, unknown>[] = [];
    if (typeof rawDetails === 'string') {
      try {
        const parsed: unknown = JSON.parse(rawDetails);
        if (Array.isArray(parsed)) details = parsed as Record<string, unknown>[];
      } catch {
        // a malformed details header is dropped, never fatal
      }
    }
    const retryAfter = Number(error.metadata?.get(RETRY_AFTER_KEY)[0]);
    return new RpcError(
      error.code,
      typeof reason === 'string' ? reason : defaultReason(error.code),
      error.details,
      details,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }
}

export function isServiceError(error: unknown): error is ServiceError {
  return (
    error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number' && 'metadata' in error
  );
}

export function defaultReason(code: status): string {
  switch (code) {
    case status.INVALID_ARGUMENT:
      return 'invalid_argument';
    case status.NOT_FOUND:
      return 'not_found';
    case status.ALREADY_EXISTS:
      return 'already_exists';
    case status.FAILED_PRECONDITION:
    case status.ABORTED:
      return 'conflict';
    case status.RESOURCE_EXHAUSTED:
      return 'rate_limited';
    case status.UNAVAILABLE:
      return 'unavailable';
    case status.DEADLINE_EXCEEDED:
      return 'timeout';
    case status.UNAUTHENTICATED:
      return 'unauthenticated';
    case status.PERMISSION_DENIED:
      return 'forbidden';
    default:
      return 'internal';
  }
}

export const invalidArgument = (message: string, details?: Record<string, unknown>[]) =>
  new RpcError(status.INVALID_ARGUMENT, 'invalid_argument', message, details);
export const notFound = (message: string) => new RpcError(status.NOT_FOUND, 'not_found', message);

const CODE_OF_KIND: Record<DomainErrorKind, status> = {
  invalid: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  precondition_failed: status.FAILED_PRECONDITION,
};

/** A domain rule's refusal, as it crosses the wire: the kind picks the status, the rest stays. */
export const fromDomainError = (error: DomainError) =>
  new RpcError(CODE_OF_KIND[error.kind], error.reason, error.message, error.details);
