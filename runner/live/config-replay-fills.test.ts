/** The replay section's fill model: how the simulator the runner starts fills orders. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateRunnerConfig } from './config.js';

const example = () => parse(readFileSync('runner/examples/replay.yaml', 'utf8')) as { replay: Record<string, unknown> };

describe('replay.fillModel', () => {
  it('defaults to the quote model with IB fixed commissions and no slippage', () => {
    const c = validateRunnerConfig(example(), 'replay.yaml');
    expect(c.replay).toMatchObject({ fillModel: 'quote', commission: 'ib-fixed', slippageBps: 0 });
  });

  it('selects the backtest model with its costs', () => {
    const doc = example();
    Object.assign(doc.replay, { fillModel: 'backtest', commission: 'ib-tiered', slippageBps: 2 });
    expect(validateRunnerConfig(doc, 'replay.yaml').replay).toMatchObject({ fillModel: 'backtest', commission: 'ib-tiered', slippageBps: 2 });
  });

  it('names every wrong value by its path', () => {
    const doc = example();
    Object.assign(doc.replay, { fillModel: 'mid', slippageBps: -1 });
    expect(() => validateRunnerConfig(doc, 'replay.yaml')).toThrow(/replay\.fillModel: expected one of quote, backtest, got 'mid'[\s\S]*replay\.slippageBps: expected a number of basis points >= 0, got -1/);
  });
});
