import type { Collection, Document, Filter, WithId } from 'mongodb';

/**
 * Documents in one of `statuses` whose `dueField` date has passed, and, when none has, the
 * soonest one still to come, so a sweeper can sleep until then (a sweeper that found work comes
 * back at once, so the soonest is not asked for then). One equality query per status: an index on
 * (status, dueField) serves each one, on FerretDB v1 too, which pushes no `$in` down.
 */
export async function findDueByStatus<T extends Document>(
  collection: Collection<T>,
  options: { statuses: readonly string[]; dueField: string; now: Date; limit: number; projection?: Document },
): Promise<{ due: WithId<T>[]; nextDue?: Date }> {
  const { statuses, dueField, now, limit, projection } = options;
  const due: WithId<T>[] = [];
  for (const status of statuses) {
    if (due.length >= limit) break;
    const filter = statusAnd<T>(status, dueField, { $lte: now });
    due.push(...(await collection.find(filter, { limit: limit - due.length, projection }).toArray()));
  }
  if (due.length > 0) return { due };
  let nextDue: Date | undefined;
  for (const status of statuses) {
    const [next] = await collection
      .find(statusAnd<T>(status, dueField, { $gt: now }), { projection: { [dueField]: 1 } })
      .sort({ [dueField]: 1 })
      .limit(1)
      .toArray();
    const at = next?.[dueField] as Date | undefined;
    if (at && (!nextDue || at < nextDue)) nextDue = at;
  }
  return { due, nextDue };
}

/**
 * How long "nothing is due before T" is trusted for work another process wrote: an instance that
 * stopped for good has its lapsed work taken over within this long (a restarted one asks at once).
 */
export const DUE_RECHECK_MS = 5 * 60_000;

export interface DueWorkOptions {
  statuses: readonly string[];
  dueField: string;
  projection?: Document;
  /**
   * How long the answer "nothing is due before T" is trusted for work this process did not write
   * itself (another instance's): the database is asked again after this long even when nothing
   * this process knows of has fallen due. DUE_RECHECK_MS by default.
   */
  recheckMs?: number;
}

/**
 * A sweeper's view of when its collection next has work, so that it asks the database about the
 * future only when it must. The store tells it the due date of each document it writes (`noted`);
 * a query tells it the soonest of the rest. Until that soonest moment, or `recheckMs` after the
 * last query, a round costs nothing. Without it every round of an idle sweeper asks "what is due?"
 * and "when is the next?" of every open document: an index lookup on MongoDB, but a read of every
 * document of the status on FerretDB v1, which pushes no range down (about 2 s of its CPU per
 * query with 9,000 unpaid orders).
 */
export class DueWork<T extends Document> {
  private soonest?: Date;
  private askedAt = Number.NEGATIVE_INFINITY;
  /** The soonest due date noted while a query ran: the query may not have seen its document. */
  private notedDuringQuery?: Date;
  private querying = false;

  constructor(
    private readonly collection: Collection<T>,
    private readonly options: DueWorkOptions,
  ) {}

  /** A document of this process falls due at `at` (call it after the write). */
  noted(at: Date): void {
    this.soonest = earlier(this.soonest, at);
    if (this.querying) this.notedDuringQuery = earlier(this.notedDuringQuery, at);
  }

  /** Due documents at `now` (at most `limit`), and when the next falls due if none is. */
  async find(now: Date, limit: number): Promise<{ due: WithId<T>[]; nextDue?: Date }> {
    const trusted = now.getTime() - this.askedAt < (this.options.recheckMs ?? DUE_RECHECK_MS);
    if (trusted && (this.soonest === undefined || now < this.soonest))
      return { due: [], nextDue: this.soonest };
    this.querying = true;
    this.notedDuringQuery = undefined;
    try {
      const found = await findDueByStatus(this.collection, { ...this.options, now, limit });
      this.askedAt = now.getTime();
      // Work found: more may be due, so the next round asks again.
      this.soonest = found.due.length > 0 ? now : earlier(found.nextDue, this.notedDuringQuery);
      return found.due.length > 0 ? found : { due: [], nextDue: this.soonest };
    } finally {
      this.querying = false;
    }
  }
}

const earlier = (a: Date | undefined, b: Date | undefined): Date | undefined =>
  a === undefined ? b : b === undefined || a <= b ? a : b;

/** The field is named at run time, so the filter is typed by hand. */
const statusAnd = <T extends Document>(status: string, field: string, range: Document): Filter<T> =>
  ({ status, [field]: range }) as unknown as Filter<T>;
