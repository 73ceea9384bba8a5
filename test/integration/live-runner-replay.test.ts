/**
 * The whole runner in replay mode over TCP: the simulator on the bundled SPY minute bars of
 * 2013-10-08 (accelerated), the IB session, market data with a warm start, the IB execution client,
 * the kernel running sma-cross, the supervisor and the journal. Its orders and fills must match
 * the journal and the simulator's own account, and it must be flat before the close.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/core/logger.js';
import { readJournal } from '../../lib/journal/journal.js';
import { Store } from '../../lib/store/store.js';
import { loadRunnerConfig } from '../../runner/live/config.js';
import { runRunner, type RunSummary } from '../../runner/live/live-runner.js';
import type { OrdersFeature } from '../../runner/tws-sim/orders.js';
import type { SimFeature } from '../../runner/tws-sim/types.js';

const dir = mkdtempSync(join(tmpdir(), 'monger-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('monger run in replay mode (in-process)', () => {
  it('trades sma-cross on the replayed day; orders and fills match the journal and the simulator account; flat at the close', async () => {
    // the shipped example, faster and with its journal in a temp folder
    const config = loadRunnerConfig('runner/examples/replay.yaml', {});
    config.replay!.speed = 3000;
    // at 3000x five replayed minutes are 100 real ms: give the close-out room on a busy machine
    config.session.noNewEntriesMinutesBeforeClose = 30;
    config.session.flattenMinutesBeforeClose = 15;
    config.journal.path = join(dir, 'journal.duckdb');
    let features: readonly SimFeature[] = [];
    const summary: RunSummary = await runRunner(config, { logger: silentLogger, onSimulator: (_sim, f) => (features = f) });

    expect(summary.stopReason).toBe('end of replay');
    expect(summary.orders.total).toBeGreaterThan(0);
    expect(summary.orders.rejected).toBe(0);
    expect(summary.orders.filled).toBe(summary.fills);
    // flattened before the 16:00 close by the session guard (or by the strategy's own exits)
    expect(summary.positions).toEqual({});
    expect(summary.reconnects).toBe(0);

    // the simulator's account saw exactly these fills
    const orders = features.find((f) => f.name === 'orders') as OrdersFeature;
    const executions = orders.book!.executions();
    expect(executions).toHaveLength(summary.fills);
    expect(orders.book!.positions().filter((p) => p.qty !== 0)).toEqual([]);

    // the journal holds one durable intent per order sent, and every fill once
    const store = await Store.open(config.journal.path);
    try {
      const records = await readJournal(store, summary.journal.runId);
      const kinds = (k: string) => records.filter((r) => r.kind === k);
      expect(kinds('order_intent')).toHaveLength(summary.orders.total);
      expect(kinds('fill')).toHaveLength(summary.fills);
      const execIds = new Set(executions.map((e) => e.execId));
      for (const f of kinds('fill')) expect(execIds.has((f.payload as { executionId: string }).executionId)).toBe(true);
      // every intent was committed before its order reached the simulator: seqs precede the fills
      const firstFill = kinds('fill')[0]!.seq;
      expect(kinds('order_intent')[0]!.seq).toBeLessThan(firstFill);
    } finally {
      store.close();
    }
  }, 120_000);
});
