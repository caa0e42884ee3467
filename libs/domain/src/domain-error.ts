/**
 * What a domain rule refuses, said without any transport: the gRPC edge (libs/rpc) turns the kind
 * into a status code, the gateway into an HTTP status. `reason` is the stable snake_case code a
 * client may act on (`out_of_stock`, `unknown_item`, ...); `details` say what exactly.
 */
export type DomainErrorKind = 'invalid' | 'not_found' | 'already_exists' | 'precondition_failed';

export type ErrorDetails = Record<string, unknown>[];

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    readonly reason: string,
    message: string,
    readonly details: ErrorDetails = [],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** Input no state of the system could accept. */
export const invalid = (message: string, details?: ErrorDetails, reason = 'invalid_argument') =>
  new DomainError('invalid', reason, message, details);

export const missing = (message: string) => new DomainError('not_found', 'not_found', message);

/** A request that is valid, but not now: the state of the system refuses it. */
export const refused = (reason: string, message: string, details?: ErrorDetails) =>
  new DomainError('precondition_failed', reason, message, details);

export const duplicate = (reason: string, message: string) =>
  new DomainError('already_exists', reason, message);
