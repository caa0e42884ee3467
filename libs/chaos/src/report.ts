import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultRecord } from './faults';
import type { InvariantResult, Settling } from './invariants';
import type { Second } from './traffic';

export interface ChaosReport {
  seed: number;
  minutes: number;
  ratePerSecond: number;
  startedAt: string;
  orders: {
    accepted: number;
    completed: number;
    cancelled: number;
    failed: number;
    open: number;
    /** Failed orders by the reason their last history entry gives. */
    failedBecause: Record<string, number>;
  };
  requests: {
    attempted: number;
    rejected: number;
    unanswered: number;
    replays: number;
    duplicateWebhooks: number;
  };
  /** The load generator thread's nice value, or why it kept the default. */
  generatorPriority: number | string;
  /** Rounds of every fault. */
  rounds: number;
  /** The quiet period between the traffic's end and the checks. */
  settling: Settling;
  invariants: InvariantResult[];
  faults: FaultRecord[];
  timeline: Second[];
  passed: boolean;
}

export function reportMarkdown(report: ChaosReport): string {
  const { orders, requests } = report;
  const lines = [
    `# Chaos run of ${report.startedAt}`,
    '',
    `Seed ${report.seed}, ${report.minutes} min at ${report.ratePerSecond} orders/s: **${report.passed ? 'PASSED' : 'FAILED'}**.`,
    `Reproduce: \`npm run chaos -- --minutes ${report.minutes} --rate ${report.ratePerSecond} --seed ${report.seed} --rounds ${report.rounds}\`.`,
    '',
    '| orders | accepted (201) | completed (ready) | cancelled | failed | still open |',
    '|---|---|---|---|---|---|',
    `| count | ${orders.accepted} | ${orders.completed} | ${orders.cancelled} | ${orders.failed} | ${orders.open} |`,
    '',
    `After the traffic stopped, the system ${
      report.settling.settled
        ? `settled in ${report.settling.seconds.toFixed(0)} s`
        : `had not settled after ${report.settling.seconds.toFixed(0)} s (${report.settling.left} orders or items still busy)`
    }; the invariants are checked after that.`,
    '',
    `Failed, by reason: ${
      Object.entries(orders.failedBecause)
        .sort((a, b) => b[1] - a[1])
        .map(([reason, n]) => `${reason} ${n}`)
        .join('; ') || 'none'
    }.`,
    '',
    `Create attempts ${requests.attempted} (${(requests.attempted / (report.minutes * 60)).toFixed(1)}/s started of the ` +
      `${report.ratePerSecond}/s asked for, by a load generator on a thread of its own at priority ${report.generatorPriority}); ` +
      `refused with a documented 4xx ${requests.rejected}; never answered 201 through ` +
      `the client's retries ${requests.unanswered}; idempotent replays ${requests.replays}; duplicate webhooks ${requests.duplicateWebhooks}.`,
    '',
    '| invariant | result | what broke it |',
    '|---|---|---|',
    ...report.invariants.map(
      (i) => `| ${i.name} | ${i.passed ? 'pass' : '**FAIL**'} | ${i.failures.join('<br>')} |`,
    ),
    '',
    '| at (s) | fault | recovered after (s) |',
    '|---|---|---|',
    ...report.faults.map(
      (f) =>
        `| ${f.at.toFixed(1)} | ${f.name} | ${f.error ? `error: ${f.error}` : (f.recoverySeconds ?? 0).toFixed(1)} |`,
    ),
    '',
    '![timeline](chaos.svg)',
    '',
  ];
  return lines.join('\n');
}

/** Answers per second (2xx and documented 4xx in green, errors in red) with the faults marked. */
export function timelineSvg(timeline: Second[], faults: FaultRecord[]): string {
  const width = 900;
  const height = 240;
  const plot = { left: 40, top: 20, width: width - 60, height: height - 60 };
  const seconds = Math.max(1, timeline.length);
  const peak = Math.max(1, ...timeline.map((s) => s.ok + s.errors));
  const x = (second: number) => plot.left + (second / seconds) * plot.width;
  const y = (value: number) => plot.top + plot.height - (value / peak) * plot.height;
  const bar = plot.width / seconds;
  const bars = timeline.flatMap((s, i) => [
    `<rect x="${x(i).toFixed(1)}" y="${y(s.ok).toFixed(1)}" width="${bar.toFixed(2)}" height="${(plot.top + plot.height - y(s.ok)).toFixed(1)}" fill="#2e7d32"/>`,
    `<rect x="${x(i).toFixed(1)}" y="${y(s.ok + s.errors).toFixed(1)}" width="${bar.toFixed(2)}" height="${(y(s.ok) - y(s.ok + s.errors)).toFixed(1)}" fill="#c62828"/>`,
  ]);
  const marks = faults.map(
    (f) =>
      `<line x1="${x(f.at).toFixed(1)}" x2="${x(f.at).toFixed(1)}" y1="${plot.top}" y2="${plot.top + plot.height}" stroke="#1565c0" stroke-dasharray="3,3"/>` +
      `<text x="${x(f.at).toFixed(1)}" y="${plot.top + plot.height + 14}" font-size="9" transform="rotate(30 ${x(f.at).toFixed(1)} ${plot.top + plot.height + 14})">${escapeXml(f.name)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<title>Answers per second (green: correct, red: errors) and faults (blue)</title>`,
    `<text x="${plot.left}" y="12" font-size="11">answers/s (peak ${peak}); green correct, red errors; blue faults</text>`,
    ...bars,
    ...marks,
    `<line x1="${plot.left}" x2="${plot.left + plot.width}" y1="${plot.top + plot.height}" y2="${plot.top + plot.height}" stroke="#333"/>`,
    '</svg>',
  ].join('\n');
}

const escapeXml = (text: string) => text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function writeReport(report: ChaosReport, directory: string, name = 'chaos'): string {
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(directory, `${name}.svg`), timelineSvg(report.timeline, report.faults));
  const markdown = reportMarkdown(report).replace('(chaos.svg)', `(${name}.svg)`);
  writeFileSync(join(directory, `${name}.md`), markdown);
  return markdown;
}
