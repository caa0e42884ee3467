import type { MongoClient } from 'mongodb';

/**
 * Writes to one document from one process, one after another.
 *
 * FerretDB v1 applies an update by reading the document, changing it in Go and writing it back;
 * the local stack's version check turns two such writers of one document into a conflict, and
 * retryOnConflict runs the loser again. N writers of one hot document (every order of the same
 * pizza reserves on its stock record) then cost O(N²) attempts, each several commands and a
 * PostgreSQL transaction. Taking turns inside the process leaves conflicts only between
 * processes. MongoDB serialises the writers of a document itself, so against it no write waits in the
 * process (see `serverNeedsTurns`).
 */
export class DocumentTurns {
  /** The last write queued per document; a document is forgotten once its queue empties. */
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `write` after the writes of `documentKey` queued before it (in any outcome). */
  run<T>(documentKey: string | undefined, write: () => Promise<T>): Promise<T> {
    if (documentKey === undefined) return write();
    const before = this.tails.get(documentKey);
    const result = before ? before.then(write, write) : write();
    const tail = result.catch(() => undefined);
    this.tails.set(documentKey, tail);
    void tail.then(() => {
      if (this.tails.get(documentKey) === tail) this.tails.delete(documentKey);
    });
    return result;
  }

  /** How many documents have writes queued or running (for tests and metrics). */
  get busyDocuments(): number {
    return this.tails.size;
  }
}

/** The document a single-document filter names by `_id` equality, as a key; otherwise undefined. */
export function documentKeyOf(filter: object): string | undefined {
  const id: unknown = (filter as { _id?: unknown })._id;
  if (typeof id === 'string') return `s:${id}`;
  if (typeof id === 'number') return `n:${id}`;
  if (
    id !== null &&
    typeof id === 'object' &&
    typeof (id as { toHexString?: unknown }).toHexString === 'function'
  )
    return `o:${(id as { toHexString(): string }).toHexString()}`;
  return undefined;
}

/** Per client: whether its server applies updates by read-then-write (see serverNeedsTurns). */
const needsTurnsByClient = new WeakMap<MongoClient, Promise<boolean>>();

/**
 * True when the server behind `client` is FerretDB, which reports itself in `buildInfo` and
 * applies an update by reading the document and writing it back; false for MongoDB, which
 * serialises the writers of a document itself. Asked once per client. While the server cannot be
 * asked, the answer is true (taking turns is always safe) and it is asked again next time.
 */
export function serverNeedsTurns(client: MongoClient): Promise<boolean> {
  const known = needsTurnsByClient.get(client);
  if (known) return known;
  // Every caller gets the settled answer, also those that came while the question was open.
  const asked = client
    .db('admin')
    .command({ buildInfo: 1 })
    .then(
      (info) => typeof info.ferretdbVersion === 'string',
      () => {
        needsTurnsByClient.delete(client);
        return true;
      },
    );
  needsTurnsByClient.set(client, asked);
  return asked;
}
