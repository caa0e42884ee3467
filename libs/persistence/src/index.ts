import { MongoClient, type Db } from 'mongodb';

export { isDatabaseUnavailable, isDuplicateKeyError } from './errors';
export {
  isWriteConflict,
  retryOnConflict,
  WriteConflictError,
  type ConflictRetryOptions,
} from './write-conflicts';
export { findDueByStatus } from './due-work';
export { VersionedCollection, withVersionBump, type Versioned } from './versioned-collection';

export interface Database {
  db: Db;
  close(): Promise<void>;
}

/** Each service owns its database: `<service>_<OMS_ENV>`, e.g. `order_local`. */
export function databaseName(service: string, deployment: string): string {
  return `${service}_${deployment}`.replace(/[^A-Za-z0-9_]/g, '_');
}

/**
 * Connections per process. Small on purpose: every command of ours is a short single-document
 * operation, and the local stack's FerretDB must have more PostgreSQL connections than all its
 * clients' pools together (see tools/stack), or its pool can deadlock.
 */
export const DEFAULT_POOL_SIZE = 10;

export async function connectDatabase(options: {
  url: string;
  service: string;
  deployment: string;
  poolSize?: number;
}): Promise<Database> {
  const client = new MongoClient(options.url, {
    appName: options.service,
    serverSelectionTimeoutMS: 5000,
    maxPoolSize: options.poolSize ?? DEFAULT_POOL_SIZE,
    // FerretDB v1 has no retryable writes; every write of ours is idempotent by design instead.
    retryWrites: false,
  });
  await client.connect();
  return { db: client.db(databaseName(options.service, options.deployment)), close: () => client.close() };
}
