/** A trace's spans in waterfall order: each span under its parent, siblings by start (pure; unit-tested). */

export interface WaterfallSpan {
  spanId: string;
  parentSpanId: string | null;
  startMs: number;
  durationMs: number;
}

export interface WaterfallRow<S extends WaterfallSpan> {
  span: S;
  depth: number;
  /** Left edge and width of its bar, in % of the trace's duration. */
  offsetPercent: number;
  widthPercent: number;
}

export function waterfall<S extends WaterfallSpan>(spans: S[], totalMs: number): WaterfallRow<S>[] {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string | null, S[]>();
  for (const span of spans) {
    // A span whose parent is not in the trace (not exported yet, or from elsewhere) is shown as a root.
    const parent = span.parentSpanId !== null && ids.has(span.parentSpanId) ? span.parentSpanId : null;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const total = Math.max(totalMs, 0.001);
  const rows: WaterfallRow<S>[] = [];
  const visit = (parent: string | null, depth: number) => {
    const siblings = [...(children.get(parent) ?? [])].sort((a, b) => a.startMs - b.startMs);
    for (const span of siblings) {
      rows.push({
        span,
        depth,
        offsetPercent: (span.startMs / total) * 100,
        // A zero-length span still gets a visible sliver.
        widthPercent: Math.max((span.durationMs / total) * 100, 0.3),
      });
      visit(span.spanId, depth + 1);
    }
  };
  visit(null, 0);
  return rows;
}
