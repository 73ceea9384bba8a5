/**
 * Fake universe ports for the manager's tests (not a test file): a hand-moved clock, timers fired by
 * `advance` in time order, held work awaited by `settle`, positions and orders set by the test.
 */
import { ConfigError } from '../core/errors.js';
import type { RoutedSignal, Signal } from '../signals/signal.js';
import { LinePool } from './line-pool.js';
import { UniverseManager } from './universe-manager.js';
import type { ResolveOutcome, UniverseEvent, UniverseOptions } from './universe-types.js';

export const MIN = 60_000;

/** Fake ports: a hand-moved clock, timers fired by `advance`, held work awaited by `settle` */
export function harness(options: UniverseOptions, o: { budget?: number; invalid?: string[]; failing?: string[]; noData?: string[]; noTrader?: string[]; flattenPort?: boolean } = {}) {
  let now = 0;
  const timers = new Map<string, number>();
  const held: Promise<unknown>[] = [];
  const positions = new Map<string, number>();
  /** Port calls, to count the work a pass does */
  const calls = { position: 0 };
  const orders = new Map<string, number>();
  const delivered: RoutedSignal[] = [];
  const subscribed = new Set<string>();
  const log: string[] = [];
  const events: UniverseEvent[] = [];
  const lines = new LinePool(o.budget ?? Infinity);
  let maxUsed = 0;
  // instruments whose data was asked for and not yet given back (the runner starts IB's lines as it subscribes)
  const streaming = new Set<string>();
  let maxStreaming = 0;
  const ports = {
    resolve: async (symbol: string): Promise<ResolveOutcome> => {
      if (o.invalid?.includes(symbol)) return { status: 'invalid', reason: `no security definition for ${symbol}` };
      if (o.failing?.includes(symbol)) return { status: 'failed', reason: 'not connected' };
      return { status: 'ok', instrument: `${symbol}.K` };
    },
    lines: {
      get budget() {
        return lines.budget;
      },
      get used() {
        return lines.used;
      },
      tryAcquire: (s: string) => {
        const ok = lines.tryAcquire(s);
        maxUsed = Math.max(maxUsed, lines.used);
        return ok;
      },
      release: (s: string) => lines.release(s),
    },
    createTrader: (instrument: string) => {
      if (o.noTrader?.some((s) => `${s}.K` === instrument)) throw new ConfigError('trading', [`trading.defaults.unitSize: required to trade signals of ${instrument}`]);
      return {};
    },
    subscribe: async (instrument: string) => {
      streaming.add(instrument);
      maxStreaming = Math.max(maxStreaming, streaming.size);
      await Promise.resolve();
      if (o.noData?.some((s) => `${s}.K` === instrument)) {
        streaming.delete(instrument);
        throw new Error(`no 1m bars for '${instrument}'`);
      }
      subscribed.add(instrument);
      log.push(`sub ${instrument}`);
    },
    unsubscribe: (instrument: string) => {
      streaming.delete(instrument);
      subscribed.delete(instrument);
      log.push(`unsub ${instrument}`);
    },
    position: (instrument: string) => (calls.position++, positions.get(instrument) ?? 0),
    workingOrders: (instrument: string) => orders.get(instrument) ?? 0,
    deliver: (s: RoutedSignal) => void delivered.push(s),
    now: () => now,
    setTimer: (name: string, at: number) => void timers.set(name, at),
    cancelTimer: (name: string) => void timers.delete(name),
    hold: (work: Promise<unknown>) => void held.push(work),
    // the host's flatten: logged; the test moves the position as the venue would
    ...(o.flattenPort === true ? { flatten: (instrument: string) => void log.push(`flatten ${instrument}`), resumeEntries: (instrument: string) => void log.push(`resume ${instrument}`) } : {}),
  };
  const m = new UniverseManager(options, ports);
  m.on((e) => events.push(e));
  const settle = async () => {
    while (held.length > 0) await held.shift();
  };
  /** Moves time to t, firing due timers in time order */
  const advance = async (t: number) => {
    for (;;) {
      const due = [...timers].filter(([, at]) => at <= t).sort((a, b) => a[1] - b[1])[0];
      if (due === undefined) break;
      timers.delete(due[0]);
      now = due[1];
      m.onTimer(due[0]);
      await settle();
    }
    now = t;
  };
  const signal = async (symbol: string, value: number) => {
    const s: Signal = { ts: now, symbol, value, availableAt: now };
    m.onSignal(s);
    await settle();
  };
  const state = (symbol: string) => m.entry(symbol)?.state;
  return { m, signal, advance, settle, state, calls, delivered, subscribed, positions, orders, events, timers, log, lines, maxUsed: () => maxUsed, maxStreaming: () => maxStreaming, setNow: (t: number) => (now = t), now: () => now };
}

export type Harness = ReturnType<typeof harness>;
