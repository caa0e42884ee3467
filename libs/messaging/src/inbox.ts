import type { Collection, Db } from 'mongodb';
import { ensureIndexes, isDuplicateKeyError } from '@oms/persistence';

interface AppliedEvent {
  /** `<consumer>:<eventId>`: the unique _id is what makes an event count once. */
  _id: string;
  consumer: string;
  eventId: string;
  appliedAt: Date;
}

/**
 * Remembers which events a consumer has applied, so redeliveries, retries and replays — all normal
 * under at-least-once delivery — are skipped. One `inbox` collection per service database; the
 * consumer name (`<service>.<eventType>`, given by `bus.on`) keeps two consumers of one event apart.
 *
 * The record is written after `apply` succeeds, not in one transaction with it (the stores use
 * single-document writes only, which every MongoDB-wire server makes atomic), so:
 * - a crash between apply and record means the event is applied again on redelivery: `apply` must
 *   itself be idempotent — our domain writes carry their precondition in the filter
 *   (`{ _id, status: {$in: [...from]} }` → 'paid'), so a second run matches nothing;
 * - two deliveries of one event running at the same moment both pass the check; those are likewise
 *   serialized by the handlers' conditional writes, and only one record survives (unique _id).
 * The inbox turns "usually applied once" into "a duplicate costs one lookup"; the conditional
 * write is what makes it exactly once. So a delivery that cannot be a repeat from the broker's
 * point of view (its first, not redelivered: `firstDelivery`) skips the lookup: looking up every
 * event cost a database command per event to spare work on the rare duplicate, which the
 * conditional write makes harmless anyway (a copy the outbox relay published twice is such a
 * duplicate, and is applied and recorded again without effect). Records older than
 * INBOX_RETENTION_HOURS are forgotten (`forgetAppliedBefore`, scheduled by the service bootstrap).
 */
export class Inbox {
  private readonly applied: Collection<AppliedEvent>;

  constructor(
    db: Db,
    private readonly consumer: string,
  ) {
    this.applied = db.collection<AppliedEvent>('inbox');
  }

  static async open(db: Db, consumer: string): Promise<Inbox> {
    const inbox = new Inbox(db, consumer);
    // For forgetAppliedBefore(); the _id index already enforces uniqueness.
    await ensureIndexes(inbox.applied, [
      { keys: { consumer: 1, appliedAt: 1 }, options: { name: 'consumer_1_appliedAt_1' } },
    ]);
    return inbox;
  }

  /**
   * Runs `apply` unless this consumer already applied `eventId`; records it after apply succeeds.
   * False when skipped as a duplicate. With `firstDelivery`, the caller knows this is the event's
   * first delivery (see the class comment): `apply` runs without a lookup.
   */
  async once(
    eventId: string,
    apply: () => Promise<void>,
    { firstDelivery = false }: { firstDelivery?: boolean } = {},
  ): Promise<boolean> {
    const _id = `${this.consumer}:${eventId}`;
    if (!firstDelivery && (await this.applied.findOne({ _id }, { projection: { _id: 1 } }))) return false;
    await apply();
    try {
      await this.applied.insertOne({ _id, consumer: this.consumer, eventId, appliedAt: new Date() });
    } catch (error) {
      // A concurrent delivery of the same event recorded it first; apply was idempotent, so all is well.
      if (!isDuplicateKeyError(error)) throw error;
    }
    return true;
  }

  /** FerretDB v1 has no TTL indexes: a periodic job calls this to forget ids older than redelivery can be. */
  async forgetAppliedBefore(cutoff: Date): Promise<number> {
    const { deletedCount } = await this.applied.deleteMany({
      consumer: this.consumer,
      appliedAt: { $lt: cutoff },
    });
    return deletedCount;
  }
}
