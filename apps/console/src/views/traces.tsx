import { useEffect, useState } from 'preact/hooks';
import { call, describeError, type Answer } from '../api';
import type { SessionInfo } from '../app';
import { clock, duration } from '../format';
import { navigate, tracesHref } from '../router';
import { waterfall } from '../waterfall';

type Found = Answer<'/console/api/traces'>;
type Trace = Found['traces'][number];
type Span = Trace['spans'][number];

/**
 * An order's traces, read from Jaeger's query API through the gateway, drawn as waterfalls. The
 * local Jaeger (built from its Go module) has no UI of its own: this is the UI there. Where Jaeger's
 * UI exists (Docker), a link opens the same search in it.
 */
export function Traces({ orderId, info }: { orderId: string; info: SessionInfo }) {
  const [input, setInput] = useState(orderId);
  const [found, setFound] = useState<Found | undefined>();
  const [selected, setSelected] = useState<string | undefined>();
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(false);
  useEffect(() => {
    setInput(orderId);
    setFound(undefined);
    if (!orderId) return;
    setLoading(true);
    call('get', '/console/api/traces', { query: { orderId } })
      .then(
        (answer) => {
          setFound(answer);
          setError('');
          // The order's first trace is the one that created it: the richest one.
          setSelected(
            answer.traces.find((trace) => trace.rootOperation.startsWith('POST'))?.traceId ??
              answer.traces[0]?.traceId,
          );
        },
        (failure: unknown) => setError(describeError(failure)),
      )
      .finally(() => setLoading(false));
  }, [orderId]);
  const trace = found?.traces.find((candidate) => candidate.traceId === selected);
  const jaegerUi = found?.jaegerUiUrl ?? info.jaegerUiUrl;
  return (
    <section aria-labelledby="traces-title">
      <h1 id="traces-title">Traces</h1>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          if (input.trim()) navigate(tracesHref(input.trim()));
        }}
      >
        <label for="trace-order">Order id</label>
        <input
          id="trace-order"
          value={input}
          required
          onInput={(event) => setInput(event.currentTarget.value)}
        />
        <button type="submit">Find traces</button>
      </form>
      <p class="help">
        Spans tagged <code>order.id</code>, from Jaeger&apos;s query API.{' '}
        {jaegerUi ? (
          found && (
            <a href={`${jaegerUi}/search?${found.jaegerSearch}`} target="_blank" rel="noreferrer">
              Open this search in Jaeger
            </a>
          )
        ) : (
          <>This Jaeger has no UI of its own (built from its Go module); Docker&apos;s Jaeger has one.</>
        )}
      </p>
      {loading && <p role="status">Searching…</p>}
      {error && <p class="error">{error}</p>}
      {found && found.traces.length === 0 && (
        <p role="status">No trace of {orderId} yet (Jaeger may take a few seconds).</p>
      )}
      {found && found.traces.length > 0 && (
        <div class="traces">
          <TraceList traces={found.traces} selected={selected} onSelect={setSelected} />
          {trace && <Waterfall trace={trace} />}
        </div>
      )}
    </section>
  );
}

function TraceList({
  traces,
  selected,
  onSelect,
}: {
  traces: Trace[];
  selected?: string;
  onSelect: (id: string) => void;
}) {
  return (
    <section aria-labelledby="trace-list-title">
      <h2 id="trace-list-title">{traces.length} traces</h2>
      <ul class="trace-list">
        {traces.map((trace) => (
          <li key={trace.traceId}>
            <button
              type="button"
              aria-pressed={trace.traceId === selected}
              onClick={() => onSelect(trace.traceId)}
              data-trace-id={trace.traceId}
            >
              <strong>
                {trace.rootService}: {trace.rootOperation}
              </strong>
              <span class="meta">
                {clock(trace.startedAt)} · {duration(trace.durationMs)} · {trace.spans.length} spans
                {trace.errorCount > 0 ? ` · ${trace.errorCount} errors` : ''}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Waterfall({ trace }: { trace: Trace }) {
  const [open, setOpen] = useState<Span | undefined>();
  const rows = waterfall(trace.spans, trace.durationMs);
  return (
    <section aria-labelledby="waterfall-title" class="waterfall-panel">
      <h2 id="waterfall-title">
        Trace <code>{trace.traceId}</code> · {duration(trace.durationMs)}
      </h2>
      <ol class="waterfall" aria-label="Spans by start time">
        {rows.map(({ span, depth, offsetPercent, widthPercent }) => (
          <li key={span.spanId} class={span.error ? 'span error' : 'span'} data-service={span.service}>
            <button
              type="button"
              aria-expanded={open?.spanId === span.spanId}
              onClick={() => setOpen(open?.spanId === span.spanId ? undefined : span)}
              style={{ paddingLeft: `${0.5 + depth}rem` }}
            >
              <span class="span-name">
                <span class="service">{span.service}</span> {span.operation}
              </span>
              <span class="bar-track" aria-hidden="true">
                <span class="bar" style={{ left: `${offsetPercent}%`, width: `${widthPercent}%` }} />
              </span>
              <span class="span-time">
                +{duration(span.startMs)} · {duration(span.durationMs)}
                {span.error ? ' · error' : ''}
              </span>
            </button>
            {open?.spanId === span.spanId && <Attributes span={span} />}
          </li>
        ))}
      </ol>
    </section>
  );
}

function Attributes({ span }: { span: Span }) {
  const entries = Object.entries(span.attributes).sort(([a], [b]) => a.localeCompare(b));
  return (
    <table class="attributes">
      <caption class="sr-only">Attributes of {span.operation}</caption>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
