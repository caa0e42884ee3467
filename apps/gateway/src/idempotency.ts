import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError } from './http-errors';
import type { BeginResult, IdempotencyStore, StoredResponse } from './idempotency-store';

export interface IdempotencyOptions {
  /** How long a key replays its response (HTTP-API.md: at least 24 h). */
  ttlMs: number;
  /** How long a concurrent request with the same key waits for the first one to finish. */
  waitMs?: number;
  /** After this, an unfinished first request is presumed dead and another may take over. */
  leaseMs?: number;
}

interface Warn {
  warn(object: object, message: string): void;
}

export interface IdempotentResult {
  response: StoredResponse;
  replayed: boolean;
}

const MAX_POLL_MS = 250;

/**
 * The Idempotency-Key protocol. The first request claims the key (`in_progress`), produces the
 * response and stores it (`completed`); a repeat with the same body replays it; a repeat with a
 * different body is a 422; a concurrent repeat waits for the first to finish, then replays.
 * A failed request releases the key so the client can retry with it. What makes a crash between
 * "order created" and "response stored" harmless is that the order service deduplicates on a
 * request id derived from the key: whoever produces the response again gets the same order.
 */
export class IdempotencyGuard {
  private readonly ttlMs: number;
  private readonly waitMs: number;
  private readonly leaseMs: number;

  constructor(
    private readonly store: IdempotencyStore,
    options: IdempotencyOptions,
    private readonly logger: Warn,
  ) {
    this.ttlMs = options.ttlMs;
    this.waitMs = options.waitMs ?? 10_000;
    this.leaseMs = options.leaseMs ?? 30_000;
  }

  async run(
    key: string,
    requestHash: string,
    produce: () => Promise<StoredResponse>,
  ): Promise<IdempotentResult> {
    const owner = randomUUID();
    const deadline = Date.now() + this.waitMs;
    const claim = () =>
      this.guard(() =>
        this.store.begin({
          key,
          requestHash,
          owner,
          leaseUntil: new Date(Date.now() + this.leaseMs),
          expiresAt: new Date(Date.now() + this.ttlMs),
        }),
      );
    let result: BeginResult = await claim();
    let pollMs = 20;
    for (;;) {
      if (result.started)
        return { response: await this.produceAsOwner(key, owner, produce), replayed: false };
      const existing = result.existing;
      if (existing.requestHash !== requestHash) {
        throw new HttpError(
          422,
          'idempotency_key_reused',
          'this Idempotency-Key was already used with a different request body',
        );
      }
      if (existing.state === 'completed' && existing.response)
        return { response: existing.response, replayed: true };
      if (existing.leaseUntil.getTime() <= Date.now()) {
        const leaseUntil = new Date(Date.now() + this.leaseMs);
        if (await this.guard(() => this.store.takeOver(key, existing.owner, owner, leaseUntil))) {
          this.logger.warn({ idempotencyKey: key }, 'took over an abandoned idempotent request');
          return { response: await this.produceAsOwner(key, owner, produce), replayed: false };
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new HttpError(
          409,
          'request_in_progress',
          'a request with this Idempotency-Key is still in progress; retry later',
          undefined,
          { 'retry-after': '1' },
        );
      }
      await sleep(Math.min(pollMs, left));
      pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
      const current = await this.guard(() => this.store.get(key));
      // Gone: the first request failed and released the key, so this one claims it.
      result = current ? { started: false, existing: current } : await claim();
    }
  }

  private async produceAsOwner(key: string, owner: string, produce: () => Promise<StoredResponse>) {
    let response: StoredResponse;
    try {
      response = await produce();
    } catch (error) {
      await this.store
        .release(key, owner)
        .catch((releaseError: unknown) =>
          this.logger.warn(
            { err: releaseError, idempotencyKey: key },
            'could not release an idempotency key',
          ),
        );
      throw error;
    }
    try {
      const completed = await this.store.complete(key, owner, response, new Date(Date.now() + this.ttlMs));
      if (!completed)
        this.logger.warn({ idempotencyKey: key }, 'idempotency record was taken over before completion');
    } catch (error) {
      // The response stands: a retry re-derives the same request id and gets the same order.
      this.logger.warn({ err: error, idempotencyKey: key }, 'could not store an idempotent response');
    }
    return response;
  }

  /** The store being down is a 503 for this request, never a 500. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      this.logger.warn({ err: error }, 'idempotency store unavailable');
      throw new HttpError(503, 'unavailable', 'idempotency store unavailable, retry later', undefined, {
        'retry-after': '1',
      });
    }
  }
}
