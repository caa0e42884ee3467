import type { Db } from 'mongodb';
import { connectDatabase, type Database } from '@oms/persistence';

/**
 * The service's own database, connected on first use. A failed first connection is forgotten, so
 * the next use tries again instead of failing forever.
 */
export class LazyDatabase {
  private connection?: Promise<Database>;

  constructor(private readonly options: { url: string; service: string; deployment: string }) {}

  db(): Promise<Db> {
    this.connection ??= connectDatabase(this.options).catch((error: unknown) => {
      this.connection = undefined;
      throw error;
    });
    return this.connection.then((connection) => connection.db);
  }

  async close(): Promise<void> {
    if (this.connection) await (await this.connection).close();
  }
}
