/**
 * `account` and `risk`: money limits, all required (nothing dangerous has a default). The
 * supervisor enforces the account limits; the RiskEngine the pre-trade ones (see config-views.ts).
 */
import type { z } from 'zod';
import { bool, finite, percent, positive, positiveInt, section } from './config-schema-util.js';
import type { Validation } from './config-validation.js';

/**
 * Account-level limits, in the account currency.
 * - maxLossPerTrade: a position whose loss reaches this is closed.
 * - maxCumulativeLoss: realized + unrealized loss of the session at which the runner flattens and
 *   halts new entries.
 * - clip: once the account's unrealized gain exceeds `clipActivation`, a stop is armed at
 *   `clipStopLoss` (a fraction in (0, 1)) of the highest unrealized gain since; when the gain falls
 *   back to that level the positions are closed, keeping that share of the gain.
 */
export const accountSchema = section({
  maxLossPerTrade: positive('a positive amount'),
  maxCumulativeLoss: positive('a positive amount'),
  clipActivation: positive('a positive amount').optional(),
  clipStopLoss: finite('a fraction above 0 and below 1', (n) => n > 0 && n < 1).optional(),
});
export type AccountLimits = z.output<typeof accountSchema>;

/**
 * Pre-trade risk (all required but maxNetLeverage and allowShort).
 * maxPositionNotionalPerSymbol is the per-symbol allocation; leverages are exposure / equity;
 * drawdownHaltPct: a drawdown of the equity from its peak (percent) that halts new entries.
 */
export const riskSchema = section({
  maxOrderQuantity: positive(),
  maxOrderNotional: positive('a positive amount'),
  maxPositionNotionalPerSymbol: positive('a positive amount'),
  maxGrossLeverage: positive(),
  maxNetLeverage: positive().optional(),
  maxOpenOrders: positiveInt(),
  drawdownHaltPct: percent('a percentage above 0 and below 100', 100),
  allowShort: bool().default(false),
});
export type RiskSettings = z.output<typeof riskSchema>;

export function checkLimits(account: AccountLimits | undefined, risk: RiskSettings | undefined, v: Validation): void {
  if (account !== undefined) {
    if (account.maxLossPerTrade > account.maxCumulativeLoss) {
      v.problem(['account', 'maxLossPerTrade'], `${account.maxLossPerTrade} exceeds account.maxCumulativeLoss ${account.maxCumulativeLoss}`);
    }
    if ((account.clipActivation === undefined) !== (account.clipStopLoss === undefined)) {
      const [missing, given] = account.clipActivation === undefined ? ['clipActivation', 'clipStopLoss'] : ['clipStopLoss', 'clipActivation'];
      v.problem(['account', missing], `required with account.${given} (the clip needs both: the gain that arms it and the share of that gain its stop keeps)`);
    }
  }
  if (risk !== undefined && risk.maxNetLeverage !== undefined && risk.maxNetLeverage > risk.maxGrossLeverage) {
    v.problem(['risk', 'maxNetLeverage'], `${risk.maxNetLeverage} exceeds risk.maxGrossLeverage ${risk.maxGrossLeverage}; net exposure never exceeds gross, so it could never bind`);
  }
}
