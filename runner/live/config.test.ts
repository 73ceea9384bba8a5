import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../lib/core/errors.js';
import { loadRunnerConfig, loadTradingRules, parseRunnerConfig, resolveTradingParams, toRiskLimits, tradingRules } from './config.js';
import { resolveTradingParams as resolveRuleParams } from '../../lib/trading/trading-params.js';
import { strategyNames } from '../../strategies/index.js';

import { base, change, load, problems, replayBase } from './config-test-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'monger-runner-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('shipped examples', () => {
  it('runner/examples/paper.yaml validates', () => {
    const c = loadRunnerConfig('runner/examples/paper.yaml', {});
    expect(c.mode).toBe('paper');
    expect(c.ib).toEqual({ host: '127.0.0.1', port: 4002, clientId: 17, account: 'DU1234567' });
    expect(c.strategy).toEqual({ name: 'sma-cross', version: '1.0.0', params: { fast: 10, slow: 30, size: 100 }, interval: '1m', warmup: 30 });
    expect(c.universe.symbols).toEqual(['SPY', 'QQQ']);
    expect(resolveTradingParams(c, 'QQQ')).toMatchObject({ unitSize: 50, maxPosition: 100, spread: 'mid', stop: 'trailing', offsetTicks: 1 });
    expect(c.data.depth).toEqual(['SPY']);
    expect(c.replay).toBeUndefined();
  });

  it('runner/examples/replay.yaml validates', () => {
    const c = loadRunnerConfig('runner/examples/replay.yaml', {});
    expect(c.mode).toBe('replay');
    expect(c.replay).toMatchObject({
      db: ':memory:',
      import: ['data/lean/equity/usa/minute/spy'],
      speed: 600,
      connect: false,
      simulator: { port: 0, serverVersion: 193 },
      fromMs: Date.parse('2013-10-08T13:00:00Z'),
      toMs: Date.parse('2013-10-08T20:00:00Z'),
    });
    expect(c.health.port).toBe(0);
    expect(c.journal.path).toBe('data/journal-replay.duckdb');
  });

  it('the base config of these tests is valid and gets the safe defaults', () => {
    const c = load(base());
    expect(c.session).toEqual({ noNewEntriesMinutesBeforeClose: 15, flattenMinutesBeforeClose: 5, tradeOutsideSessions: false });
    expect(c.data).toEqual({ lineBudget: 100, allowMoreLines: false, staleSeconds: 30, depth: [], realtimeBars: true });
    expect(c.health).toEqual({ host: '127.0.0.1', eventLoopLagMs: 200 });
    expect(c.journal).toEqual({ path: 'data/journal.duckdb' });
    expect(c.logging).toEqual({ level: 'info', maxLinesPerSecond: 200 });
    expect(c.universe).toEqual({ mode: 'static', symbols: ['SPY', 'QQQ'], removal: { flatten: 'market' }, secType: 'STK', exchange: 'SMART', currency: 'USD' });
    expect(c.control).toEqual({ enabled: false, host: '127.0.0.1', port: 0 });
    expect(c.signals).toBeUndefined();
    expect(c.risk.allowShort).toBe(false);
    expect(c.source).toBe('runner.yaml');
  });
});

describe('reading the file', () => {
  it('names the file in the ConfigError and lists every problem', () => {
    const path = file('bad.yaml', stringify(change((c) => (c.trading.symbols = { SPY: { maxPosition: -5 } }))));
    let error: unknown;
    try {
      loadRunnerConfig(path, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    expect((error as ConfigError).message).toBe(`${path}: invalid configuration\n  - trading.symbols.SPY.maxPosition: expected a positive number, got -5`);
  });

  it('reports a file it cannot read', () => {
    expect(() => loadRunnerConfig(join(dir, 'missing.yaml'), {})).toThrow(/missing\.yaml: invalid configuration\n {2}- cannot read the runner config: ENOENT/);
  });

  it('reports YAML syntax errors with line and column', () => {
    try {
      parseRunnerConfig('mode: paper\nib:\n  port: [4002\n', 'x.yaml');
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).problems[0]).toMatch(/^line \d+, column \d+: /);
    }
    expect(() => parseRunnerConfig('mode: paper\nmode: live\n', 'x.yaml')).toThrow(/line 2, column 1: Map keys must be unique/);
  });

  it('refuses a file that is not a mapping', () => {
    expect(() => parseRunnerConfig('', 'empty.yaml')).toThrow('empty.yaml: invalid configuration\n  - (root): expected a mapping of settings (mode, ib, strategy, …), got an empty value');
    expect(problems(['mode', 'paper'])).toEqual(['(root): expected a mapping of settings (mode, ib, strategy, …), got a list']);
  });

  it('refuses unknown sections and unknown settings, each by its path', () => {
    expect(problems({ ...base(), journl: { path: 'x' } })).toEqual([
      'journl: unknown section; expected one of mode, ib, strategy, universe, trading, account, risk, session, data, health, journal, logging, replay, signals, control',
    ]);
    expect(problems(change((c) => (c.trading.defaults.maxPositon = 300)))).toEqual([
      'trading.defaults.maxPositon: unknown setting; expected one of unitSize, maxPosition, tradeThreshold, maxHoldMinutes, takeProfitPct, stopLossPct, stop, spread, offsetTicks, invertSignals',
    ]);
  });

  it('lists problems of many sections at once', () => {
    const bad = change((c) => {
      delete c.mode;
      c.ib.clientId = 'seven';
      c.strategy.interval = '7m';
      c.universe.symbols = ['SPY', 'spy'];
      c.trading.symbols = { SPY: { maxPosition: -5, stop: 'sometimes' } };
      c.account.maxLossPerTrade = 0;
      delete c.risk.maxOpenOrders;
      c.session = { flattenMinutesBeforeClose: 2 };
      c.logging = { level: 'loud' };
    });
    expect(problems(bad)).toEqual([
      'mode: required (one of paper, live, replay)',
      "ib.clientId: expected a client id (integer 0..2147483647), got 'seven'",
      "strategy.interval: expected one of 1m, 2m, 3m, 5m, 10m, 15m, 30m, 1d, got '7m'",
      "universe.symbols[1]: expected 1-10 uppercase letters/digits with at least one letter (optionally a .B, -B or ' B' class suffix), was 'spy'",
      'trading.symbols.SPY.maxPosition: expected a positive number, got -5',
      "trading.symbols.SPY.stop: expected one of static, trailing, got 'sometimes'",
      'account.maxLossPerTrade: expected a positive amount, got 0',
      'risk.maxOpenOrders: required (a positive integer)',
      'session.flattenMinutesBeforeClose: expected a number of minutes >= 5 (positions are flat at least 5 minutes before the close), got 2',
      "logging.level: expected one of trace, debug, info, warn, error, fatal, got 'loud'",
    ]);
  });
});

describe('mode and ib', () => {
  it('requires the mode and knows only paper, live and replay', () => {
    expect(problems(change((c) => delete c.mode))).toEqual(['mode: required (one of paper, live, replay)']);
    expect(problems(change((c) => (c.mode = 'papr')))).toEqual(["mode: expected one of paper, live, replay, got 'papr'"]);
  });

  it('requires port and client id for paper and live', () => {
    expect(problems(change((c) => delete c.ib))).toEqual([
      'ib.port: required for mode paper (the API port of a paper session: 7497 TWS, 4002 IB Gateway)',
      'ib.clientId: required for mode paper (a fixed client id lets a restarted runner see and manage its own open orders)',
    ]);
    expect(problems(change((c) => ((c.mode = 'live'), (c.ib = { account: 'U1234567' }))))).toEqual([
      'ib.port: required for mode live (the API port of a live session: 7496 TWS, 4001 IB Gateway)',
      'ib.clientId: required for mode live (a fixed client id lets a restarted runner see and manage its own open orders)',
    ]);
    expect(problems(change((c) => (c.ib.port = 70000)))).toEqual(['ib.port: expected a TCP port (integer 1..65535), got 70000']);
  });

  it('refuses a live port under paper mode, explaining why', () => {
    expect(problems(change((c) => (c.ib.port = 7496)))).toEqual([
      'ib.port: 7496 is the TWS live-trading port but mode is paper; use 7497 (TWS paper) or 4002 (IB Gateway paper), or set mode: live to trade real money',
    ]);
    expect(problems(change((c) => (c.ib.port = 4001)))).toEqual([
      'ib.port: 4001 is the IB Gateway live-trading port but mode is paper; use 7497 (TWS paper) or 4002 (IB Gateway paper), or set mode: live to trade real money',
    ]);
  });

  it('refuses a paper port under live mode', () => {
    const live = (port: number) => change((c) => ((c.mode = 'live'), (c.ib.port = port), (c.ib.account = 'U1234567')));
    expect(problems(live(7497))).toEqual(['ib.port: 7497 is the TWS paper-trading port but mode is live; use 7496 (TWS live) or 4001 (IB Gateway live), or set mode: paper']);
    expect(problems(live(4002))).toEqual(['ib.port: 4002 is the IB Gateway paper-trading port but mode is live; use 7496 (TWS live) or 4001 (IB Gateway live), or set mode: paper']);
    expect(load(live(4001)).ib).toEqual({ host: '127.0.0.1', port: 4001, clientId: 7, account: 'U1234567' });
    // a port configured away from IB's defaults says nothing about the mode
    expect(load(live(4101)).ib.port).toBe(4101);
  });

  it('requires the account for live and checks paper/live account ids against the mode', () => {
    expect(problems(change((c) => ((c.mode = 'live'), (c.ib.port = 4001), delete c.ib.account)))).toEqual([
      'ib.account: required for mode live (the account id the runner trades, e.g. U1234567)',
    ]);
    expect(problems(change((c) => ((c.mode = 'live'), (c.ib.port = 4001))))).toEqual([
      'ib.account: DU1234567 is a paper-trading account (ids starting with D) but mode is live; use the live account id (U1234567) or set mode: paper',
    ]);
    expect(problems(change((c) => (c.ib.account = 'U1234567')))).toEqual([
      'ib.account: U1234567 is a live-trading account but mode is paper; paper account ids start with D (DU1234567)',
    ]);
    expect(problems(change((c) => (c.ib.account = 'ACC-1')))).toEqual(["ib.account: expected an IB account id like U1234567 (live) or DU1234567 (paper), got 'ACC-1'"]);
    expect(load(change((c) => delete c.ib.account)).ib.account).toBeUndefined();
  });

  it('keeps replay away from live ports and live accounts', () => {
    expect(problems(change((c) => ((c.ib = { port: 7496, account: 'U1234567' }), (c.replay.connect = true)), replayBase))).toEqual([
      'ib.port: 7496 is the TWS live-trading port; replay connects only to the TWS simulator',
      'ib.account: U1234567 is a live-trading account; replay runs against the simulator with a paper account id (DU1234567)',
    ]);
  });

  it('starts the simulator in replay unless told to connect to a running one', () => {
    expect(load(replayBase()).ib).toEqual({ host: '127.0.0.1' });
    expect(problems(change((c) => (c.ib = { port: 4002 }), replayBase))).toEqual([
      'ib.port: not used in replay mode: the runner starts the simulator on replay.simulator.port; set replay.connect: true to connect to a running simulator at ib.host:ib.port instead',
    ]);
    expect(problems(change((c) => (c.replay.connect = true), replayBase))).toEqual(['ib.port: required with replay.connect: true (the port of the running simulator)']);
    const connected = load(change((c) => ((c.replay.connect = true), (c.ib = { port: 4002 })), replayBase));
    expect(connected.ib.port).toBe(4002);
    expect(problems(change((c) => ((c.replay.connect = true), (c.ib = { port: 4002 }), (c.replay.simulator = { port: 5000 })), replayBase))).toEqual([
      'replay.simulator: only used when the runner starts the simulator (replay.connect: false)',
    ]);
  });
});

describe('environment overrides', () => {
  it('IB_HOST, IB_PORT and IB_CLIENT_ID replace the file values', () => {
    const c = load(base(), { IB_HOST: 'gateway.internal', IB_PORT: '7497', IB_CLIENT_ID: '42' });
    expect(c.ib).toEqual({ host: 'gateway.internal', port: 7497, clientId: 42, account: 'DU1234567' });
  });

  it('can supply what the file leaves out, and empty variables count as unset', () => {
    const c = load(change((c) => (c.ib = {})), { IB_PORT: '4002', IB_CLIENT_ID: '3', IB_HOST: '' });
    expect(c.ib).toEqual({ host: '127.0.0.1', port: 4002, clientId: 3 });
  });

  it('validates overrides like file values and names the variable', () => {
    expect(problems(base(), { IB_PORT: 'abc', IB_CLIENT_ID: '-1' })).toEqual([
      "ib.port (IB_PORT): expected a TCP port (integer 1..65535), got 'abc'",
      'ib.clientId (IB_CLIENT_ID): expected a client id (integer 0..2147483647), got -1',
    ]);
    expect(problems(base(), { IB_PORT: '4001' })).toEqual([
      'ib.port (IB_PORT): 4001 is the IB Gateway live-trading port but mode is paper; use 7497 (TWS paper) or 4002 (IB Gateway paper), or set mode: live to trade real money',
    ]);
  });

  it('reads process.env by default', () => {
    const path = file('env.yaml', stringify(base()));
    const before = process.env.IB_CLIENT_ID;
    process.env.IB_CLIENT_ID = '99';
    try {
      expect(loadRunnerConfig(path).ib.clientId).toBe(99);
    } finally {
      if (before === undefined) delete process.env.IB_CLIENT_ID;
      else process.env.IB_CLIENT_ID = before;
    }
  });
});

describe('strategy', () => {
  it('must name a registered strategy', () => {
    expect(problems(change((c) => (c.strategy.name = 'sma-crossing')))).toEqual([`strategy.name: unknown strategy 'sma-crossing'; known: ${strategyNames().join(', ')}`]);
    expect(strategyNames()).toContain('sma-cross');
  });

  it('checks the version pin: semver, equal to the code', () => {
    expect(problems(change((c) => (c.strategy.version = 1)))).toEqual(['strategy.version: expected a semver version like 1.0.0, got 1']);
    expect(problems(change((c) => (c.strategy.version = '2.0.0')))).toEqual(['strategy.version: the config pins sma-cross 2.0.0 but the code is 1.0.0; deploy that version or update the pin']);
    expect(load(change((c) => (c.strategy.version = '1.0.0'))).strategy.version).toBe('1.0.0');
  });

  it("validates params with the strategy's own schema and lists its problems under strategy.params", () => {
    expect(problems(change((c) => (c.strategy.params = { fast: 50, slow: 10, bogus: 1 })))).toEqual([
      'strategy.params.bogus: unknown parameter; sma-cross knows fast, slow, size',
      'strategy.params.slow: slow must be greater than fast',
    ]);
    expect(problems(change((c) => (c.strategy.params = 'fast=5')))).toEqual(["strategy.params: expected a mapping of strategy parameters, got 'fast=5'"]);
  });

  it('fills param defaults and the warm-up from the strategy, unless warmup is given', () => {
    const c = load(base());
    expect(c.strategy.params).toEqual({ fast: 5, slow: 20, size: 100 });
    expect(c.strategy.warmup).toBe(20);
    expect(load(change((c) => (c.strategy.warmup = 100))).strategy.warmup).toBe(100);
    expect(problems(change((c) => (c.strategy.warmup = -1)))).toEqual(['strategy.warmup: expected a number of bars (integer >= 0), got -1']);
  });

  it('requires an interval the live runner can build', () => {
    expect(problems(change((c) => delete c.strategy.interval))).toEqual(['strategy.interval: required (one of 1m, 2m, 3m, 5m, 10m, 15m, 30m, 1d)']);
    expect(problems(change((c) => (c.strategy.interval = '1h')))).toEqual(["strategy.interval: expected one of 1m, 2m, 3m, 5m, 10m, 15m, 30m, 1d, got '1h'"]);
    expect(load(change((c) => (c.strategy.interval = '15m'))).strategy.interval).toBe('15m');
  });

  it('is a required section', () => {
    expect(problems(change((c) => delete c.strategy))).toEqual(['strategy: required (a mapping)']);
  });
});

describe('universe', () => {
  it('validates tickers, refuses duplicates and an empty list', () => {
    expect(problems(change((c) => (c.universe.symbols = ['SPY', 'SPY', 'BRK.B', 'TOO-LONG-SYMBOL'])))).toEqual([
      "universe.symbols[3]: expected 1-10 uppercase letters/digits with at least one letter (optionally a .B, -B or ' B' class suffix), was 'TOO-LONG-SYMBOL'",
    ]);
    // duplicates are a cross check: reported once the symbols themselves are valid
    expect(problems(change((c) => (c.universe.symbols = ['SPY', 'QQQ', 'SPY'])))).toEqual(["universe.symbols[2]: 'SPY' is listed twice"]);
    expect(problems(change((c) => ((c.universe.symbols = []), (c.trading.symbols = {}))))).toEqual(['universe.symbols: expected at least one symbol (or mode: dynamic for a signal-driven universe)']);
  });

  it('has secType, exchange and currency defaults that can be changed', () => {
    const c = load(change((c) => Object.assign(c.universe, { secType: 'FUT', exchange: 'CME' })));
    expect(c.universe).toEqual({ mode: 'static', symbols: ['SPY', 'QQQ'], removal: { flatten: 'market' }, secType: 'FUT', exchange: 'CME', currency: 'USD' });
    expect(load(change((c) => Object.assign(c.universe, { removal: { flatten: 'none' } }))).universe.removal).toEqual({ flatten: 'none' });
    expect(problems(change((c) => Object.assign(c.universe, { removal: { flatten: 'limit' } })))).toEqual(["universe.removal.flatten: expected one of market, none, got 'limit'"]);
    expect(problems(change((c) => (c.universe.currency = 'usd')))).toEqual(["universe.currency: expected a currency code like USD, got 'usd'"]);
    expect(problems(change((c) => (c.universe.secType = 'OPT')))).toEqual(["universe.secType: expected one of STK, FUT, CASH, got 'OPT'"]);
  });
});

describe('trading', () => {
  it('reports a bad override by its full path', () => {
    expect(problems(change((c) => (c.trading.symbols.SPY = { maxPosition: -5 })))).toEqual(['trading.symbols.SPY.maxPosition: expected a positive number, got -5']);
  });

  it('validates every trading parameter', () => {
    const bad = change((c) => {
      c.trading.defaults = {
        unitSize: 0,
        maxPosition: null,
        tradeThreshold: -1,
        maxHoldMinutes: 'long',
        takeProfitPct: -2,
        stopLossPct: 100,
        stop: 'fixed',
        spread: 'worst',
        offsetTicks: 1.5,
        invertSignals: 'no',
      };
    });
    expect(problems(bad)).toEqual([
      'trading.defaults.unitSize: expected a positive number of shares, got 0',
      'trading.defaults.maxPosition: expected a positive number, got an empty value',
      'trading.defaults.tradeThreshold: expected a number >= 0, got -1',
      "trading.defaults.maxHoldMinutes: expected a positive number of minutes, got 'long'",
      'trading.defaults.takeProfitPct: expected a positive percentage, got -2',
      'trading.defaults.stopLossPct: expected a percentage above 0 and below 100, got 100',
      "trading.defaults.stop: expected one of static, trailing, got 'fixed'",
      "trading.defaults.spread: expected one of best, mid, offset, got 'worst'",
      'trading.defaults.offsetTicks: expected a positive number of ticks, got 1.5',
      "trading.defaults.invertSignals: expected true or false, got 'no'",
    ]);
  });

  it('refuses overrides of symbols outside the universe', () => {
    expect(problems(change((c) => (c.trading.symbols.TSLA = { unitSize: 10 })))).toEqual(['trading.symbols.TSLA: overrides a symbol that is not in universe.symbols (SPY, QQQ)']);
  });

  it('requires sizes for every symbol, in the defaults or the overrides', () => {
    expect(problems(change((c) => delete c.trading.defaults.unitSize))).toEqual([
      'trading.defaults.unitSize: required (shares per entry) here or in trading.symbols.<SYM> of every symbol; missing for SPY',
    ]);
    expect(problems(change((c) => (c.trading = { symbols: { SPY: { unitSize: 10 } } })))).toEqual([
      'trading.defaults.unitSize: required (shares per entry) here or in trading.symbols.<SYM> of every symbol; missing for QQQ',
      'trading.defaults.maxPosition: required (the largest absolute position in shares) here or in trading.symbols.<SYM> of every symbol; missing for SPY, QQQ',
    ]);
    expect(problems(change((c) => delete c.trading))).toEqual(['trading: required (a mapping)']);
  });

  it('checks the merged parameters of each symbol against each other and the risk limits', () => {
    expect(problems(change((c) => (c.trading.symbols.SPY = { maxPosition: 50 })))).toEqual(['trading.symbols.SPY.maxPosition: 50 is below unitSize 100 for SPY: no entry could ever be made']);
    expect(problems(change((c) => (c.trading.defaults.spread = 'offset')))).toEqual(['trading.defaults.offsetTicks: required with spread: offset (ticks from the near touch towards the far one)']);
    expect(problems(change((c) => (c.trading.symbols.QQQ.spread = 'offset')))).toEqual(['trading.symbols.QQQ.offsetTicks: required with spread: offset (ticks from the near touch towards the far one)']);
    expect(problems(change((c) => (c.trading.defaults.stop = 'trailing')))).toEqual(['trading.defaults.stopLossPct: required with stop: trailing (the trailing distance in percent)']);
    expect(problems(change((c) => (c.risk.maxOrderQuantity = 80)))).toEqual(['trading.defaults.unitSize: 100 exceeds risk.maxOrderQuantity 80: every entry would be rejected']);
  });

  it('resolveTradingParams merges built-in defaults < trading.defaults < trading.symbols.SYM', () => {
    const c = load(change((c) => {
      c.trading.defaults = { unitSize: 100, maxPosition: 200, stopLossPct: 1, spread: 'offset', offsetTicks: 2 };
      c.trading.symbols = { QQQ: { unitSize: 50, stop: 'trailing', spread: 'best', invertSignals: true } };
    }));
    expect(resolveTradingParams(c, 'SPY')).toEqual({ unitSize: 100, maxPosition: 200, tradeThreshold: 0, stopLossPct: 1, stop: 'static', spread: 'offset', offsetTicks: 2, invertSignals: false });
    expect(resolveTradingParams(c, 'QQQ')).toEqual({ unitSize: 50, maxPosition: 200, tradeThreshold: 0, stopLossPct: 1, stop: 'trailing', spread: 'best', offsetTicks: 2, invertSignals: true });
    expect(() => resolveTradingParams(c, 'TSLA')).toThrow("'TSLA' is not in universe.symbols (SPY, QQQ)");
  });
});

describe('trading rules for backtests (monger backtest --trading)', () => {
  it('the config section is the lib TradingRules the kernel takes: the same merge', () => {
    const c = load(base());
    expect(resolveRuleParams(tradingRules(c), 'QQQ')).toEqual(resolveTradingParams(c, 'QQQ'));
  });

  it('reads the trading section of a runner config, or a file of defaults and symbols', () => {
    const fromRunner = loadTradingRules('runner/examples/replay.yaml');
    expect(fromRunner).toEqual({ defaults: { unitSize: 100, maxPosition: 100, spread: 'best' }, symbols: {} });
    const path = file('rules.yaml', stringify({ defaults: { stopLossPct: 1, stop: 'trailing' }, symbols: { SPY: { maxHoldMinutes: 30 } } }));
    expect(loadTradingRules(path)).toEqual({ defaults: { stopLossPct: 1, stop: 'trailing' }, symbols: { SPY: { maxHoldMinutes: 30 } } });
  });

  it('lists every problem by path, naming the file', () => {
    const path = file('bad-rules.yaml', stringify({ defaults: { stopLossPct: 150, sprd: 'mid' }, symbols: { SPY: { unitSize: 10, maxPosition: 5 } } }));
    expect(() => loadTradingRules(path)).toThrow(ConfigError);
    try {
      loadTradingRules(path);
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        'trading.defaults.stopLossPct: expected a percentage above 0 and below 100, got 150',
        'trading.defaults.sprd: unknown setting; expected one of unitSize, maxPosition, tradeThreshold, maxHoldMinutes, takeProfitPct, stopLossPct, stop, spread, offsetTicks, invertSignals',
      ]);
    }
    const crossed = file('crossed-rules.yaml', stringify({ symbols: { SPY: { unitSize: 10, maxPosition: 5, stop: 'trailing' } } }));
    expect(() => loadTradingRules(crossed)).toThrow(/trading\.symbols\.SPY\.maxPosition: 5 is below unitSize 10 for SPY[\s\S]*trading\.symbols\.SPY\.stopLossPct: required with stop: trailing/);
    expect(() => loadTradingRules(join(dir, 'none.yaml'))).toThrow(/none\.yaml: invalid configuration\n {2}- cannot read trading rules: ENOENT/);
  });
});

describe('account and risk', () => {
  it('requires the loss limits', () => {
    expect(problems(change((c) => (c.account = {})))).toEqual([
      'account.maxLossPerTrade: required (a positive amount)',
      'account.maxCumulativeLoss: required (a positive amount)',
    ]);
    expect(problems(change((c) => (c.account.maxLossPerTrade = 5000)))).toEqual(['account.maxLossPerTrade: 5000 exceeds account.maxCumulativeLoss 2000']);
  });

  it('takes the clip as a pair: an activation amount and the kept fraction of the gain', () => {
    expect(load(change((c) => Object.assign(c.account, { clipActivation: 1000, clipStopLoss: 0.5 }))).account).toEqual({
      maxLossPerTrade: 500,
      maxCumulativeLoss: 2000,
      clipActivation: 1000,
      clipStopLoss: 0.5,
    });
    expect(problems(change((c) => (c.account.clipActivation = 1000)))).toEqual([
      'account.clipStopLoss: required with account.clipActivation (the clip needs both: the gain that arms it and the share of that gain its stop keeps)',
    ]);
    expect(problems(change((c) => (c.account.clipStopLoss = 0.5)))).toEqual([
      'account.clipActivation: required with account.clipStopLoss (the clip needs both: the gain that arms it and the share of that gain its stop keeps)',
    ]);
    expect(problems(change((c) => Object.assign(c.account, { clipActivation: 1000, clipStopLoss: 50 })))).toEqual(['account.clipStopLoss: expected a fraction above 0 and below 1, got 50']);
  });

  it('requires every pre-trade limit except net leverage and shorting', () => {
    expect(problems(change((c) => (c.risk = {})))).toEqual([
      'risk.maxOrderQuantity: required (a positive number)',
      'risk.maxOrderNotional: required (a positive amount)',
      'risk.maxPositionNotionalPerSymbol: required (a positive amount)',
      'risk.maxGrossLeverage: required (a positive number)',
      'risk.maxOpenOrders: required (a positive integer)',
      'risk.drawdownHaltPct: required (a percentage above 0 and below 100)',
    ]);
    expect(problems(change((c) => ((c.risk.maxNetLeverage = 3), (c.risk.drawdownHaltPct = 0))))).toEqual([
      'risk.drawdownHaltPct: expected a percentage above 0 and below 100, got 0',
    ]);
    expect(problems(change((c) => (c.risk.maxNetLeverage = 3)))).toEqual(['risk.maxNetLeverage: 3 exceeds risk.maxGrossLeverage 2; net exposure never exceeds gross, so it could never bind']);
  });

  it('toRiskLimits maps what the RiskEngine enforces', () => {
    const c = load(change((c) => ((c.trading.symbols.QQQ.maxPosition = 400), (c.risk.allowShort = true))));
    expect(toRiskLimits(c)).toEqual({ maxOrderQuantity: 200, maxOrderNotional: 100_000, maxGrossLeverage: 2, maxPositionQuantity: 400, allowShort: true });
  });
});

describe('session, data, health, journal, logging', () => {
  it('flattens at least 5 minutes before the close and stops entries no later', () => {
    expect(problems(change((c) => (c.session = { flattenMinutesBeforeClose: 4 })))).toEqual([
      'session.flattenMinutesBeforeClose: expected a number of minutes >= 5 (positions are flat at least 5 minutes before the close), got 4',
    ]);
    expect(problems(change((c) => (c.session = { noNewEntriesMinutesBeforeClose: 10, flattenMinutesBeforeClose: 20 })))).toEqual([
      'session.noNewEntriesMinutesBeforeClose: 10 is less than session.flattenMinutesBeforeClose 20: entries would open after the positions were flattened',
    ]);
    expect(problems(change((c) => (c.session = { tradeOutsideSessions: 'yes' })))).toEqual(["session.tradeOutsideSessions: expected true or false, got 'yes'"]);
    expect(load(change((c) => (c.session = { noNewEntriesMinutesBeforeClose: 30, flattenMinutesBeforeClose: 10 }))).session).toEqual({
      noNewEntriesMinutesBeforeClose: 30,
      flattenMinutesBeforeClose: 10,
      tradeOutsideSessions: false,
    });
  });

  it('keeps the line budget at 100 unless more lines are allowed', () => {
    expect(problems(change((c) => (c.data = { lineBudget: 150 })))).toEqual([
      'data.lineBudget: 150 is above the 100 market-data lines of an IB account; set data.allowMoreLines: true if yours has more (quote booster packs)',
    ]);
    expect(load(change((c) => (c.data = { lineBudget: 150, allowMoreLines: true }))).data.lineBudget).toBe(150);
    expect(problems(change((c) => (c.data = { lineBudget: 0, staleSeconds: -1 })))).toEqual([
      'data.lineBudget: expected a positive number of market-data lines, got 0',
      'data.staleSeconds: expected a positive number of seconds, got -1',
    ]);
  });

  it('takes market depth only for universe symbols', () => {
    expect(problems(change((c) => (c.data = { depth: ['SPY', 'TSLA', 'SPY'] })))).toEqual(["data.depth[1]: 'TSLA' is not in universe.symbols", "data.depth[2]: 'SPY' is listed twice"]);
  });

  it('health: an optional port (0 = ephemeral), lag and memory thresholds', () => {
    expect(load(change((c) => (c.health = { port: 0, memoryMb: 512 }))).health).toEqual({ host: '127.0.0.1', port: 0, eventLoopLagMs: 200, memoryMb: 512 });
    expect(problems(change((c) => (c.health = { port: -1, eventLoopLagMs: 0 })))).toEqual([
      'health.port: expected a TCP port (integer 0..65535; 0 picks a free one), got -1',
      'health.eventLoopLagMs: expected a positive number of milliseconds, got 0',
    ]);
  });

  it('journal and logging', () => {
    expect(load(change((c) => (c.journal = { path: 'x/j.duckdb' }))).journal.path).toBe('x/j.duckdb');
    expect(problems(change((c) => (c.journal = { path: '' })))).toEqual(["journal.path: expected a file path, got ''"]);
    expect(problems(change((c) => (c.logging = { maxLinesPerSecond: 0 })))).toEqual(['logging.maxLinesPerSecond: expected a positive number of lines, got 0']);
    expect(load(change((c) => (c.logging = { level: 'debug' }))).logging).toEqual({ level: 'debug', maxLinesPerSecond: 200 });
  });
});

describe('replay', () => {
  it('is required with mode replay and refused otherwise', () => {
    expect(problems(change((c) => delete c.replay, replayBase))).toEqual(['replay: required with mode: replay (db, from, speed: the stored data the simulator plays)']);
    expect(problems(change((c) => (c.replay = replayBase().replay)))).toEqual(['replay: only allowed with mode: replay (mode is paper); remove it']);
  });

  it('requires db, from and speed; checks instants, order and duration', () => {
    expect(problems(change((c) => (c.replay = {}), replayBase))).toEqual([
      'replay.db: required (a DuckDB store path (or :memory:))',
      'replay.from: required (YYYY-MM-DD or an ISO instant with a zone (2013-10-08T13:30:00Z))',
      'replay.speed: required (a positive number (simulated seconds per real second))',
    ]);
    expect(problems(change((c) => Object.assign(c.replay, { from: '2013-10-08 09:30', duration: '30 minutes' }), replayBase))).toEqual([
      "replay.from: expected YYYY-MM-DD or an ISO instant with a zone (2013-10-08T13:30:00Z), got '2013-10-08 09:30'",
      "replay.duration: expected a duration like 90s, 30m or 2h, got '30 minutes'",
    ]);
    expect(problems(change((c) => Object.assign(c.replay, { from: '2013-02-30' }), replayBase))).toEqual(["replay.from: '2013-02-30' is not a real date"]);
    expect(problems(change((c) => Object.assign(c.replay, { from: '2013-10-08T14:00:00Z', to: '2013-10-08T13:00:00Z' }), replayBase))).toEqual([
      'replay.to: 2013-10-08T13:00:00Z is not after replay.from 2013-10-08T14:00:00Z',
    ]);
    expect(problems(change((c) => (c.replay.simulator = { serverVersion: 200 }), replayBase))).toEqual(['replay.simulator.serverVersion: expected 193 or 176, got 200']);
  });

  it('resolves instants and the duration to ms; a bare to date includes its day', () => {
    const c = load(change((c) => Object.assign(c.replay, { to: '2013-10-08', duration: '30m' }), replayBase));
    expect(c.replay).toMatchObject({
      fromMs: Date.parse('2013-10-08T00:00:00Z'),
      toMs: Date.parse('2013-10-09T00:00:00Z') - 1,
      durationMs: 1_800_000,
      simulator: { port: 0, serverVersion: 193 },
      connect: false,
    });
  });

  it('checks that the data exists', () => {
    expect(problems(change((c) => (c.replay.import = ['data/lean/equity/usa/minute/nope']), replayBase))).toEqual(["replay.import[0]: no such file or folder 'data/lean/equity/usa/minute/nope'"]);
    expect(problems(change((c) => ((c.replay.db = join(dir, 'none.duckdb')), delete c.replay.import), replayBase))).toEqual([
      `replay.db: no such store '${join(dir, 'none.duckdb')}'; import data into it first (monger data import) or list bar files under replay.import`,
    ]);
  });
});
