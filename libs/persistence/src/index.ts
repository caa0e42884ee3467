import { MongoClient, type Db } from 'mongodb';

export { isDuplicateKeyError } from './errors';
export { DocumentLocks, LockContentionError } from './document-locks';

export interface Database {
  db: Db;
  close(): Promise<void>;
}

/** Each service owns its database: `<service>_<OMS_ENV>`, e.g. `order_local`. */
export function databaseName(service: string, deployment: string): string {
  return `${service}_${deployment}`.replace(/[^A-Za-z0-9_]/g, '_');
}

export async function connectDatabase(options: {
  url: string;
  service: string;
  deployment: string;
}): Promise<Database> {
  const client = new MongoClient(options.url, {
    appName: options.service,
    serverSelectionTimeoutMS: 5000,
    maxPoolSize: 20,
    // FerretDB v1 has no retryable writes; every write of ours is idempotent by design instead.
    retryWrites: false,
  });
  await client.connect();
  return { db: client.db(databaseName(options.service, options.deployment)), close: () => client.close() };
}
