import type { Logger } from '../core/logger.js';
import { SeededRandom } from '../core/seeded-random.js';
import type { BarKind, Interval } from '../data/interval.js';
import type { BracketRequest, Order, OrderChanges, OrderRequest } from '../model/orders.js';
import type { HistoryWindow } from './history-window.js';
import { OrderFactory } from './order-factory.js';
import type { PortfolioView } from './portfolio.js';
import type { BarSubscription, Environment, Strategy, StrategyContext, StrategyDefinition, StrategyState, UnsubscribeMode } from './strategy.js';

/** What the kernel lends a strategy's context; the context adds the strategy's identity. */
export interface KernelServices {
  readonly environment: Environment;
  readonly portfolio: PortfolioView;
  now(): number;
  history(instrument: string, interval: Interval | undefined, kind: BarKind | undefined): HistoryWindow;
  instrumentsOf(runtime: StrategyRuntime): string[];
  instrumentIndex(instrument: string): number;
  submit(runtime: StrategyRuntime, request: OrderRequest): Readonly<Order>;
  signal(runtime: StrategyRuntime, instrument: string, value: number): void;
  submitBracket(runtime: StrategyRuntime, request: BracketRequest): { entry: Readonly<Order>; takeProfit: Readonly<Order>; stopLoss: Readonly<Order> };
  modify(runtime: StrategyRuntime, id: number, changes: OrderChanges): void;
  cancel(runtime: StrategyRuntime, id: number): void;
  openOrders(runtime: StrategyRuntime, instrument: string | undefined): Readonly<Order>[];
  subscribe(runtime: StrategyRuntime, subscription: BarSubscription): void;
  unsubscribe(runtime: StrategyRuntime, instrument: string, mode: UnsubscribeMode): void;
  setTimer(runtime: StrategyRuntime, name: string, at: number, everyMs: number): void;
  cancelTimer(runtime: StrategyRuntime, name: string): void;
}

class MapState implements StrategyState {
  private readonly map: Map<string, unknown>;
  constructor(initial: Record<string, unknown>) {
    this.map = new Map(Object.entries(initial));
  }
  get<T = unknown>(key: string): T | undefined {
    return this.map.get(key) as T | undefined;
  }
  set(key: string, value: unknown): void {
    // JSON round trip: the runner persists this state, so only JSON values are allowed
    this.map.set(key, value === undefined ? undefined : JSON.parse(JSON.stringify(value)));
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  entries(): [string, unknown][] {
    return [...this.map.entries()];
  }
}

/** A strategy instance inside a kernel: its definition, validated params, context and handlers. */
export class StrategyRuntime {
  readonly context: StrategyContext;
  readonly handlers: Strategy;

  constructor(
    readonly id: string,
    readonly definition: StrategyDefinition,
    readonly params: unknown,
    services: KernelServices,
    log: Logger,
    seed: number,
    initialState: Record<string, unknown> = {},
  ) {
    const self = this;
    const orders = new OrderFactory();
    const idOf = (o: Readonly<Order> | number): number => (typeof o === 'number' ? o : o.id);
    this.context = Object.freeze({
      strategyId: id,
      environment: services.environment,
      params: Object.freeze(params) as Readonly<unknown>,
      now: () => services.now(),
      log: log.child({ strategy: id }),
      random: new SeededRandom(seed).fork(id),
      state: new MapState(initialState),
      portfolio: services.portfolio,
      orders,
      instruments: () => services.instrumentsOf(self),
      instrumentIndex: (instrument: string) => services.instrumentIndex(instrument),
      history: (instrument: string, interval?: Interval, kind?: BarKind) => services.history(instrument, interval, kind),
      submit: (r: OrderRequest) => services.submit(self, r),
      submitBracket: (r: BracketRequest) => services.submitBracket(self, r),
      signal: (instrument: string, value: number) => services.signal(self, instrument, value),
      modify: (o: Readonly<Order> | number, c: OrderChanges) => services.modify(self, idOf(o), c),
      cancel: (o: Readonly<Order> | number) => services.cancel(self, idOf(o)),
      cancelAll: (instrument?: string) => {
        for (const o of services.openOrders(self, instrument)) services.cancel(self, o.id);
      },
      openOrders: (instrument?: string) => services.openOrders(self, instrument),
      subscribe: (s: BarSubscription) => services.subscribe(self, s),
      unsubscribe: (instrument: string, mode: UnsubscribeMode = 'immediate') => services.unsubscribe(self, instrument, mode),
      setTimer: (name: string, at: number, everyMs?: number) => services.setTimer(self, name, at, everyMs ?? 0),
      cancelTimer: (name: string) => services.cancelTimer(self, name),
    });
    this.handlers = definition.create(this.context);
  }
}
