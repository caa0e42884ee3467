import type { Collection, Document, Filter, WithId } from 'mongodb';
import { Heap } from 'heap-js';

/**
 * Documents in one of `statuses` whose `dueField` date has passed, at most `limit`. One equality
 * query per status: an index on (status, dueField) serves each one, on FerretDB v1 too, which
 * pushes no `$in` down (nor the range: there it reads every document of the status).
 */
export async function findDue<T extends Document>(
  collection: Collection<T>,
  options: { statuses: readonly string[]; dueField: string; now: Date; limit: number; projection?: Document },
): Promise<WithId<T>[]> {
  const { statuses, dueField, now, limit, projection } = options;
  const due: WithId<T>[] = [];
  for (const status of statuses) {
    if (due.length >= limit) break;
    const filter = statusAnd<T>(status, dueField, { $lte: now });
    due.push(...(await collection.find(filter, { limit: limit - due.length, projection }).toArray()));
  }
  return due;
}

/**
 * How long what a full query saw is trusted for work another process wrote since: an instance
 * that stopped for good has its lapsed work taken over within this long (a restarted one asks at
 * once).
 */
export const DUE_RECHECK_MS = 5 * 60_000;

export interface DueWorkOptions {
  statuses: readonly string[];
  dueField: string;
  projection?: Document;
  /**
   * How long what the last full query saw is trusted for work another process writes after it:
   * the database is asked again after this long. DUE_RECHECK_MS by default.
   */
  recheckMs?: number;
}

/** At most this many coming due dates per status are loaded by a full query; past them it asks again. */
const LOAD_LIMIT = 50_000;

interface KnownDue {
  at: number;
  id: unknown;
  key: string;
}

/**
 * When a collection's work falls due, kept in the process, so that a sweeper reads only what is
 * due. The store tells it of each document it writes (`noted`); a full query now and then (at the
 * first round, every `recheckMs`, and while more is due than a round takes) finds what is due and
 * loads when the rest falls due. In between, a round looks up by `_id` only the documents whose
 * moment has come, and a round with nothing due reads nothing.
 *
 * Asking "what is due?" every round costs an index lookup on MongoDB, but on FerretDB v1, which
 * pushes no range down, it reads every document of the status: about 2 s of its CPU with 9,000
 * unpaid orders, every second while orders lapse.
 */
export class DueWork<T extends Document> {
  private readonly known = new Heap<KnownDue>((a, b) => a.at - b.at);
  /** The due date each known document is held under, so that it is looked up once. */
  private readonly knownAt = new Map<string, number>();
  /** From then on the database may hold due work that was not loaded (more than LOAD_LIMIT came). */
  private unknownFrom?: number;
  private askedAt = Number.NEGATIVE_INFINITY;
  /** The last full query found a round's worth: there may be more. */
  private moreDue = false;

  constructor(
    private readonly collection: Collection<T>,
    private readonly options: DueWorkOptions,
  ) {}

  /** A document this process wrote falls due at `at` (call it after the write). */
  noted(id: unknown, at: Date): void {
    this.know(id, at.getTime());
  }

  /** Due documents at `now` (at most `limit`), and when the next falls due. */
  async find(now: Date, limit: number): Promise<{ due: WithId<T>[]; nextDue?: Date }> {
    const t = now.getTime();
    const stale = t - this.askedAt >= (this.options.recheckMs ?? DUE_RECHECK_MS);
    const due =
      stale || this.moreDue || (this.unknownFrom !== undefined && t >= this.unknownFrom)
        ? await this.askAll(now, limit)
        : await this.lookUpKnown(now, limit);
    const next = Math.min(this.known.peek()?.at ?? Infinity, this.unknownFrom ?? Infinity);
    return { due, nextDue: Number.isFinite(next) ? new Date(next) : undefined };
  }

  private async lookUpKnown(now: Date, limit: number): Promise<WithId<T>[]> {
    const { statuses, dueField, projection } = this.options;
    const due: WithId<T>[] = [];
    for (let next = this.known.peek(); next && next.at <= now.getTime() && due.length < limit;) {
      if (this.knownAt.get(next.key) === next.at) {
        const filter = { _id: next.id, status: { $in: statuses }, [dueField]: { $lte: now } };
        // Taken off only once looked up: a failed lookup is tried again next round.
        const doc = await this.collection.findOne(filter as Filter<T>, { projection });
        if (doc) due.push(doc);
        this.knownAt.delete(next.key);
      }
      this.known.pop();
      next = this.known.peek();
    }
    return due;
  }

  private async askAll(now: Date, limit: number): Promise<WithId<T>[]> {
    const due = await findDue(this.collection, { ...this.options, now, limit });
    for (const doc of due) this.knownAt.delete(String(doc._id));
    this.moreDue = due.length >= limit;
    if (!this.moreDue) await this.loadComing(now);
    return due;
  }

  private async loadComing(now: Date): Promise<void> {
    const { statuses, dueField } = this.options;
    this.unknownFrom = undefined;
    for (const status of statuses) {
      const coming = await this.collection
        .find(statusAnd<T>(status, dueField, { $gt: now }), { projection: { [dueField]: 1 } })
        .sort({ [dueField]: 1 })
        .limit(LOAD_LIMIT)
        .toArray();
      for (const doc of coming) this.know(doc._id, (doc[dueField] as Date).getTime());
      const last = coming.at(-1)?.[dueField] as Date | undefined;
      if (last && coming.length === LOAD_LIMIT)
        this.unknownFrom = Math.min(this.unknownFrom ?? Infinity, last.getTime());
    }
    this.askedAt = now.getTime();
  }

  private know(id: unknown, at: number): void {
    const key = String(id);
    if (this.knownAt.get(key) === at) return;
    this.knownAt.set(key, at);
    this.known.push({ at, id, key });
  }
}

/** The field is named at run time, so the filter is typed by hand. */
const statusAnd = <T extends Document>(status: string, field: string, range: Document): Filter<T> =>
  ({ status, [field]: range }) as unknown as Filter<T>;
