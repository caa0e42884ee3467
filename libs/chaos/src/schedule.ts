/** A small seeded generator (mulberry32): the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const CHAOS_SERVICES = ['menu', 'stock', 'order', 'payment', 'kitchen', 'gateway'] as const;
export type ChaosService = (typeof CHAOS_SERVICES)[number];

export type Fault =
  | { kind: 'kill'; service: ChaosService }
  | { kind: 'pause'; service: ChaosService; seconds: number }
  | { kind: 'restart-broker' }
  | { kind: 'restart-database' }
  | { kind: 'stop-consul'; seconds: number }
  | { kind: 'stop-stripe'; seconds: number };

export interface ScheduledFault {
  /** Seconds from the start of the traffic. */
  at: number;
  fault: Fault;
}

/** One of each fault: a SIGKILL and a SIGSTOP per service round, and each outage of a component. */
function oneOfEach(random: () => number): Fault[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  return [
    ...CHAOS_SERVICES.map((service): Fault => ({ kind: 'kill', service })),
    { kind: 'pause', service: pick(CHAOS_SERVICES), seconds: 10 },
    { kind: 'restart-broker' },
    { kind: 'restart-database' },
    { kind: 'stop-consul', seconds: 30 },
    { kind: 'stop-stripe', seconds: 30 },
  ];
}

/**
 * The faults of a run: `rounds` rounds of every fault, each round shuffled and spread over its
 * share of the first `activeSeconds`, so the last part of the run is quiet and shows recovery.
 */
export function faultSchedule(seed: number, activeSeconds: number, rounds: number): ScheduledFault[] {
  const random = seededRandom(seed);
  const schedule: ScheduledFault[] = [];
  const roundSeconds = activeSeconds / rounds;
  for (let round = 0; round < rounds; round++) {
    const faults = oneOfEach(random);
    for (let i = faults.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [faults[i], faults[j]] = [faults[j]!, faults[i]!];
    }
    const slot = roundSeconds / (faults.length + 1);
    faults.forEach((fault, i) => {
      const at = round * roundSeconds + slot * (i + 1) + (random() - 0.5) * slot * 0.5;
      schedule.push({ at: Math.round(at * 10) / 10, fault });
    });
  }
  return schedule.sort((a, b) => a.at - b.at);
}

export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case 'kill':
      return `SIGKILL ${fault.service}`;
    case 'pause':
      return `SIGSTOP ${fault.service} ${fault.seconds}s`;
    case 'restart-broker':
      return 'restart RabbitMQ';
    case 'restart-database':
      return 'restart MongoDB-wire server';
    case 'stop-consul':
      return `stop Consul ${fault.seconds}s`;
    case 'stop-stripe':
      return `stop stripe-mock ${fault.seconds}s`;
  }
}
