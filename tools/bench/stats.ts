// Medians and percentiles.

/** The median; for an even count, the mean of the two middle values. */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..1) of unsorted values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** Per key, the median over rounds (keys missing from a round count as absent, not as zero). */
export function medianByKey(rounds: Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(rounds.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(
    keys.map((key) => [key, median(rounds.flatMap((r) => (key in r ? [r[key]!] : [])))]),
  );
}

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
