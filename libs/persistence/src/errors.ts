import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerClosedError,
  MongoServerSelectionError,
  MongoServerError,
  MongoTopologyClosedError,
} from 'mongodb';

export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}

/**
 * The database could not be reached: no server to select, a connection lost or refused, a pool
 * cleared after such a failure (a network error too). The same call may succeed once it is back,
 * so callers answer "unavailable, retry later", not an internal error.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoServerClosedError ||
    error instanceof MongoTopologyClosedError
  );
}
