/**
 * Issue 10: what line preemption costs the universe manager when every symbol signals every minute.
 *
 * Setup: the real UniverseManager (dynamic, idleMs 30 min, preemption with its defaults: minActive
 * 5 min, margin 25%, 30 evictions per 10 min) on minimal in-memory ports: resolve/subscribe answer
 * at once, a LinePool of LINES lines, every position flat, no orders, timers kept in a map and fired
 * in time order. No kernel, no TCP: only the manager's own work (passes, waiting order, retire and
 * re-activate) plus these ports' trivial calls. SYMBOLS symbols each get one signal per minute for
 * MINUTES minutes, values seeded (the same stream for every run), so most symbols wait for a line
 * and a stronger waiter keeps taking a weaker member's line.
 *
 * - ms per signal batch: real ms for one minute: the timers due (idle, re-check, paced passes), then
 *   the minute's SYMBOLS signals, then the held work they start (activations, the batch's pass,
 *   warm-ups), until settled. Signals are built before the clock starts. p50 and max over the
 *   minutes of a run, median of RUNS runs (after one warm-up run of each). The max is minute 0
 *   (every symbol resolves, the first LINES warm up), a minute where the eviction budget comes back
 *   (minutes 5, 15, …: 30 evictions and warm-ups at once), or a GC pause.
 *   Baseline: the same minutes with `preempt: false` (waiters only get lines that free up).
 * - evictions: lines given to a stronger waiter over the run. Baseline: the most the eviction
 *   budget allows in MINUTES (30 in any 10 minutes); ratio 1: the budget, not the margin, binds.
 */
import { InvariantError } from '../../lib/core/errors.js';
import type { Signal } from '../../lib/signals/signal.js';
import { LinePool } from '../../lib/universe/line-pool.js';
import { PREEMPT_DEFAULTS } from '../../lib/universe/preemption.js';
import { UniverseManager } from '../../lib/universe/universe-manager.js';
import type { ResolveOutcome, UniversePorts } from '../../lib/universe/universe-types.js';
import type { BenchReport } from './harness.js';

const MIN = 60_000;
const LINES = 100;
const SIZES = [900, 3000] as const;
const MINUTES = 60;
const RUNS = 5;
const SEED = 0x9e3779b9;

interface RunStats {
  p50: number;
  max: number;
  evicted: number;
  peakLines: number;
}

/** xorshift32: the same signal stream for every run of a size */
function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

async function run(symbols: number, preempt: boolean): Promise<RunStats> {
  let now = 0;
  const timers = new Map<string, number>();
  const held: Promise<unknown>[] = [];
  const lines = new LinePool(LINES);
  const ports: UniversePorts = {
    resolve: async (s: string): Promise<ResolveOutcome> => ({ status: 'ok', instrument: `${s}.K` }),
    lines,
    createTrader: () => ({}),
    subscribe: async () => {},
    unsubscribe: () => {},
    position: () => 0,
    workingOrders: () => 0,
    deliver: () => {},
    now: () => now,
    setTimer: (name, at) => void timers.set(name, at),
    cancelTimer: (name) => void timers.delete(name),
    hold: (work) => void held.push(work),
  };
  const m = new UniverseManager({ mode: 'dynamic', idleMs: 30 * MIN, preempt }, ports);
  m.start();
  const settle = async () => {
    while (held.length > 0) await held.shift();
  };
  const names = Array.from({ length: symbols }, (_, i) => `S${i}`);
  const rnd = seeded(SEED + symbols);
  const times: number[] = [];
  for (let minute = 0; minute < MINUTES; minute++) {
    const t = minute * MIN;
    const batch: Signal[] = names.map((symbol) => ({ ts: t, symbol, value: rnd() * 2 - 1, availableAt: t }));
    const t0 = performance.now();
    // due timers in time order, at their own times; one collected pass per round, not a scan per timer
    for (;;) {
      const due = [...timers].filter(([, at]) => at <= t).sort((a, b) => a[1] - b[1]);
      if (due.length === 0) break;
      for (const [name, at] of due) {
        if (timers.get(name) !== at) continue; // cancelled or moved by an earlier one
        timers.delete(name);
        now = at;
        m.onTimer(name);
        await settle();
      }
    }
    now = t;
    for (const s of batch) m.onSignal(s);
    await settle();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, max: times[times.length - 1]!, evicted: m.counters.evicted, peakLines: lines.peak };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** RUNS runs of each setting, alternating, after one warm-up run of each; checks what must hold */
async function measure(symbols: number): Promise<{ on: RunStats; off: RunStats }> {
  await run(symbols, false);
  await run(symbols, true);
  const on: RunStats[] = [];
  const off: RunStats[] = [];
  for (let r = 0; r < RUNS; r++) {
    off.push(await run(symbols, false));
    on.push(await run(symbols, true));
  }
  for (const s of [...on, ...off]) if (s.peakLines > LINES) throw new InvariantError(`universe preemption bench: ${s.peakLines} lines held, budget ${LINES}`);
  if (off.some((s) => s.evicted !== 0)) throw new InvariantError('universe preemption bench: evictions with preempt: false');
  if (on.some((s) => s.evicted !== on[0]!.evicted)) throw new InvariantError(`universe preemption bench: evictions differ between identical runs (${on.map((s) => s.evicted).join(', ')})`);
  const pick = (xs: RunStats[]): RunStats => ({ p50: median(xs.map((s) => s.p50)), max: median(xs.map((s) => s.max)), evicted: xs[0]!.evicted, peakLines: Math.max(...xs.map((s) => s.peakLines)) });
  return { on: pick(on), off: pick(off) };
}

export async function universePreemptBenchmarks(): Promise<BenchReport> {
  const report: BenchReport = {};
  const budget = PREEMPT_DEFAULTS.maxEvictionsPer10Min;
  const allowed = budget * Math.ceil(MINUTES / 10);
  for (const n of SIZES) {
    const { on, off } = await measure(n);
    process.stderr.write(`  universe preemption ${n} symbols / ${LINES} lines, ${MINUTES} min: on p50 ${on.p50.toFixed(2)} max ${on.max.toFixed(1)} ms, ${on.evicted} evictions; off p50 ${off.p50.toFixed(2)} max ${off.max.toFixed(1)} ms\n`);
    const what = `ms per signal batch, ${n} symbols / ${LINES} lines`;
    const base = (v: number) => ({ name: 'same run, preempt: false (ms)', value: v });
    report[`universe preemption: ${what} (p50)`] = { value: on.p50, unit: 'ms', baseline: base(off.p50), ratio: on.p50 / off.p50 };
    report[`universe preemption: ${what} (max)`] = { value: on.max, unit: 'ms', baseline: base(off.max), ratio: on.max / off.max };
    report[`universe preemption: evictions, ${n} symbols / ${LINES} lines in ${MINUTES} min`] = {
      value: on.evicted,
      unit: 'evictions',
      baseline: { name: `eviction budget over ${MINUTES} min (${budget} per 10 min)`, value: allowed },
      ratio: on.evicted / allowed,
    };
  }
  return report;
}
