import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { runChaos, writeReport } from '@oms/chaos';

// The short run of the fault suite: every fault at least once, all invariants. The long run is
// `npm run chaos` (10 minutes at 20 orders/s); this seed is printed so a failure can be re-run.
const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 1_000_000));

test(`chaos: 2 minutes at 10 orders/s under every fault loses, doubles and oversells nothing (seed ${seed})`, async () => {
  const report = await runChaos({
    minutes: 2,
    ratePerSecond: 10,
    seed,
    log: (line) => console.log(`chaos: ${line}`),
  });
  const markdown = writeReport(report, resolve(__dirname, '../../../bench-results'), 'chaos-short');
  console.log(markdown);
  assert.ok(report.orders.accepted > 0, 'no order was accepted at all');
  for (const fault of report.faults)
    assert.equal(fault.error, undefined, `${fault.name} could not be injected`);
  for (const invariant of report.invariants)
    assert.ok(invariant.passed, `${invariant.name}:\n${invariant.failures.join('\n')}`);
});
