import { status } from '@grpc/grpc-js';
import { ReservationStatus, type Reservation, type ReserveLine, type ReserveRequest } from '@oms/contracts';
import { invalidArgument, RpcError } from '@oms/rpc';

/**
 * Ids become parts of document ids (`<itemId>@<version>`) and hold keys, so both are restricted to
 * characters that are safe there: no dots, no `$`, no `@`.
 */
export const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_LINES = 50;
export const MAX_LINE_QUANTITY = 10_000;
export const MAX_TTL_SECONDS = 7 * 24 * 3600;
export const MAX_SETTABLE_QUANTITY = 1_000_000_000;
export const MAX_QUERIED_ITEMS = 1000;

export interface Line {
  itemId: string;
  quantity: number;
}

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

export function validateReservationId(reservationId: string): string {
  if (!SAFE_ID.test(reservationId)) {
    throw invalidArgument('invalid reservation id', [
      { field: 'reservationId', problem: 'must match ^[A-Za-z0-9_-]{1,64}$' },
    ]);
  }
  return reservationId;
}

export function validateItemId(itemId: string): string {
  if (!SAFE_ID.test(itemId))
    throw invalidArgument('invalid item id', [
      { field: 'itemId', problem: 'must match ^[A-Za-z0-9_-]{1,64}$' },
    ]);
  return itemId;
}

/** Empty means "every item"; duplicates are dropped. */
export function validateItemIds(itemIds: string[]): string[] {
  if (itemIds.length > MAX_QUERIED_ITEMS) throw invalidArgument(`at most ${MAX_QUERIED_ITEMS} item ids`);
  const bad = itemIds.filter((id) => !SAFE_ID.test(id));
  if (bad.length > 0)
    throw invalidArgument(
      'invalid item ids',
      bad.slice(0, 10).map((itemId) => ({ field: 'itemIds', itemId })),
    );
  return [...new Set(itemIds)];
}

export function validateQuantityToSet(field: string, quantity: number): number {
  if (!isInteger(quantity, 0, MAX_SETTABLE_QUANTITY)) {
    throw invalidArgument(`invalid ${field}`, [{ field, problem: `an integer 0..${MAX_SETTABLE_QUANTITY}` }]);
  }
  return quantity;
}

/** Lines with the same item are added together; the result is sorted by item id. */
export function mergeLines(lines: readonly ReserveLine[]): Line[] {
  const merged = new Map<string, number>();
  for (const { itemId, quantity } of lines) merged.set(itemId, (merged.get(itemId) ?? 0) + quantity);
  return [...merged]
    .map(([itemId, quantity]) => ({ itemId, quantity }))
    .sort((a, b) => compareIds(a.itemId, b.itemId));
}

/** Checks every field and reports every problem at once; a service trusts no caller. */
export function validateReserveRequest(
  request: ReserveRequest,
  defaultTtlSeconds: number,
): ValidReserveRequest {
  const problems: Problem[] = [];
  if (!SAFE_ID.test(request.reservationId)) {
    problems.push({ field: 'reservationId', problem: 'must match ^[A-Za-z0-9_-]{1,64}$' });
  }
  if (request.lines.length < 1 || request.lines.length > MAX_LINES) {
    problems.push({ field: 'lines', problem: `1..${MAX_LINES} lines` });
  }
  request.lines.forEach((line, index) => {
    if (!SAFE_ID.test(line.itemId))
      problems.push({ field: `lines[${index}].itemId`, problem: 'must match ^[A-Za-z0-9_-]{1,64}$' });
    if (!isInteger(line.quantity, 1, MAX_LINE_QUANTITY)) {
      problems.push({ field: `lines[${index}].quantity`, problem: `an integer 1..${MAX_LINE_QUANTITY}` });
    }
  });
  const lines = mergeLines(request.lines);
  if (problems.length === 0) {
    for (const line of lines) {
      if (line.quantity > MAX_LINE_QUANTITY) {
        problems.push({
          field: 'lines',
          itemId: line.itemId,
          problem: `merged quantity over ${MAX_LINE_QUANTITY}`,
        });
      }
    }
  }
  if (!isInteger(request.ttlSeconds, 0, MAX_TTL_SECONDS)) {
    problems.push({
      field: 'ttlSeconds',
      problem: `an integer 0..${MAX_TTL_SECONDS} (0: the service default)`,
    });
  }
  if (problems.length > 0) throw invalidArgument('invalid reservation', problems);
  return { reservationId: request.reservationId, lines, ttlSeconds: request.ttlSeconds || defaultTtlSeconds };
}

/** Code-point order, the same in every process (localeCompare is not). */
export const compareIds = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function sameLines(a: readonly Line[], b: readonly Line[]): boolean {
  return (
    a.length === b.length &&
    a.every((line, i) => line.itemId === b[i]?.itemId && line.quantity === b[i]?.quantity)
  );
}

// ---------------------------------------------------------------------------------------------
// One item's stock, and the three steps a reservation takes on it
// ---------------------------------------------------------------------------------------------

export interface Hold {
  reservationId: string;
  quantity: number;
}

export interface ItemState {
  /** What can be reserved now. */
  available: number;
  /** Sold: moved out of holds by a commit. */
  committed: number;
  /** At most one per reservation. */
  holds: Hold[];
}

/** What a step decides on one item: nothing to do, not enough stock, or the next state. */
export type StepResult =
  { kind: 'unchanged' } | { kind: 'short'; available: number } | { kind: 'next'; state: ItemState };

const UNCHANGED: StepResult = { kind: 'unchanged' };

export const heldQuantity = (state: ItemState) => state.holds.reduce((sum, hold) => sum + hold.quantity, 0);
const holdOf = (state: ItemState, reservationId: string) =>
  state.holds.find((hold) => hold.reservationId === reservationId);
const withoutHold = (state: ItemState, reservationId: string) =>
  state.holds.filter((hold) => hold.reservationId !== reservationId);

/**
 * Moves `quantity` from available into a hold of this reservation. A hold that is already there
 * counts as done, which makes retries and duplicate requests harmless. An unknown item has 0.
 */
export function holdStep(state: ItemState | undefined, reservationId: string, quantity: number): StepResult {
  if (state && holdOf(state, reservationId)) return UNCHANGED;
  if (!state || state.available < quantity) return { kind: 'short', available: state?.available ?? 0 };
  return {
    kind: 'next',
    state: {
      ...state,
      available: state.available - quantity,
      holds: [...state.holds, { reservationId, quantity }],
    },
  };
}

/** Gives a hold back to available; no hold means it was already released or committed. */
export function releaseStep(state: ItemState | undefined, reservationId: string): StepResult {
  const hold = state && holdOf(state, reservationId);
  if (!state || !hold) return UNCHANGED;
  return {
    kind: 'next',
    state: { ...state, available: state.available + hold.quantity, holds: withoutHold(state, reservationId) },
  };
}

/** Turns a hold into committed (sold) stock; no hold means it was already committed or released. */
export function commitStep(state: ItemState | undefined, reservationId: string): StepResult {
  const hold = state && holdOf(state, reservationId);
  if (!state || !hold) return UNCHANGED;
  return {
    kind: 'next',
    state: { ...state, committed: state.committed + hold.quantity, holds: withoutHold(state, reservationId) },
  };
}

/** The admin sets what can be reserved now; holds and committed stock stay as they are. */
export function setAvailableStep(state: ItemState | undefined, available: number): StepResult {
  if (state?.available === available) return UNCHANGED;
  return { kind: 'next', state: { available, committed: state?.committed ?? 0, holds: state?.holds ?? [] } };
}

/** Creates an item's stock; an item that exists is never reset (orders may have consumed it). */
export function ensureItemStep(state: ItemState | undefined, initialAvailable: number): StepResult {
  if (state) return UNCHANGED;
  return { kind: 'next', state: { available: initialAvailable, committed: 0, holds: [] } };
}

// ---------------------------------------------------------------------------------------------
// A reservation's life
// ---------------------------------------------------------------------------------------------

/**
 * `pending` while holds are being taken, `reserved` once all are. A reservation then ends with one
 * outcome, decided once and for all; `committing`/`releasing` mean the outcome is decided and its
 * steps on the items are under way (anyone may finish them: every step is idempotent).
 */
export type ReservationState =
  'pending' | 'reserved' | 'committing' | 'committed' | 'releasing' | 'released' | 'expired' | 'rejected';
export type Outcome = 'committed' | 'released' | 'expired' | 'rejected';

export interface OutOfStockLine {
  itemId: string;
  requested: number;
  available: number;
}

export const isFinal = (state: ReservationState) =>
  state === 'committed' || state === 'released' || state === 'expired' || state === 'rejected';

/** How an outcome is carried out: the state while it runs, the step on each item, the end state. */
export function settlementOf(outcome: Outcome): {
  during: ReservationState;
  step: 'commit' | 'release';
  final: ReservationState;
} {
  return outcome === 'committed'
    ? { during: 'committing', step: 'commit', final: 'committed' }
    : { during: 'releasing', step: 'release', final: outcome };
}

export const outOfStock = (lines: readonly OutOfStockLine[]) =>
  new RpcError(
    status.FAILED_PRECONDITION,
    'out_of_stock',
    'not enough stock',
    lines.map((line) => ({ ...line })),
  );
export const reservationReleased = (id: string, outcome: Outcome) =>
  new RpcError(
    status.FAILED_PRECONDITION,
    'reservation_released',
    `reservation ${id} is ${outcome}; nothing is held`,
  );
export const reservationCommitted = (id: string) =>
  new RpcError(
    status.FAILED_PRECONDITION,
    'reservation_committed',
    `reservation ${id} is committed and cannot be released`,
  );
export const reservationPending = (id: string) =>
  new RpcError(
    status.FAILED_PRECONDITION,
    'reservation_pending',
    `reservation ${id} is still being reserved`,
  );
export const reservationIdReused = (id: string) =>
  new RpcError(status.ALREADY_EXISTS, 'reservation_id_reused', `reservation ${id} exists with other lines`);

/** What Reserve does when the reservation id is already known. */
export type ReserveReplay =
  { action: 'answer-outcome'; outcome: Outcome } | { action: 'return-reserved' } | { action: 'continue' };

export function replayReserve(
  id: string,
  existing: { lines: readonly Line[]; state: ReservationState },
  requested: readonly Line[],
  outcome: Outcome | undefined,
): ReserveReplay {
  // A release that arrived before its reserve leaves an empty reservation: the cancel wins (even
  // before its outcome is written, or the release would settle no lines while we hold them).
  if (existing.lines.length === 0) throw reservationReleased(id, outcome ?? 'released');
  if (!sameLines(existing.lines, requested)) throw reservationIdReused(id);
  if (outcome) return { action: 'answer-outcome', outcome };
  if (existing.state === 'reserved') return { action: 'return-reserved' };
  return { action: 'continue' };
}

/** What Reserve answers once the reservation has an outcome. */
export function reserveAnswer(
  id: string,
  outcome: Outcome,
  rejectedLines: readonly OutOfStockLine[],
): 'return' {
  if (outcome === 'committed') return 'return';
  if (outcome === 'rejected') throw outOfStock(rejectedLines);
  throw reservationReleased(id, outcome);
}

/** Commit: decide it (only from `reserved`), finish a decided commit, or refuse. */
export function commitPlan(
  id: string,
  state: ReservationState,
  outcome: Outcome | undefined,
): 'decide' | 'finish' {
  if (outcome === 'committed') return 'finish';
  if (outcome) throw reservationReleased(id, outcome);
  if (state === 'reserved') return 'decide';
  throw reservationPending(id);
}

/** Release: decide it (from any undecided state), finish a decided release, or refuse a commit. */
export function releasePlan(id: string, outcome: Outcome | undefined): 'decide' | 'finish' {
  if (outcome === 'committed') throw reservationCommitted(id);
  return outcome ? 'finish' : 'decide';
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
