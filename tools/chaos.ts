// `npm run chaos -- [--minutes N] [--rate R] [--seed S] [--rounds K]`: the whole system, two instances of every
// service, a steady mixed flow and a reproducible fault schedule; then the invariants, from the
// stores and the broker. Writes bench-results/chaos.{md,json,svg}; exits 1 if anything failed.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runChaos, writeReport } from '@oms/chaos';
import { ALL_SERVICES, buildServices } from '@oms/testing';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '20' },
    seed: { type: 'string', default: String(Math.floor(Math.random() * 1_000_000)) },
    rounds: { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const ratePerSecond = Number(values.rate);
const seed = Number(values.seed);
const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
if (
  !(minutes > 0) ||
  !(ratePerSecond > 0) ||
  !Number.isInteger(seed) ||
  (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1))
) {
  console.error(
    'usage: npm run chaos -- [--minutes N] [--rate R] [--seed S] [--rounds K]  (N, R > 0; S an integer; K ≥ 1 rounds of every fault, default N/3)',
  );
  process.exit(2);
}
async function main(): Promise<number> {
  console.log('chaos: building the services (nx caches unchanged ones)…');
  buildServices(ALL_SERVICES);
  console.log(`chaos: ${minutes} min at ${ratePerSecond} orders/s, seed ${seed}`);
  const report = await runChaos({
    minutes,
    ratePerSecond,
    seed,
    rounds,
    log: (line) => console.log(`chaos: ${line}`),
  });
  console.log(`\n${writeReport(report, resolve(__dirname, '../bench-results'))}`);
  return report.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
