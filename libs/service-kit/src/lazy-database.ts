import type { Db } from 'mongodb';
import { connectDatabase, type Database } from '@oms/persistence';

/** How long a connection is tried before the caller hears the database is away. */
const CONNECT_BUDGET_MS = 60_000;

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

  private async connect(): Promise<Database> {
    const deadline = Date.now() + CONNECT_BUDGET_MS;
    for (let pauseMs = 500; ; pauseMs = Math.min(pauseMs * 2, 5000)) {
      try {
        return await connectDatabase(this.options);
      } catch (error) {
        if (Date.now() + pauseMs > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }
  }
}
