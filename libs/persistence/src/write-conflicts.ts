import { setTimeout as delay } from 'node:timers/promises';
import { MongoServerError } from 'mongodb';
import { isDuplicateKeyError } from './errors';

/** MongoDB's own code for two writers of one document (seen by callers inside transactions). */
const WRITE_CONFLICT_CODE = 112;
/**
 * PostgreSQL's serialization failure. The local stack's FerretDB raises it from its version check
 * (a trigger that refuses an update whose `v` is not the stored one + 1); FerretDB passes the
 * message through, with the SQLSTATE in it.
 */
const SERIALIZATION_FAILURE = /SQLSTATE 40001/;

/** True when a write lost a race for its document and may simply be run again. */
export function isWriteConflict(error: unknown): boolean {
  if (!(error instanceof MongoServerError)) return false;
  return (
    error.code === WRITE_CONFLICT_CODE ||
    error.hasErrorLabel('TransientTransactionError') ||
    SERIALIZATION_FAILURE.test(error.message)
  );
}

export interface ConflictRetryOptions {
  /** Gives up after this many runs. Default 60. */
  maxAttempts?: number;
  /** Gives up once this much time has passed. Default 10 s. */
  budgetMs?: number;
  /** Longest pause between two runs. Default 40 ms. */
  maxDelayMs?: number;
  /** An upsert that raced another upsert of the same key is run again (the document now exists). */
  retryDuplicateKey?: boolean;
}

export class WriteConflictError extends Error {
  constructor(attempts: number, cause: unknown) {
    super(`write still conflicting after ${attempts} attempts`, { cause });
    this.name = 'WriteConflictError';
  }
}

/**
 * The one place that knows writes can conflict. A single-document write whose filter carries its
 * precondition is safe to run again: it re-reads the document and either applies to the new state
 * or matches nothing. Runs `write` until it does not conflict, with full-jitter exponential backoff
 * so that writers of one hot document spread out instead of colliding again in lockstep.
 */
export async function retryOnConflict<T>(
  write: () => Promise<T>,
  options: ConflictRetryOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 60;
  const deadline = Date.now() + (options.budgetMs ?? 10_000);
  const maxDelayMs = options.maxDelayMs ?? 40;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const retryable =
        isWriteConflict(error) || (options.retryDuplicateKey === true && isDuplicateKeyError(error));
      if (!retryable) throw error;
      if (attempt >= maxAttempts || Date.now() >= deadline) throw new WriteConflictError(attempt, error);
      await delay(Math.random() * Math.min(maxDelayMs, 2 ** attempt));
    }
  }
}
