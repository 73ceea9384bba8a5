/**
 * The supervisor's settings: the checks its options must pass (a ConfigError names every problem),
 * and the options and RiskEngine limits the runner derives from its config, in one place so the live
 * runner, parity and the benchmark configure the supervisor identically.
 */
import type { InstrumentRiskLimits, RiskLimits } from '../../lib/engine/risk-engine.js';
import { resolveTradingParams, toRiskLimits, type RunnerConfig } from './config.js';
import type { SupervisorLossLimits, SupervisorOptions, SupervisorSessionSettings } from './supervisor-types.js';

/** Every problem of the supervisor's settings, as `path: what was expected` ([] when valid) */
export function optionProblems(s: SupervisorSessionSettings, loss: SupervisorLossLimits, dd: number | undefined): string[] {
  const problems: string[] = [];
  const nonNegative = (v: number, path: string) => {
    if (!(Number.isFinite(v) && v >= 0)) problems.push(`${path}: expected a number >= 0, got ${v}`);
  };
  nonNegative(s.noNewEntriesMinutesBeforeClose, 'session.noNewEntriesMinutesBeforeClose');
  nonNegative(s.flattenMinutesBeforeClose, 'session.flattenMinutesBeforeClose');
  for (const k of ['maxLossPerTrade', 'maxCumulativeLoss', 'clipActivation'] as const) {
    const v = loss[k];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) problems.push(`account.${k}: expected a positive amount, got ${v}`);
  }
  if (loss.clipStopLoss !== undefined && !(loss.clipStopLoss > 0 && loss.clipStopLoss < 1)) problems.push(`account.clipStopLoss: expected a fraction above 0 and below 1, got ${loss.clipStopLoss}`);
  if ((loss.clipActivation === undefined) !== (loss.clipStopLoss === undefined)) problems.push('account: clipActivation and clipStopLoss go together');
  if (dd !== undefined && !(dd > 0 && dd < 100)) problems.push(`drawdownHaltPct: expected a percentage above 0 and below 100, got ${dd}`);
  return problems;
}

// ---- from the runner config -------------------------------------------------------------------

type LimitsConfig = Pick<RunnerConfig, 'risk' | 'trading' | 'universe'>;

/**
 * Every pre-trade limit of the config the RiskEngine enforces: `toRiskLimits` plus net leverage,
 * open orders and the per-symbol allocation (`maxPositionNotionalPerSymbol`). Per-symbol
 * `maxPosition` goes through `supervisorOptionsFromConfig(...).instrumentLimits`.
 */
export function riskLimitsFromConfig(config: LimitsConfig): RiskLimits {
  const r = config.risk;
  return {
    ...toRiskLimits(config),
    maxPositionNotional: r.maxPositionNotionalPerSymbol,
    maxOpenOrders: r.maxOpenOrders,
    ...(r.maxNetLeverage !== undefined ? { maxNetLeverage: r.maxNetLeverage } : {}),
  };
}

/** The supervisor's settings from the runner config (session guard, account limits, drawdown breaker, per-symbol maxPosition) */
export function supervisorOptionsFromConfig(config: LimitsConfig & Pick<RunnerConfig, 'session' | 'account'>): Pick<SupervisorOptions, 'session' | 'account' | 'drawdownHaltPct' | 'instrumentLimits'> {
  const instrumentLimits: Record<string, InstrumentRiskLimits> = {};
  for (const sym of config.universe.symbols) instrumentLimits[sym] = { maxPositionQuantity: resolveTradingParams(config, sym).maxPosition };
  return {
    session: { ...config.session },
    account: { ...config.account },
    drawdownHaltPct: config.risk.drawdownHaltPct,
    instrumentLimits,
  };
}
