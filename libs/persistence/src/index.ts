import { MongoClient, type Db, type MongoOptions } from 'mongodb';

export { isDatabaseUnavailable, isDuplicateKeyError } from './errors';
export {
  isWriteConflict,
  retryOnConflict,
  WriteConflictError,
  type ConflictRetryOptions,
} from './write-conflicts';
export { DUE_RECHECK_MS, DueWork, type DueWorkOptions } from './due-work';
export { ReadsById, type ReadsByIdOptions } from './reads-by-id';
export { VersionedCollection, withVersionBump, type Versioned } from './versioned-collection';
export {
  ensureIndexes,
  START_UP_DATABASE_BUDGET_MS,
  whileDatabaseStarts,
  type IndexDefinition,
} from './indexes';

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

/**
 * How often the driver looks after each connection pool (tops it up to `minPoolSize`, drops
 * connections idle past `maxIdleTimeMS`). Its default is every 100 ms, in every process, traffic or
 * not. Ours have neither a minimum nor an idle timeout, so each of those wakeups finds nothing to do,
 * and on the 2-core VMs here a wakeup of an idle process costs about 0.35 ms of CPU: ten a second
 * were a third of each service's idle CPU. A connection is still checked when it is checked out.
 */
export const POOL_MAINTENANCE_INTERVAL_MS = 5000;

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
  // The driver takes this option from its parsed options only (it is not a public client option):
  // persistence.test.ts checks that the pool it builds has it, so a driver that drops it is seen.
  (client.options as MongoOptions & { minPoolSizeCheckFrequencyMS: number }).minPoolSizeCheckFrequencyMS =
    POOL_MAINTENANCE_INTERVAL_MS;
  await client.connect();
  return { db: client.db(databaseName(options.service, options.deployment)), close: () => client.close() };
}
