import type { Db } from 'mongodb';
import { connectDatabase, whileDatabaseStarts, type Database } from '@oms/persistence';

/**
 * The service's own database, connected on first use. The first connection is tried again for a
 * while (a service that starts during a database restart waits for it rather than exiting); one
 * that still fails is forgotten, so the next use tries again instead of failing forever.
 */
export class LazyDatabase {
  private connection?: Promise<Database>;

  constructor(private readonly options: { url: string; service: string; deployment: string }) {}

  db(): Promise<Db> {
    this.connection ??= this.connect().catch((error: unknown) => {
      this.connection = undefined;
      throw error;
    });
    return this.connection.then((connection) => connection.db);
  }

  async close(): Promise<void> {
    if (this.connection) await (await this.connection).close();
  }

  private connect(): Promise<Database> {
    return whileDatabaseStarts(() => connectDatabase(this.options), {
      firstPauseMs: 500,
      retryIf: () => true,
    });
  }
}
