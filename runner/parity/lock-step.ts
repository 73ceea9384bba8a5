/**
 * Lock-step replay: the runner against the in-process TWS simulator with time moved by this driver
 * instead of an accelerated clock, so a replay is deterministic whatever the machine's load. An
 * accelerated clock keeps running while the runner thinks: at 3000x, 20 ms of journaling is a
 * whole minute bar, and an order decided on one bar reaches the simulator bars later. Here the
 * clock stands still until everything caused by the last move has happened.
 *
 * Each step to time S (minute boundaries through the sessions, see run-parity.ts):
 *   1. the clock moves to S;
 *   2. the simulator matches working orders (fills of bars that closed by S, stamped S), and the
 *      driver waits until the kernel holds exactly the simulator's order states;
 *   3. the simulator sends the 5-second bars due by S (sent at their own end: a minute completes at
 *      its close, as in the backtest), and the driver waits until the runner has pushed every
 *      stored minute that closed by S into the kernel and the kernel went idle (its timers due by S
 *      have then fired, after the bars of S, as in a backtest);
 *   4. the orders the kernel decided reach the simulator and are acknowledged (wait again);
 *   5. the account state as of S is recorded.
 * So the runner hears every fill of S before the bars of S, and decides on a bar before time moves
 * on: the order of events a backtest has. "Settled" is checked on state, never on timing: order
 * by order the kernel's status and filled quantity must equal the simulator's, and the count of
 * minutes the kernel received must equal the count the store holds. A step that cannot settle
 * within `stallMs` (real) is recorded as a stall and the replay moves on (the diff then shows what
 * went missing).
 */
import type { Kernel } from '../../lib/engine/kernel.js';
import type { LiveFeed, Scheduler } from '../../lib/engine/live-feed.js';
import { isTerminal } from '../../lib/model/order-state.js';
import { ParityRecorder } from '../../lib/parity/recorder.js';
import { isoTime } from '../../lib/parity/events.js';
import type { MarketDataFeature } from '../tws-sim/market-data.js';
import type { OrdersFeature } from '../tws-sim/orders.js';
import { isFinal } from '../tws-sim/order-state.js';
import type { SimClock } from '../tws-sim/types.js';

/** What the driver needs of the runner's composition (RunnerOptions.replayDriver.attach). */
export interface DrivenParts {
  kernel: Kernel;
  feed: LiveFeed;
  execution: { ibOrderIdOf(orderId: number): { ibOrderId: number; clientId: number } | undefined };
}

export interface LockStepOptions {
  /** Start of the replay: the clock reads this until the first step */
  from: number;
  /** End: the clock is set here after the last step, which ends the kernel's run */
  to: number;
  /** Step times, ascending, within (from, to] */
  steps: readonly number[];
  /** Minutes the kernel must have received by time `t` (stored bars closed in (from, t]) */
  expectedBars: (t: number) => number;
  /** Real-time bar streams the runner opens (one per instrument): the first step waits for them */
  streams: number;
  /** Real ms a step may take to settle before it is recorded as a stall (default 30 000) */
  stallMs?: number;
  /**
   * Work outside the kernel that every settle also waits for (a universe activation: resolving,
   * warm-up, its streams opening): what is still under way, or undefined
   */
  busy?: () => string | undefined;
  /**
   * Called once step `t` has settled and been recorded, before time moves on (an operator's action
   * at `t`, e.g. a symbol added through the control API); the driver settles again afterwards
   */
  afterStep?: (t: number) => Promise<void> | void;
}

/** A clock only the driver moves. */
export class ManualClock implements SimClock {
  readonly speed = 1;
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    if (t > this.t) this.t = t;
  }
}

/** The live feed's timers never fire: the kernel moves only when bars arrive or the driver wakes it. */
const stillScheduler: Scheduler = { setTimeout: () => undefined, clearTimeout: () => undefined };

export class LockStepDriver {
  readonly clock: ManualClock;
  readonly scheduler = stillScheduler;
  /** Records the runner's kernel (created on attach) */
  recorder: ParityRecorder | undefined;
  /** Steps that did not settle within stallMs, with what was missing */
  readonly stalls: string[] = [];
  steps = 0;
  error: unknown;
  private parts: DrivenParts | undefined;
  private done: Promise<void> = Promise.resolve();
  private stopped = false;
  private onStop: () => void = () => undefined;
  /** Resolves on stop(): every wait races it, so a runner that failed never leaves the driver hanging */
  private readonly stopSignal = new Promise<void>((resolve) => (this.onStop = resolve));
  private sim: { orders: OrdersFeature; marketData: MarketDataFeature } | undefined;
  /** Minute bars the kernel must have received: those the simulator has sent */
  private barsDue = 0;

  constructor(private readonly o: LockStepOptions) {
    this.clock = new ManualClock(o.from);
  }

  /** The simulator's features it drives (the market data built with `tickIntervalMs: 0`) */
  drive(orders: OrdersFeature, marketData: MarketDataFeature): void {
    this.sim = { orders, marketData };
  }

  /** The runner's hook: called once its kernel is composed, before it runs. */
  attach(parts: DrivenParts): void {
    this.parts = parts;
    this.recorder = ParityRecorder.attach(parts.kernel, { sampleOnEquity: false });
    this.done = this.loop().catch((e: unknown) => {
      this.error = e;
      parts.kernel.requestStop();
    });
  }

  /** Resolves when the driver has finished (the runner's run ends right after) */
  finished(): Promise<void> {
    return this.done;
  }

  stop(): void {
    this.stopped = true;
    this.onStop();
  }

  private idle(feed: LiveFeed): Promise<void> {
    return Promise.race([feed.whenIdle(), this.stopSignal]);
  }

  private async loop(): Promise<void> {
    const p = this.parts!;
    const sim = this.sim;
    if (sim === undefined) throw new Error('LockStepDriver: drive() the simulator features before the run');
    // the kernel has started (subscriptions and warm-up done) and waits for data; the simulator
    // streams from the instant it installed a request, so time stands still until all are in
    await this.idle(p.feed);
    await this.waitFor(this.o.from, 'streams', () => (sim.marketData.realtimeBarCount() < this.o.streams ? `${sim.marketData.realtimeBarCount()} of ${this.o.streams} real-time bar streams open` : this.o.busy?.()));
    for (const t of this.o.steps) {
      if (this.stopped) break;
      this.clock.set(t);
      await sim.orders.tick();
      await this.settle(t, 'fills');
      await sim.marketData.pump();
      this.barsDue = this.o.expectedBars(t);
      await this.settle(t, 'bars');
      // a step without bars: the kernel sleeps until woken, then fires its timers due by now
      p.feed.wake();
      await this.idle(p.feed);
      await this.settle(t, 'orders');
      this.recorder!.sample(t);
      this.steps++;
      if (this.o.afterStep !== undefined) {
        await Promise.race([this.o.afterStep(t), this.stopSignal]);
        await this.settle(t, 'after step');
      }
    }
    this.clock.set(this.o.to);
    p.feed.wake();
  }

  /** Waits until the runner and the simulator agree on everything caused so far. */
  private settle(t: number, phase: string): Promise<void> {
    return this.waitFor(t, phase, async () => {
      await Promise.race([this.sim!.orders.settled(), this.stopSignal]);
      await this.idle(this.parts!.feed);
      return this.missing();
    });
  }

  /** Polls `check` (what is missing, or undefined) until it passes or `stallMs` runs out (a stall). */
  private async waitFor(t: number, phase: string, check: () => string | undefined | Promise<string | undefined>): Promise<void> {
    const deadline = Date.now() + (this.o.stallMs ?? 30_000);
    for (let spins = 0; ; spins++) {
      const missing = await check();
      if (missing === undefined || this.stopped) return;
      if (Date.now() > deadline) {
        this.stalls.push(`${isoTime(t)} ${phase}: ${missing}`);
        return;
      }
      // yield to I/O (socket reads, journal commits); back off once it takes longer
      await new Promise<void>((resolve) => (spins < 200 ? setImmediate(resolve) : setTimeout(resolve, 2)));
    }
  }

  /** What the runner has not caught up with yet, or undefined when settled. */
  private missing(): string | undefined {
    const p = this.parts!;
    const busy = this.o.busy?.();
    if (busy !== undefined) return busy;
    const expected = this.barsDue;
    if (p.feed.pushed < expected) return `${expected - p.feed.pushed} of ${expected} minute bars not received`;
    if (p.feed.buffered > 0) return `${p.feed.buffered} bars not processed`;
    const book = this.sim!.orders.book;
    for (const o of p.kernel.orders.all()) {
      const terminal = isTerminal(o.status);
      const ids = p.execution.ibOrderIdOf(o.id);
      if (ids === undefined) {
        // refused before it was sent (risk, validation) is final; anything else is on its way
        if (!terminal) return `order ${o.clientOrderId} not sent yet`;
        continue;
      }
      const s = book?.order(ids.clientId, ids.ibOrderId);
      if (s === undefined) return `order ${o.clientOrderId} not at the simulator yet`;
      if (isFinal(s) !== terminal) return `order ${o.clientOrderId}: simulator ${s.status}, kernel ${o.status}`;
      if (Math.abs(s.filled - o.filledQuantity) > 1e-9) return `order ${o.clientOrderId}: simulator filled ${s.filled}, kernel ${o.filledQuantity}`;
      if (!terminal && (o.status === 'SUBMITTED' || o.status === 'PENDING_CANCEL' || s.totalQuantity !== o.quantity)) return `order ${o.clientOrderId} ${o.status}: not acknowledged yet`;
    }
    return undefined;
  }
}
