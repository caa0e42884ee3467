import { ReservationStatus, type Reservation, type ReserveRequest } from '@oms/contracts';
import {
  duplicate,
  ID,
  ID_PATTERN,
  invalid,
  lineProblems,
  mergeLines,
  refused,
  type Line,
} from '@oms/domain';

/** Of one item in one reservation: above the public API's cap, for callers other than order. */
export const MAX_LINE_QUANTITY = 10_000;
export const MAX_TTL_SECONDS = 7 * 24 * 3600;
export const MAX_SETTABLE_QUANTITY = 1_000_000_000;
export const MAX_QUERIED_ITEMS = 1000;

export interface ValidReserveRequest {
  reservationId: string;
  /** Merged by item id and sorted by it: holds are always taken in the same order. */
  lines: Line[];
  ttlSeconds: number;
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

type Problem = Record<string, unknown>;

const isInteger = (value: number, min: number, max: number) =>
  Number.isSafeInteger(value) && value >= min && value <= max;

// Ids become field names (`steps.<reservationId>`) and document ids: ID keeps out dots and `$`.
export function validateReservationId(reservationId: string): string {
  if (!ID.test(reservationId))
    throw invalid('invalid reservation id', [
      { field: 'reservationId', problem: `must match ${ID_PATTERN}` },
    ]);
  return reservationId;
}

export function validateItemId(itemId: string): string {
  if (!ID.test(itemId))
    throw invalid('invalid item id', [{ field: 'itemId', problem: `must match ${ID_PATTERN}` }]);
  return itemId;
}

/** Empty means "every item"; duplicates are dropped. */
export function validateItemIds(itemIds: string[]): string[] {
  if (itemIds.length > MAX_QUERIED_ITEMS) throw invalid(`at most ${MAX_QUERIED_ITEMS} item ids`);
  const bad = itemIds.filter((id) => !ID.test(id));
  if (bad.length > 0)
    throw invalid(
      'invalid item ids',
      bad.slice(0, 10).map((itemId) => ({ field: 'itemIds', itemId })),
    );
  return [...new Set(itemIds)];
}

export function validateQuantityToSet(field: string, quantity: number): number {
  if (!isInteger(quantity, 0, MAX_SETTABLE_QUANTITY)) {
    throw invalid(`invalid ${field}`, [{ field, problem: `an integer 0..${MAX_SETTABLE_QUANTITY}` }]);
  }
  return quantity;
}

/** Checks every field and reports every problem at once; a service trusts no caller. */
export function validateReserveRequest(
  request: ReserveRequest,
  defaultTtlSeconds: number,
): ValidReserveRequest {
  const problems: Problem[] = lineProblems(request.lines, { field: 'lines', maxQuantity: MAX_LINE_QUANTITY });
  if (!ID.test(request.reservationId))
    problems.unshift({ field: 'reservationId', problem: `must match ${ID_PATTERN}` });
  if (!isInteger(request.ttlSeconds, 0, MAX_TTL_SECONDS)) {
    problems.push({
      field: 'ttlSeconds',
      problem: `an integer 0..${MAX_TTL_SECONDS} (0: the service default)`,
    });
  }
  if (problems.length > 0) throw invalid('invalid reservation', problems);
  return {
    reservationId: request.reservationId,
    lines: mergeLines(request.lines),
    ttlSeconds: request.ttlSeconds || defaultTtlSeconds,
  };
}

export function sameLines(a: readonly Line[], b: readonly Line[]): boolean {
  return (
    a.length === b.length &&
    a.every((line, i) => line.itemId === b[i]?.itemId && line.quantity === b[i]?.quantity)
  );
}

// ---------------------------------------------------------------------------------------------
// A reservation's life
// ---------------------------------------------------------------------------------------------

/**
 * `pending` while holds are being taken, `reserved` once all are. It then ends one way, decided by
 * one conditional write: `committing` or `releasing` mean that way is decided and its steps on
 * the items are under way (anyone may finish them: each step is conditional on the hold being
 * there). A release records how it ends (`endsAs`): asked for, lapsed, or short of stock.
 */
export type ReservationState =
  'pending' | 'reserved' | 'committing' | 'committed' | 'releasing' | 'released' | 'expired' | 'rejected';
export type ReleaseEnd = 'released' | 'expired' | 'rejected';

export interface OutOfStockLine {
  itemId: string;
  requested: number;
  available: number;
}

/** What a reservation's answers depend on. */
export interface ReservationFacts {
  lines: readonly Line[];
  state: ReservationState;
  endsAs?: ReleaseEnd;
  shortLines?: readonly OutOfStockLine[];
}

export const isFinal = (state: ReservationState) =>
  state === 'committed' || state === 'released' || state === 'expired' || state === 'rejected';

/** The state a decided way of ending leaves behind once its steps are done. */
export function finalState(facts: Pick<ReservationFacts, 'state' | 'endsAs'>): ReservationState {
  if (facts.state === 'committing') return 'committed';
  if (facts.state === 'releasing') return facts.endsAs ?? 'released';
  return facts.state;
}

export const outOfStock = (lines: readonly OutOfStockLine[]) =>
  refused(
    'out_of_stock',
    'not enough stock',
    lines.map((line) => ({ ...line })),
  );
export const reservationReleased = (id: string, end: ReleaseEnd) =>
  refused('reservation_released', `reservation ${id} is ${end}; nothing is held`);
export const reservationCommitted = (id: string) =>
  refused('reservation_committed', `reservation ${id} is committed and cannot be released`);
export const reservationPending = (id: string) =>
  refused('reservation_pending', `reservation ${id} is still being reserved`);
export const reservationIdReused = (id: string) =>
  duplicate('reservation_id_reused', `reservation ${id} exists with other lines`);

/** What Reserve does when the reservation id is already known: take the holds (again), or answer. */
export function replayReserve(
  id: string,
  existing: ReservationFacts,
  requested: readonly Line[],
): 'take-holds' | 'answer' {
  // A release that arrived before its reserve leaves an empty reservation: the cancel wins.
  if (existing.lines.length === 0) throw reservationReleased(id, finalState(existing) as ReleaseEnd);
  if (!sameLines(existing.lines, requested)) throw reservationIdReused(id);
  return existing.state === 'pending' ? 'take-holds' : 'answer';
}

/** What Reserve answers for a reservation past `pending`: itself, or why nothing is held. */
export function reserveAnswer(id: string, facts: ReservationFacts): 'return' {
  const end = finalState(facts);
  if (end === 'reserved' || end === 'committed') return 'return';
  if (end === 'rejected') throw outOfStock(facts.shortLines ?? []);
  if (end === 'released' || end === 'expired') throw reservationReleased(id, end);
  throw reservationPending(id);
}

/** Commit found the reservation not `reserved`: finish a commit under way, or refuse. */
export function commitPlan(id: string, facts: Pick<ReservationFacts, 'state' | 'endsAs'>): 'finish' | 'done' {
  if (facts.state === 'committing') return 'finish';
  if (facts.state === 'committed') return 'done';
  if (facts.state === 'pending') throw reservationPending(id);
  throw reservationReleased(id, finalState(facts) as ReleaseEnd);
}

/** Release found the reservation past `reserved`: finish a release under way, or refuse a commit. */
export function releasePlan(id: string, state: ReservationState): 'finish' | 'done' {
  if (state === 'committing' || state === 'committed') throw reservationCommitted(id);
  return state === 'releasing' ? 'finish' : 'done';
}

const PROTO_STATUS: Record<ReservationState, ReservationStatus> = {
  pending: ReservationStatus.RESERVATION_STATUS_PENDING,
  reserved: ReservationStatus.RESERVATION_STATUS_RESERVED,
  // The proto has no in-between states: a decided outcome is reported as that outcome.
  committing: ReservationStatus.RESERVATION_STATUS_COMMITTED,
  committed: ReservationStatus.RESERVATION_STATUS_COMMITTED,
  releasing: ReservationStatus.RESERVATION_STATUS_RELEASED,
  released: ReservationStatus.RESERVATION_STATUS_RELEASED,
  expired: ReservationStatus.RESERVATION_STATUS_EXPIRED,
  rejected: ReservationStatus.RESERVATION_STATUS_REJECTED,
};

export function toReservation(view: {
  id: string;
  state: ReservationState;
  lines: readonly Line[];
  expiresAt: Date;
}): Reservation {
  return {
    id: view.id,
    status: PROTO_STATUS[view.state],
    lines: view.lines.map((line) => ({ ...line })),
    expiresAt: view.expiresAt.toISOString(),
  };
}
