import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHAOS_SERVICES, faultSchedule } from './schedule';

test('a seed gives the same schedule, every fault in every round, inside the active part', () => {
  const schedule = faultSchedule(42, 90, 2);
  assert.deepEqual(faultSchedule(42, 90, 2), schedule);
  assert.notDeepEqual(faultSchedule(43, 90, 2), schedule);
  for (const kind of ['pause', 'restart-broker', 'restart-database', 'stop-consul', 'stop-stripe'])
    assert.equal(schedule.filter((s) => s.fault.kind === kind).length, 2, kind);
  for (const service of CHAOS_SERVICES)
    assert.equal(
      schedule.filter((s) => s.fault.kind === 'kill' && s.fault.service === service).length,
      2,
      `kill ${service}`,
    );
  assert.ok(schedule.every((s) => s.at > 0 && s.at < 90));
  assert.deepEqual(
    schedule.map((s) => s.at),
    [...schedule.map((s) => s.at)].sort((a, b) => a - b),
  );
});
