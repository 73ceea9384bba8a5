import { describe, expect, it } from 'vitest';
import { resolveTradingParams, toRiskLimits } from './config.js';
import { preemptionOptions } from './config-schema-strategy.js';
import { signalAgeOptions } from './config-schema-signals.js';
import { base, change, load, problems, type Raw } from './config-test-fixtures.js';

describe('signal-driven universe, signals and control (issue 10)', () => {
  const dynamic = (c: Raw) => {
    c.universe = { mode: 'dynamic' };
    c.signals = { provider: 'duckdb', db: 'signals.duckdb' };
  };

  it('dynamic: no symbols, overrides for any ticker (templates), sizes required in the defaults, risk backstop from them', () => {
    const c = load(change((c) => (dynamic(c), (c.trading.symbols = { NVDA: { maxPosition: 300, unitSize: 100 } }))));
    expect(c.universe).toMatchObject({ mode: 'dynamic', symbols: [] });
    expect(c.signals).toMatchObject({ provider: 'duckdb', db: 'signals.duckdb', pollSeconds: 1, lateSeconds: 60 });
    // the engine's backstop covers the largest of the defaults and every override
    expect(toRiskLimits(c).maxPositionQuantity).toBe(300);
    expect(resolveTradingParams(c, 'TSLA').maxPosition).toBe(c.trading.defaults.maxPosition);
    expect(problems(change((c) => (dynamic(c), delete c.trading.defaults.unitSize)))).toEqual([
      'trading.defaults.unitSize: required with a signal-driven universe (universe.mode dynamic/mixed): tickers that arrive with signals trade with the defaults',
    ]);
  });

  it('refuses dynamic with symbols, a signal-driven universe without signals, retirement in a static one', () => {
    expect(problems(change((c) => (dynamic(c), (c.universe.symbols = ['SPY']))))).toEqual(['universe.symbols: a dynamic universe is signal-driven only; use mode: mixed for configured symbols plus signal-driven ones']);
    expect(problems(change((c) => (c.universe = { mode: 'mixed', symbols: ['SPY', 'QQQ'] })))).toEqual(['signals: required with universe.mode mixed (where the signals that bring tickers in come from)']);
    expect(problems(change((c) => (c.universe.retireAfterMinutes = 5)))).toEqual(['universe.retireAfterMinutes: only signal-driven symbols (mode dynamic or mixed) are retired']);
    expect(problems(change((c) => (dynamic(c), delete c.signals.db)))).toEqual(['signals.db: required (the DuckDB store holding the signals table)']);
  });

  it('preemption: optional (the universe defaults apply), checked, mapped to the universe options, refused in a static universe', () => {
    expect(preemptionOptions(load(change(dynamic)).universe)).toEqual({});
    const c = load(change((c) => (dynamic(c), (c.universe.preemption = { enabled: false, minActiveMinutes: 2, margin: 0 }))));
    expect(preemptionOptions(c.universe)).toEqual({ preempt: false, minActiveMs: 120_000, preemptMargin: 0 });
    expect(problems(change((c) => (dynamic(c), (c.universe.preemption = { enabled: 'no', margin: -1, after: 3 }))))).toEqual([
      "universe.preemption.enabled: expected true or false, got 'no'",
      'universe.preemption.margin: expected a number >= 0 (0.25: 25% stronger), got -1',
      'universe.preemption.after: unknown setting; expected one of enabled, minActiveMinutes, margin, maxEvictionsPer10Min',
    ]);
    expect(problems(change((c) => (c.universe.preemption = { enabled: true })))).toEqual(['universe.preemption: only signal-driven symbols (mode dynamic or mixed) give up their lines']);
  });

  it('preemption.maxEvictionsPer10Min: the eviction budget, a positive integer, mapped to the universe option (unset: the default 30)', () => {
    const c = load(change((c) => (dynamic(c), (c.universe.preemption = { maxEvictionsPer10Min: 12 }))));
    expect(preemptionOptions(c.universe)).toEqual({ maxEvictionsPer10Min: 12 });
    expect(preemptionOptions(load(change((c) => (dynamic(c), (c.universe.preemption = { margin: 0.5 })))).universe)).not.toHaveProperty('maxEvictionsPer10Min');
    for (const bad of [0, 2.5, -3, 'many']) {
      expect(problems(change((c) => (dynamic(c), (c.universe.preemption = { maxEvictionsPer10Min: bad }))))).toEqual([
        `universe.preemption.maxEvictionsPer10Min: expected a positive integer (evictions in any 10 minutes), got ${typeof bad === 'string' ? `'${bad}'` : bad}`,
      ]);
    }
  });

  it('adoptPositions: optional (unset means journal, no default written), journal or all, refused in a static universe', () => {
    expect(load(change(dynamic)).universe).not.toHaveProperty('adoptPositions');
    expect(load(change((c) => (dynamic(c), (c.universe.adoptPositions = 'all')))).universe.adoptPositions).toBe('all');
    expect(load(change((c) => (dynamic(c), (c.universe.adoptPositions = 'journal')))).universe.adoptPositions).toBe('journal');
    expect(problems(change((c) => (dynamic(c), (c.universe.adoptPositions = 'everything'))))).toEqual(["universe.adoptPositions: expected one of journal, all, got 'everything'"]);
    expect(problems(change((c) => (c.universe.adoptPositions = 'all')))).toEqual(['universe.adoptPositions: a static universe adopts the positions in its symbols only (mode dynamic or mixed choose)']);
  });

  it('control: loopback only, a token of 16+ characters from the file or $MONGER_CONTROL_TOKEN', () => {
    expect(problems(change((c) => (c.control = { enabled: true })))).toEqual(['control.token: required when the control API is enabled (here or in $MONGER_CONTROL_TOKEN)']);
    expect(load(change((c) => (c.control = { enabled: true, port: 8799 })), { MONGER_CONTROL_TOKEN: 'x'.repeat(20) }).control).toEqual({ enabled: true, host: '127.0.0.1', port: 8799, token: 'x'.repeat(20) });
    expect(problems(change((c) => (c.control = { enabled: true, token: 'short' })))).toEqual(['control.token: expected at least 16 characters, got 5']);
    expect(problems(change((c) => (c.control = { enabled: true, host: '0.0.0.0', token: 'x'.repeat(16) })))).toEqual([
      "control.host: '0.0.0.0' is not a loopback address: the control API trades, it listens on 127.0.0.1, ::1 or localhost only",
    ]);
  });
});

describe('signals.maxAgeSeconds: a resumed run does not trade its downtime backlog', () => {
  const dynamic = (c: Raw) => {
    c.universe = { mode: 'dynamic' };
    c.signals = { provider: 'duckdb', db: 'signals.duckdb' };
  };

  it('defaults to 300 s, mapped to the universe maxSignalAgeMs; set, it is taken as given', () => {
    const c = load(change(dynamic));
    expect(c.signals!.maxAgeSeconds).toBe(300);
    expect(signalAgeOptions(c.signals)).toEqual({ maxSignalAgeMs: 300_000 });
    expect(signalAgeOptions(load(change((c) => (dynamic(c), (c.signals.maxAgeSeconds = 1800)))).signals)).toEqual({ maxSignalAgeMs: 1_800_000 });
    // no signals (a static universe): the universe keeps its own default
    expect(signalAgeOptions(load(base()).signals)).toEqual({});
  });

  it('refuses a non-positive age and one below lateSeconds + pollSeconds (a late row would be polled, then dropped)', () => {
    // (a section that does not parse counts as missing too: the universe's 'required' follows)
    expect(problems(change((c) => (dynamic(c), (c.signals.maxAgeSeconds = 0))))).toContain('signals.maxAgeSeconds: expected a positive number of seconds, got 0');
    expect(problems(change((c) => (dynamic(c), (c.signals.maxAgeSeconds = 'old'))))).toContain("signals.maxAgeSeconds: expected a positive number of seconds, got 'old'");
    const below = (late: number, poll: number, got: number) =>
      `signals.maxAgeSeconds: expected at least lateSeconds + pollSeconds (${late} + ${poll} = ${late + poll}): a row inserted lateSeconds late is polled up to a poll later and would be dropped as stale, got ${got}`;
    // the default lateSeconds (60) counts too: 600 s polls need 660
    expect(problems(change((c) => (dynamic(c), (c.signals.pollSeconds = 600))))).toEqual([below(60, 600, 300)]);
    expect(problems(change((c) => (dynamic(c), (c.signals.pollSeconds = 600), (c.signals.maxAgeSeconds = 600))))).toEqual([below(60, 600, 600)]);
    expect(load(change((c) => (dynamic(c), (c.signals.pollSeconds = 600), (c.signals.maxAgeSeconds = 660)))).signals!.maxAgeSeconds).toBe(660);
  });

  it('refuses an age the late-row window alone exceeds; the limit is inclusive', () => {
    // lateSeconds 300 with the default 1 s polls: the default 300 s would drop every row that came 300 s late
    expect(problems(change((c) => (dynamic(c), (c.signals.lateSeconds = 300))))).toEqual([
      'signals.maxAgeSeconds: expected at least lateSeconds + pollSeconds (300 + 1 = 301): a row inserted lateSeconds late is polled up to a poll later and would be dropped as stale, got 300',
    ]);
    expect(load(change((c) => (dynamic(c), (c.signals.lateSeconds = 299)))).signals!.maxAgeSeconds).toBe(300);
    expect(load(change((c) => (dynamic(c), (c.signals.lateSeconds = 0), (c.signals.pollSeconds = 5), (c.signals.maxAgeSeconds = 5)))).signals!.maxAgeSeconds).toBe(5);
  });

  it('an accelerated replay scales the age limit to at least 10 real seconds (10 × speed simulated seconds)', () => {
    const s = load(change(dynamic)).signals;
    // 300x: 300 simulated seconds are one real second; 10 × 300 = 3000 s
    expect(signalAgeOptions(s, 300)).toEqual({ maxSignalAgeMs: 3_000_000 });
    // 20x: 200 s < 300 s configured: the configured limit stands
    expect(signalAgeOptions(s, 20)).toEqual({ maxSignalAgeMs: 300_000 });
    // real time (live, or a replay at 1x or slower): as configured
    expect(signalAgeOptions(s, 1)).toEqual({ maxSignalAgeMs: 300_000 });
    expect(signalAgeOptions(s, 0.5)).toEqual({ maxSignalAgeMs: 300_000 });
    expect(signalAgeOptions(s, undefined)).toEqual({ maxSignalAgeMs: 300_000 });
    expect(signalAgeOptions(undefined, 300)).toEqual({});
  });
});
