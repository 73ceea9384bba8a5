/**
 * The default LineAllocator: a fixed budget of market-data lines, `perInstrument` each (IB: one L1
 * line + one realtime-bar line; a backtest: 1), minus lines reserved for others. Acquiring never
 * exceeds the budget: an instrument gets all its lines or none (half an instrument cannot trade).
 * Who waits, and in which order, is the universe manager's business (priorities need its state).
 */
import type { LineAllocator } from './universe-types.js';

export class LinePool implements LineAllocator {
  readonly budget: number;
  private readonly held = new Set<string>();
  /** Most lines ever held at once (tests, status) */
  peak = 0;

  constructor(
    budget: number,
    readonly perInstrument = 1,
    reserved = 0,
  ) {
    for (const [name, v] of [
      ['perInstrument', perInstrument],
      ['reserved', reserved],
    ] as const) {
      if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`${name} must be an integer >= 0, was ${v}`);
    }
    if (!(budget === Infinity || (Number.isInteger(budget) && budget >= 0))) throw new RangeError(`budget must be an integer >= 0 or Infinity, was ${budget}`);
    this.budget = Math.max(0, budget - reserved);
  }

  get used(): number {
    return this.held.size * this.perInstrument;
  }

  holds(symbol: string): boolean {
    return this.held.has(symbol);
  }

  tryAcquire(symbol: string): boolean {
    if (this.held.has(symbol)) return true;
    if (this.used + this.perInstrument > this.budget) return false;
    this.held.add(symbol);
    this.peak = Math.max(this.peak, this.used);
    return true;
  }

  release(symbol: string): void {
    this.held.delete(symbol);
  }
}
