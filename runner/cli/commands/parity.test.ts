import { describe, expect, it } from 'vitest';
import type { ParityDiff } from '../../../lib/parity/diff.js';
import { parityFailures } from './parity.js';

// the exit decision of `monger parity` (the end-to-end run is test/e2e/parity-cli.test.ts)
describe('parityFailures', () => {
  const equal = { equal: true, matched: 12, firstDivergence: undefined } as unknown as ParityDiff;
  const diverged = { equal: false, matched: 3, firstDivergence: { index: 3 } } as unknown as ParityDiff;

  it('passes only with an empty diff and no stall', () => {
    expect(parityFailures({ diff: equal, runner: { steps: 10, stalls: [] } })).toEqual([]);
    expect(parityFailures({ diff: diverged, runner: { stalls: [] } })).toEqual(['the runner diverged from the backtest at event #3']);
  });

  it('a stalled lock step fails even when the diff is empty', () => {
    const stalls = ['2013-10-07T14:31:00.000Z bar: SPY', '2013-10-07T14:32:00.000Z fills: 1'];
    expect(parityFailures({ diff: equal, runner: { steps: 10, stalls } })).toEqual(['the lock-step replay stalled 2 time(s); first: 2013-10-07T14:31:00.000Z bar: SPY']);
    expect(parityFailures({ diff: diverged, runner: { stalls } })).toHaveLength(2);
  });
});
