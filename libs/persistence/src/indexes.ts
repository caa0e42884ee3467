import type { Collection, CreateIndexesOptions, Document, IndexSpecification } from 'mongodb';
import { isDatabaseUnavailable } from './errors';

/** One index of a store's collection: its keys, and options such as `name` or `unique`. */
export interface IndexDefinition {
  keys: IndexSpecification;
  options?: CreateIndexesOptions;
}

/** How long start-up waits for a database that is away before the service gives up. */
export const START_UP_DATABASE_BUDGET_MS = 60_000;

/**
 * Runs a start-up database command again while the database is away (a restart, a network
 * blip), with a growing pause, for up to `budgetMs`; any other error, or the last one once the
 * budget is spent, goes to the caller. A service's first connection already waits like this
 * (LazyDatabase); without the same for the commands after it, a service started during a database
 * restart connected, then exited at its first createIndex.
 */
export async function whileDatabaseStarts<T>(
  command: () => Promise<T>,
  {
    budgetMs = START_UP_DATABASE_BUDGET_MS,
    firstPauseMs = 250,
    /** Which errors are tried again (a first connection tries again on any). */
    retryIf = isDatabaseUnavailable,
  }: { budgetMs?: number; firstPauseMs?: number; retryIf?: (error: unknown) => boolean } = {},
): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let pauseMs = firstPauseMs; ; pauseMs = Math.min(pauseMs * 2, 5000)) {
    try {
      return await command();
    } catch (error) {
      if (!retryIf(error) || Date.now() + pauseMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/**
 * Makes a store's indexes at start-up, one command per index (FerretDB v1 drops the connection on
 * a repeated multi-index createIndexes), each waiting out a database restart.
 */
export async function ensureIndexes<TSchema extends Document>(
  collection: Collection<TSchema>,
  indexes: readonly IndexDefinition[],
  options: { budgetMs?: number; firstPauseMs?: number } = {},
): Promise<void> {
  for (const { keys, options: indexOptions } of indexes) {
    await whileDatabaseStarts(() => collection.createIndex(keys, indexOptions), options);
  }
}
