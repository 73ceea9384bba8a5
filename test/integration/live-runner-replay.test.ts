/**
 * The whole runner in replay mode over TCP: the simulator on the bundled SPY minute bars of
 * 2013-10-08 (accelerated), the IB session, market data with a warm start, the IB execution client,
 * the kernel running sma-cross, the supervisor and the journal. The minutes the strategy hears must
 * be the stored ones; its orders and fills must match the journal and the simulator's own account,
 * and it must be flat before the close.
 *
 * Timing. At 3000x the simulator's 250 ms push timer sends the 5-second bars in bursts of 12.5
 * replayed minutes, one minute behind its clock (no lookahead from minute data), so the engine hears
 * a minute 1 to 14 replayed minutes (up to ~280 real ms) after it closed, later on a loaded machine,
 * while the clock (and with it the session guard) runs on. Two things therefore vary from run to run
 * and are not asserted: which of the day's crosses come after the start-up (the clock runs during
 * it), and on which side of a session-guard boundary a decision lands. This day has golden crosses
 * on the 15:02 and 15:23 New York bars (19:02, 19:23 UTC): the first is heard before or after the
 * 15:15 no-entries time set below depending on that lag, the second after it, so their BUYs are
 * sent, refused by the risk check, or (heard in one burst with the exit before) never made. With the
 * old 15:30 no-entries time the 15:23 cross landed on either side: `rejected === 0` failed about 4
 * runs in 10 under load. What must hold whatever the timing:
 * - the strategy hears exactly the stored minutes, none cut short or missing once its stream runs
 *   (the flush timer used to close minutes between two bursts: truncated and dropped minutes made
 *   the decisions themselves vary; runner/live/ib-market-data.ts `flushQuiet`);
 * - every refused order is an entry refused by the session guard or by a load-induced health halt,
 *   journaled with that reason after the halt, and never sent (no intent);
 * - every other order has exactly one durable intent, journaled before its fill;
 * - runner fills = simulator executions = journal fills, one each; flat in the runner and at IB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/core/logger.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { readJournal, type JournalRecord } from '../../lib/journal/journal.js';
import type { Bar } from '../../lib/model/market.js';
import { loadBars } from '../../lib/store/bar-query.js';
import { Store } from '../../lib/store/store.js';
import { loadRunnerConfig } from '../../runner/live/config.js';
import { runRunner, type RunSummary } from '../../runner/live/live-runner.js';
import type { OrdersFeature } from '../../runner/tws-sim/orders.js';
import type { SimFeature } from '../../runner/tws-sim/types.js';
import { smaCross } from '../../strategies/sma-cross/index.js';

const dir = mkdtempSync(join(tmpdir(), 'monger-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Halts that refuse entries because of timing: the session guard (on the clock) and health under load */
const TIMING_HALTS = new Set(['session', 'stale', 'health:stale', 'health:event-loop-lag']);

type Payload = Record<string, any>;
const payload = (r: JournalRecord) => r.payload as Payload;

/** The halt sources a risk refusal names: `risk: SPY halted: session: …; stale: …` or `risk: trading halted: health:…: …` */
function haltSources(reason: string): string[] {
  const m = /^risk: (?:\w+ halted|trading halted): (.*)$/.exec(reason);
  if (m === null) return [];
  return m[1]!.split('; ').map((s) => s.split(': ')[0]!);
}

describe('monger run in replay mode (in-process)', () => {
  it('trades sma-cross on the stored minutes of the replayed day; orders and fills match the journal and the simulator account; flat at the close', async () => {
    // the shipped example, faster and with its journal in a temp folder
    const config = loadRunnerConfig('runner/examples/replay.yaml', {});
    config.replay!.speed = 3000;
    // at 3000x a replayed minute is 20 real ms: entries stop 45 and the flatten comes 30 replayed
    // minutes (600 real ms) before the close, room for the closing order's round trip on a busy machine
    config.session.noNewEntriesMinutesBeforeClose = 45;
    config.session.flattenMinutesBeforeClose = 30;
    config.journal.path = join(dir, 'journal.duckdb');
    let features: readonly SimFeature[] = [];
    // sma-cross itself, recording the live minutes it hears
    const heard: Bar[] = [];
    const recording: typeof smaCross = {
      ...smaCross,
      create(ctx) {
        const inner = smaCross.create(ctx);
        return {
          ...inner,
          onBar(bar) {
            if (bar.interval === '1m') heard.push({ ...bar });
            inner.onBar?.(bar);
          },
        };
      },
    };
    const summary: RunSummary = await runRunner(config, { logger: silentLogger, strategy: recording, onSimulator: (_sim, f) => (features = f) });

    expect(summary.stopReason).toBe('end of replay');
    expect(summary.reconnects).toBe(0);

    // the minutes heard are the stored ones, in order, none missing from the first to the last
    const stored = await Store.open(':memory:');
    try {
      await importFiles(stored, ['data/lean/equity/usa/minute/spy/20131008_spy_minute_trade.csv']);
      const [spy] = await loadBars(stored, { symbols: ['SPY'], interval: '1m', from: '2013-10-08T00:00:00Z', to: '2013-10-09T00:00:00Z' });
      // a few hours of the session (the start-up and the last minutes in flight at the end vary)
      expect(heard.length).toBeGreaterThan(200);
      const first = spy!.ts.indexOf(heard[0]!.ts);
      expect(first).toBeGreaterThanOrEqual(0);
      const row = (ts: number, o: number, h: number, l: number, c: number, v: number) => [new Date(ts).toISOString(), o, h, l, c, Math.round(v)];
      const want = heard.map((_b, k) => first + k).map((i) => row(spy!.ts[i]!, spy!.open[i]!, spy!.high[i]!, spy!.low[i]!, spy!.close[i]!, spy!.volume[i]!));
      expect(heard.map((b) => row(b.ts, b.open, b.high, b.low, b.close, b.volume))).toEqual(want);
    } finally {
      stored.close();
    }

    // the simulator's account saw exactly the runner's fills, and is flat
    const orders = features.find((f) => f.name === 'orders') as OrdersFeature;
    const executions = orders.book!.executions();
    expect(summary.orders.total).toBeGreaterThan(0);
    expect(summary.fills).toBeGreaterThanOrEqual(2);
    expect(summary.orders.filled).toBe(summary.fills);
    expect(summary.orders.working).toBe(0);
    expect(executions).toHaveLength(summary.fills);
    // flattened before the 16:00 close by the session guard (or by the strategy's own exits)
    expect(summary.positions).toEqual({});
    expect(orders.book!.positions().filter((p) => p.qty !== 0)).toEqual([]);

    const store = await Store.open(config.journal.path);
    let records: JournalRecord[];
    try {
      records = await readJournal(store, summary.journal.runId);
    } finally {
      store.close();
    }
    const of = (kind: string, pred: (p: Payload, r: JournalRecord) => boolean = () => true) => records.filter((r) => r.kind === kind && pred(payload(r), r));

    // every refusal: an entry the risk check refused for a timing halt journaled before it, never sent
    const rejections = of('order_event', (p) => p.type === 'rejected');
    expect(rejections).toHaveLength(summary.orders.rejected);
    for (const r of rejections) {
      const p = payload(r);
      expect(p.order.side).toBe('BUY');
      const sources = haltSources(String(p.reason));
      expect(sources.length, String(p.reason)).toBeGreaterThan(0);
      for (const s of sources) {
        expect(TIMING_HALTS.has(s), String(p.reason)).toBe(true);
        expect(of('halt', (h, x) => h.source === s && x.seq < r.seq).length, `halt '${s}' journaled before the refusal`).toBeGreaterThan(0);
      }
      expect(of('order_intent', (_p, i) => i.clientOrderId === r.clientOrderId)).toEqual([]);
    }

    // every other order: one durable intent (journaled before the order went to the simulator)
    const refused = new Set(rejections.map((r) => r.clientOrderId));
    const ids = new Set(of('order_event').map((r) => r.clientOrderId));
    expect(ids.size).toBe(summary.orders.total);
    for (const id of ids) if (!refused.has(id)) expect(of('order_intent', (_p, i) => i.clientOrderId === id), `intent of ${id}`).toHaveLength(1);
    expect(of('order_intent')).toHaveLength(summary.orders.total - rejections.length);

    // the journal holds every fill once, the simulator's, each after its order's intent
    const fills = of('fill');
    expect(fills).toHaveLength(summary.fills);
    expect(fills.map((f) => payload(f).executionId).sort()).toEqual(executions.map((e) => e.execId).sort());
    for (const f of fills) expect(of('order_intent', (_p, i) => i.clientOrderId === f.clientOrderId && i.seq < f.seq), `intent before fill ${f.seq}`).toHaveLength(1);
  }, 120_000);
});
