/**
 * Time for the engine and strategies. Backtests and replays advance a simulated clock from the
 * events; paper and live read the wall clock. Strategies only ever see `now()`.
 */
export interface Clock {
  now(): number;
  readonly kind: 'simulated' | 'wall';
}

export class SimulatedClock implements Clock {
  readonly kind = 'simulated' as const;
  private t: number;

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** Moves time forward; time never goes back */
  advanceTo(t: number): void {
    if (t > this.t) this.t = t;
  }
}

/** The only place in lib that reads the wall clock; composed by the runner for paper and live */
export class WallClock implements Clock {
  readonly kind = 'wall' as const;
  now(): number {
    return Date.now();
  }
}
