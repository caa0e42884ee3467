/** Pure formatting and arithmetic of the views (unit-tested in test/format.test.ts). */

export function money(cents: number, currency: string): string {
  return new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).format(
    cents / 100,
  );
}

/** 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(seconds / 3600)} h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')} min`;
}

export interface Step {
  status: string;
  at: string;
  /** Time until the next step; for the last step of an order still moving, until `now`. */
  spentMs: number;
  /** The order is still in this step. */
  current: boolean;
}

const FINAL = new Set(['ready', 'cancelled', 'failed']);

/** The history as steps, each with the time the order spent in it. */
export function timeline(history: { status: string; at: string }[], now: number): Step[] {
  return history.map((entry, index) => {
    const next = history[index + 1];
    const start = Date.parse(entry.at);
    const last = next === undefined;
    const stillMoving = last && !FINAL.has(entry.status);
    return {
      status: entry.status,
      at: entry.at,
      spentMs: next ? Date.parse(next.at) - start : stillMoving ? Math.max(now - start, 0) : 0,
      current: stillMoving,
    };
  });
}

export const statusLabel = (status: string) => status.replace(/_/g, ' ');

export const shortId = (id: string) => (id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-6)}` : id);

export const percent = (share: number | null) => (share === null ? '–' : `${(share * 100).toFixed(1)} %`);

/** 14:03:07.215, local time. */
export const clock = (iso: string) =>
  new Date(iso).toLocaleTimeString('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    fractionalSecondDigits: 3,
    hour12: false,
  });
