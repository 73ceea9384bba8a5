import { describe, expect, it } from 'vitest';
import { StaleDropAlerts } from './universe-stats.js';

const MIN = 60_000;
const MAX = 5 * MIN;

describe('StaleDropAlerts: stale drops are alerts, throttled', () => {
  it('alerts on the first drop of the run, then at most once per 10 minutes of engine time with the count and oldest age since the last', () => {
    const a = new StaleDropAlerts();
    // a producer clock 6 minutes behind: every signal is about 6 minutes old
    const first = a.drop(0, 'AAA', 6 * MIN, MAX);
    expect(first).toMatchObject({ level: 'warning', kind: 'signals-stale', dropped: 1, oldestAgeMs: 6 * MIN, maxAgeMs: MAX, symbol: 'AAA' });
    expect(first!.message).toContain('for the first time in this run');
    // drops go on every minute: counted, no alert inside the window (9 drops at 1..9 min)
    for (let t = 1; t <= 9; t++) expect(a.drop(t * MIN, 'BBB', (6 + t / 10) * MIN, MAX)).toBeUndefined();
    // at 10 min: the 9 counted plus this one, the oldest the 9-minute one (6.9 min)
    const second = a.drop(10 * MIN, 'CCC', 6 * MIN, MAX);
    expect(second).toMatchObject({ dropped: 10, oldestAgeMs: 6.9 * MIN, symbol: 'CCC' });
    expect(second!.message).toContain('since the last alert');
    // the window restarts at the alert: 19:59 is inside it, 20:00 is not
    expect(a.drop(20 * MIN - 1, 'DDD', 7 * MIN, MAX)).toBeUndefined();
    expect(a.drop(20 * MIN, 'DDD', 6 * MIN, MAX)).toMatchObject({ dropped: 2, oldestAgeMs: 7 * MIN });
  });

  it('a pause longer than the window: the next drop alerts at once with only its own count', () => {
    const a = new StaleDropAlerts();
    expect(a.drop(0, 'AAA', 100 * MIN, MAX)?.dropped).toBe(1);
    expect(a.drop(3 * 60 * MIN, 'AAA', 8 * MIN, MAX)).toMatchObject({ dropped: 1, oldestAgeMs: 8 * MIN });
  });
});
