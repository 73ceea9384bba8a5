import { describe, expect, it } from 'vitest';
import { createRunnerLogger, type LogScheduler } from './logger.js';

function sink() {
  const lines: Record<string, unknown>[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } };
}

/** Timers run only when the test moves time */
class FakeTimers implements LogScheduler {
  t = 0;
  private timers: { at: number; cb: () => void; id: number }[] = [];
  private seq = 0;
  setTimeout(cb: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.push({ at: this.t + ms, cb, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  get pending(): number {
    return this.timers.length;
  }
  advance(to: number): void {
    this.t = to;
    for (const x of [...this.timers].sort((a, b) => a.at - b.at)) {
      if (x.at > to) continue;
      this.timers = this.timers.filter((y) => y !== x);
      x.cb();
    }
  }
}

describe('createRunnerLogger', () => {
  it('writes pino JSON lines with the message, the fields, the level label and the injected time', () => {
    const { lines, destination } = sink();
    const log = createRunnerLogger({ destination, now: () => 1_700_000_000_123, bindings: { runner: 'test' } });
    log.info('entry', { instrument: 'SPY', signal: 1.5, orderId: 7 });
    log.child({ strategy: 'sma-cross' }).warn('order rejected', { reason: 'risk' });
    log.debug('not written at info');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', time: 1_700_000_000_123, runner: 'test', msg: 'entry', instrument: 'SPY', signal: 1.5, orderId: 7, pid: process.pid }),
      expect.objectContaining({ level: 'warn', strategy: 'sma-cross', msg: 'order rejected', reason: 'risk' }),
    ]);
    expect(log.stats).toEqual({ written: 2, dropped: 0, summaries: 0 });
  });

  it('rate limit: lines beyond maxLinesPerSecond are dropped and counted; one summary per second with drops, at the window end', () => {
    const { lines, destination } = sink();
    const timers = new FakeTimers();
    const log = createRunnerLogger({ destination, now: () => timers.t, scheduler: timers, maxLinesPerSecond: 10, level: 'debug' });
    const child = log.child({ component: 'ib' });
    // a storm: 1000 lines in the first 500 ms, from the logger and a child (one shared budget)
    for (let i = 0; i < 1000; i++) {
      timers.t = Math.floor(i / 2);
      (i % 2 === 0 ? log : child)[i % 10 === 9 ? 'error' : 'debug']('tick', { i });
    }
    expect(lines.length).toBe(10);
    expect(lines.map((l) => l.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(log.stats).toEqual({ written: 10, dropped: 990, summaries: 0 });
    expect(timers.pending).toBe(1);
    // the window ends with no further line: the timer writes the summary
    timers.advance(1000);
    expect(lines.length).toBe(11);
    expect(lines[10]).toMatchObject({ level: 'warn', msg: 'log lines dropped (rate limit)', dropped: 990, droppedByLevel: { debug: 891, error: 99 }, droppedTotal: 990, windowStart: 0, maxLinesPerSecond: 10 });
    // a quiet second: nothing dropped, no summary
    for (let i = 0; i < 5; i++) log.info('quiet', { i });
    timers.advance(2500);
    expect(lines.length).toBe(16);
    expect(log.stats.summaries).toBe(1);
    // drops in a window, then a line of the next window: the summary comes first, once
    for (let i = 0; i < 12; i++) log.info('burst', { i });
    timers.t = 3600; // the next window starts with this line (the summary timer has not run yet)
    log.info('after');
    expect(lines.slice(-3).map((l) => [l.msg, l.dropped ?? null])).toEqual([
      ['burst', null],
      ['log lines dropped (rate limit)', 2],
      ['after', null],
    ]);
    expect(timers.pending).toBe(0);
    timers.advance(10_000);
    expect(log.stats).toEqual({ written: 10 + 5 + 10 + 1, dropped: 992, summaries: 2 });
  });

  it('lines filtered by level do not use the budget; flush() writes a pending summary', () => {
    const { lines, destination } = sink();
    const timers = new FakeTimers();
    const log = createRunnerLogger({ destination, now: () => timers.t, scheduler: timers, maxLinesPerSecond: 2, level: 'error' });
    for (let i = 0; i < 100; i++) log.debug('filtered');
    log.error('a');
    log.error('b');
    log.fatal('c');
    expect(lines.map((l) => l.msg)).toEqual(['a', 'b']);
    log.flush();
    // warn is filtered out at level error: the summary is written at fatal
    expect(lines[2]).toMatchObject({ level: 'fatal', msg: 'log lines dropped (rate limit)', dropped: 1, droppedByLevel: { fatal: 1 } });
  });

  it('refuses a bad limit', () => {
    expect(() => createRunnerLogger({ maxLinesPerSecond: 0, destination: { write: () => undefined } })).toThrow(RangeError);
  });

  it('a storm does not stall the loop: 100 000 calls with a limit of 200 write 200 lines quickly', () => {
    let written = 0;
    const log = createRunnerLogger({ destination: { write: () => void written++ }, maxLinesPerSecond: 200, now: () => 0, scheduler: new FakeTimers() });
    const t0 = performance.now();
    for (let i = 0; i < 100_000; i++) log.error('pacing violation', { reqId: i });
    const ms = performance.now() - t0;
    expect(written).toBe(200);
    expect(log.stats.dropped).toBe(99_800);
    expect(ms).toBeLessThan(1_000);
  });
});
