/**
 * The universe on a kernel: UniverseManager ports implemented with the kernel, for one strategy (the
 * one that trades the signals). Backtests (universe-backtest.ts) and the runner (issue 10 part 2:
 * its own resolver and line allocator) compose it the same way.
 *
 * - Subscriptions are made for the served strategy (its onBar, ctx.instruments(), ctx.history see
 *   them) through `kernel.attachSubscription`: history up to the current time is loaded, bars after
 *   it stream; retirement unsubscribes it ('immediate': it is flat with no working orders by then).
 * - Activation runs under `kernel.hold`: a backtest finishes it at the signal's simulated time.
 * - The trader of an instrument: its TradingParams from the kernel's trading rules (defaults merged
 *   with its overrides) are resolved and checked at activation (missing sizes make the symbol
 *   invalid); the desk builds the Trader on the first ctx.signal with the same rules. Without
 *   trading rules the strategy trades its signals itself.
 * - Removal with flatten 'market' (the default): the instrument is halted for new entries (the
 *   RiskEngine's per-instrument halt, so exits still go), its working orders are cancelled and one
 *   closing market order goes out under the `universe` strategy; the halt is lifted when the symbol
 *   is active again. A host that owns the halts (the runner's supervisor) passes its own `removal`.
 * - Timers (idle checks, scripted actions) belong to an internal strategy `universe`, added before
 *   the served strategy so the configured symbols are requested before anyone starts trading.
 * - Restore (a restarted runner, or a new run that adopted the broker's positions): in the internal
 *   strategy's onStart, before the configured symbols, so held positions get lines first: positions
 *   outside them come back as signal-driven members, symbols that were being removed are activated
 *   and removed again (entries stopped at once, signals skipped until then), operator-added members
 *   come back pinned (see UniverseRestore). It has to happen there: the subscriptions are made for
 *   the served strategy, which the kernel knows only once it runs.
 */
import { z } from 'zod';
import { ConfigError, DataError } from '../core/errors.js';
import type { BarKind, Interval } from '../data/interval.js';
import type { Kernel } from '../engine/kernel.js';
import type { DataClient } from '../engine/ports.js';
import { defineStrategy } from '../engine/strategy.js';
import type { StrategyRuntime } from '../engine/strategy-runtime.js';
import type { Signal } from '../signals/signal.js';
import { resolveTradingParams, type TradingParams } from '../trading/trading-params.js';
import { LinePool } from './line-pool.js';
import { UniverseManager } from './universe-manager.js';
import type { Order } from '../model/orders.js';
import { isTerminal } from '../model/order-state.js';
import { UniverseError, type LineAllocator, type RemovalFlatten, type ResolveOutcome, type UniverseOptions } from './universe-types.js';

export const UNIVERSE_STRATEGY_ID = 'universe';

/** An operator's add/remove at a simulated time (a backtest replaying what the runner's control API does live) */
export interface UniverseAction {
  at: number;
  add?: string;
  remove?: string;
  mode?: 'graceful' | 'immediate';
  /** Overrides the universe's removal.flatten for this removal */
  flatten?: RemovalFlatten;
}

/** How a flattening removal stops entries and closes (default: the kernel's RiskEngine and a market order of the universe strategy) */
export interface RemovalHooks {
  stopEntries(instrument: string, reason: string): void;
  resumeEntries(instrument: string): void;
  /** Cancels the instrument's working orders and closes its position with one market order (idempotent) */
  close(instrument: string, reason: string): void;
}

export interface UniverseActionResult {
  at: number;
  action: 'add' | 'remove';
  symbol: string;
  ok: boolean;
  /** UniverseError code when refused */
  code?: string;
  error?: string;
  /** The symbol's state right after */
  state?: string;
}

/**
 * Members a restarted run brings back before the strategy starts (runner/live/universe-resume.ts
 * works them out from the journal and the engine's positions). Configured symbols are skipped: the
 * universe activates them anyway.
 */
export interface UniverseRestore {
  /**
   * Symbols holding a position: signal-driven members (line priority while they hold it, never retired
   * with it, retired once flat and idle). A static universe takes no signal-driven members: there they
   * come back pinned, as `add` would, so no position is left without data and exits.
   */
  signal?: readonly string[];
  /** Added by the operator and members at the crash: pinned again, as `add` */
  added?: readonly string[];
  /** Being removed (retiring) with a position at the crash: activated, then removed gracefully again */
  removing?: readonly { symbol: string; flatten?: RemovalFlatten }[];
}

export interface UniverseRestoreResult {
  symbol: string;
  as: 'signal' | 'added' | 'removing';
  ok: boolean;
  /** Why it did not come back (resolution failed, no trader, ...) */
  error?: string;
}

export interface KernelUniverseOptions extends UniverseOptions {
  /** The strategy whose subscriptions and signals these are */
  strategyId: string;
  interval: Interval;
  kind?: BarKind;
  /** Warm-up bars loaded at activation; default 1 */
  history?: number;
  /** Symbol → engine instrument (runner: the contract resolver); see dataClientResolver */
  resolve: (symbol: string) => Promise<ResolveOutcome>;
  /** Default: unlimited */
  lines?: LineAllocator;
  actions?: readonly UniverseAction[];
  /**
   * The host's streams around the kernel subscription (runner: IB market-data lines): `start` right
   * before the subscription is attached (its lines were just granted), `stop` right after it is removed
   */
  streams?: { start(instrument: string): void; stop(instrument: string): void };
  /** See RemovalHooks; default kernelRemovalHooks */
  removal?: UniverseOptions['removal'] & { hooks?: RemovalHooks };
  /** Members to bring back at the start; a function is asked in onStart (after positions were restored) */
  restore?: UniverseRestore | (() => UniverseRestore);
  /** Each restore result as it settles (the runner alerts on the failed ones) */
  onRestoreResult?: (r: UniverseRestoreResult) => void;
}

export class KernelUniverse {
  readonly manager: UniverseManager;
  readonly runtime: StrategyRuntime;
  readonly actionResults: UniverseActionResult[] = [];
  /** What the start-up restore did with each symbol (settles as activations complete) */
  readonly restoreResults: UniverseRestoreResult[] = [];
  /** Restored symbols to remove again once active, with their removal policy */
  private readonly removeWhenActive = new Map<string, RemovalFlatten | undefined>();
  /** Signal-driven members restored by notice whose activation has not settled yet */
  private readonly restoringSignal = new Set<string>();
  private readonly hooks: RemovalHooks;
  private readonly onRestoreResult: ((r: UniverseRestoreResult) => void) | undefined;
  /** The trading parameters each activated instrument trades with */
  readonly params = new Map<string, TradingParams>();
  private target: StrategyRuntime | undefined;
  /** The signal source's callback */
  readonly onSignal = (signal: Signal): void => this.manager.onSignal(signal);

  constructor(
    private readonly kernel: Kernel,
    options: KernelUniverseOptions,
  ) {
    const actions = [...(options.actions ?? [])];
    actions.forEach((a, i) => {
      if ((a.add === undefined) === (a.remove === undefined) || !Number.isFinite(a.at)) throw new ConfigError('universe', [`actions[${i}]: expected { at, add: SYMBOL } or { at, remove: SYMBOL }`]);
    });
    const target = () => {
      if (this.target === undefined) throw new ConfigError('universe', [`strategy '${options.strategyId}' is not on the kernel; the universe serves the strategy that trades the signals`]);
      return this.target;
    };
    const lines = options.lines ?? new LinePool(Infinity);
    const k = kernel;
    const hooks = options.removal?.hooks ?? this.kernelRemovalHooks();
    this.hooks = hooks;
    this.onRestoreResult = options.onRestoreResult;
    this.manager = new UniverseManager(options, {
      resolve: options.resolve,
      lines,
      createTrader: (instrument, symbol) => {
        // without trading rules the strategy trades its signals with its own orders: nothing to check
        if (k.trading === undefined) return undefined;
        const p = resolveTradingParams(k.trading.rules, instrument, symbol);
        this.params.set(instrument, p);
        return p;
      },
      subscribe: (instrument) => {
        options.streams?.start(instrument);
        return k.attachSubscription(target(), { instrument, interval: options.interval, kind: options.kind ?? 'trade', history: options.history ?? 1 });
      },
      unsubscribe: (instrument) => {
        k.unsubscribe(target(), instrument, 'immediate');
        options.streams?.stop(instrument);
      },
      position: (instrument) => k.portfolio.position(instrument),
      workingOrders: (instrument) => k.orders.working(undefined, instrument).length,
      deliver: (signal) => k.deliverSignal(signal, target()),
      flatten: (instrument, reason) => {
        hooks.stopEntries(instrument, reason);
        hooks.close(instrument, reason);
      },
      resumeEntries: (instrument) => hooks.resumeEntries(instrument),
      now: () => k.now(),
      setTimer: (name, at) => this.runtime.context.setTimer(name, at),
      cancelTimer: (name) => this.runtime.context.cancelTimer(name),
      hold: (work) => k.hold(work),
    });
    const definition = defineStrategy({
      name: UNIVERSE_STRATEGY_ID,
      version: '1.0.0',
      description: 'Activates and retires the instruments of a signal-driven universe',
      params: z.object({}),
      create: (ctx) => ({
        onStart: () => {
          this.target = kernel.strategyList().find((r) => r.id === options.strategyId);
          target();
          actions.forEach((a, i) => ctx.setTimer(`action:${i}`, a.at));
          // held positions are requested before the configured symbols: the first lines go to them
          const restore = typeof options.restore === 'function' ? options.restore() : options.restore;
          if (restore !== undefined) this.restore(restore, new Set(options.symbols ?? []));
          this.manager.start();
        },
        onTimer: (name: string) => {
          if (name.startsWith('action:')) this.act(actions[Number(name.slice(7))]!);
          else this.manager.onTimer(name);
        },
      }),
    });
    this.runtime = kernel.addStrategy(definition, { id: UNIVERSE_STRATEGY_ID });
    // a retirement waiting for a position to close is checked when it closes
    kernel.bus.subscribe('order.fill', (f) => {
      if (kernel.portfolio.quantityAt(f.instrumentIndex) === 0) this.manager.onFlat(f.instrument);
    });
    this.manager.on((e) => {
      if (e.type !== 'state') return;
      if (this.restoringSignal.has(e.symbol)) {
        // settled: active or waiting for a line (as an add resolves), or failed
        if (e.to === 'active' || e.to === 'waiting-for-line') this.settled({ symbol: e.symbol, as: 'signal', ok: true });
        else if (e.to === 'invalid' || e.to === 'retired') this.settled({ symbol: e.symbol, as: 'signal', ok: false, error: `${e.to}${e.reason !== undefined ? `: ${e.reason}` : ''}` });
        else return;
        this.restoringSignal.delete(e.symbol);
        return;
      }
      if (!this.removeWhenActive.has(e.symbol)) return;
      if (e.to === 'active') {
        const flatten = this.removeWhenActive.get(e.symbol);
        this.removeWhenActive.delete(e.symbol);
        // after the activation has finished (it is mid-transition here), before the next event
        this.kernel.hold(Promise.resolve().then(() => this.removeAgain(e.symbol, flatten)));
      } else if (e.to === 'invalid' || e.to === 'retired') {
        this.removeWhenActive.delete(e.symbol);
        this.removalFailed(e.symbol, `${e.to}${e.reason !== undefined ? `: ${e.reason}` : ''}`);
      }
    });
  }

  private settled(r: UniverseRestoreResult): void {
    this.restoreResults.push(r);
    this.onRestoreResult?.(r);
  }

  /** A symbol being removed did not come back: its restore stop is lifted (nothing trades it now; a later activation would find it halted) */
  private removalFailed(symbol: string, error: string): void {
    this.manager.awaitRemoval(symbol, false);
    this.hooks.resumeEntries(symbol);
    this.settled({ symbol, as: 'removing', ok: false, error });
  }

  /**
   * See UniverseRestore; in onStart, before the configured symbols are requested. Order: positions
   * (signal-driven), then removals (positions too), then added members: who is requested first gets
   * the free lines first, and a position without data has no exits. Restore symbols are the engine's
   * instrument keys (they come from its positions; the runner's keys are the tickers).
   */
  private restore(r: UniverseRestore, configured: ReadonlySet<string>): void {
    const m = this.manager;
    const member = (symbol: string) => {
      const state = m.entry(symbol)?.state;
      return state !== undefined && state !== 'retired' && state !== 'invalid';
    };
    const add = (symbol: string, as: UniverseRestoreResult['as']) => {
      this.kernel.hold(
        m.add(symbol).then(
          () => void (as !== 'removing' && this.settled({ symbol, as, ok: true })),
          (e: unknown) => {
            const error = e instanceof Error ? e.message : String(e);
            if (as !== 'removing') this.settled({ symbol, as, ok: false, error });
            // a removal that ended in invalid/retired was reported by the state listener already
            else if (this.removeWhenActive.delete(symbol)) this.removalFailed(symbol, error);
          },
        ),
      );
    };
    const signal = (r.signal ?? []).filter((s) => !configured.has(s) && !member(s));
    if (m.mode === 'static') for (const symbol of signal) add(symbol, 'signal');
    else {
      for (const symbol of signal) this.restoringSignal.add(symbol);
      m.notice(signal);
      for (const symbol of signal) {
        if (m.entry(symbol) !== undefined) continue;
        this.restoringSignal.delete(symbol);
        this.settled({ symbol, as: 'signal', ok: false, error: 'not a valid symbol' });
      }
    }
    for (const x of r.removing ?? []) {
      this.removeWhenActive.set(x.symbol, x.flatten);
      // a configured symbol is already on its way (the universe's start)
      if (!member(x.symbol)) add(x.symbol, 'removing');
      // no entry until it is removed again: the supervisor's removal halt is not sticky, so a restart
      // lost it, and a signal held while it warms up would otherwise be delivered before the removal
      this.hooks.stopEntries(x.symbol, 'being removed from the universe (restored): entries stay stopped');
      m.awaitRemoval(x.symbol);
    }
    for (const symbol of r.added ?? []) if (!configured.has(symbol) && !member(symbol)) add(symbol, 'added');
  }

  private removeAgain(symbol: string, flatten: RemovalFlatten | undefined): void {
    try {
      this.manager.remove(symbol, 'graceful', flatten !== undefined ? { flatten } : {});
      this.settled({ symbol, as: 'removing', ok: true });
    } catch (e) {
      if (!(e instanceof UniverseError)) throw e;
      this.removalFailed(symbol, e.message);
    }
  }

  /** Removal on a bare kernel: its RiskEngine's instrument halt and a market order of the universe strategy */
  private kernelRemovalHooks(): RemovalHooks {
    const k = this.kernel;
    const closing = new Map<string, Readonly<Order>>();
    return {
      stopEntries: (instrument, reason) => {
        const index = k.instruments.indexOf(instrument);
        if (index !== undefined) k.risk.haltInstrument(index, reason);
      },
      resumeEntries: (instrument) => {
        const index = k.instruments.indexOf(instrument);
        if (index !== undefined) k.risk.resumeInstrument(index);
      },
      close: (instrument) => {
        const ctx = this.runtime.context;
        const now = k.now();
        for (const o of k.orders.working(undefined, instrument)) {
          if (o.strategyId !== UNIVERSE_STRATEGY_ID && o.status !== 'PENDING_CANCEL') k.orders.cancel(o.id, now);
        }
        const prev = closing.get(instrument);
        const qty = k.portfolio.position(instrument);
        if (qty === 0 || (prev !== undefined && !isTerminal(prev.status))) return;
        closing.set(instrument, ctx.submit(ctx.orders.market(instrument, qty > 0 ? 'SELL' : 'BUY', Math.abs(qty), { tag: `${UNIVERSE_STRATEGY_ID}:removal` })));
      },
    };
  }

  private act(a: UniverseAction): void {
    const at = this.kernel.now();
    const refused = (action: 'add' | 'remove', symbol: string, e: unknown) => {
      if (!(e instanceof UniverseError)) throw e;
      this.actionResults.push({ at, action, symbol, ok: false, code: e.code, error: e.message, state: this.manager.entry(symbol)?.state });
    };
    if (a.remove !== undefined) {
      try {
        const v = this.manager.remove(a.remove, a.mode, a.flatten !== undefined ? { flatten: a.flatten } : {});
        this.actionResults.push({ at, action: 'remove', symbol: a.remove, ok: true, state: v.state });
      } catch (e) {
        refused('remove', a.remove, e);
      }
      return;
    }
    const symbol = a.add!;
    // an add completes under kernel.hold: the outcome is known before the next event
    this.kernel.hold(
      this.manager.add(symbol).then(
        (v) => void this.actionResults.push({ at, action: 'add', symbol, ok: true, state: v.state }),
        (e: unknown) => refused('add', symbol, e),
      ),
    );
  }
}

/** Resolution through a data client (backtests): an unknown instrument is invalid, other failures transient */
export function dataClientResolver(data: DataClient): (symbol: string) => Promise<ResolveOutcome> {
  return async (symbol) => {
    try {
      return { status: 'ok', instrument: (await data.resolve(symbol)).key };
    } catch (e) {
      if (e instanceof DataError && e.code === 'UNKNOWN_SYMBOL') return { status: 'invalid', reason: e.message };
      return { status: 'failed', reason: e instanceof Error ? e.message : String(e) };
    }
  };
}
