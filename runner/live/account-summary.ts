/**
 * The runner's starting cash from the broker (issue 6): one reqAccountSummary for NetLiquidation
 * and TotalCashValue through the session's message budget, cancelled once IB has answered.
 *
 * The kernel starts flat (positions IB holds that are not ours stay external), so its cash is set
 * to the account's NetLiquidation: the engine's equity is then the account's, which is what the
 * leverage limits and the drawdown breaker must be measured against. TotalCashValue is the fallback
 * when IB sends no NetLiquidation; without either (no answer in time, not connected) the runner
 * falls back to a configured amount and says so in the log.
 */
import { EventName } from '@stoqey/ib';
import type { Logger } from '../../lib/core/logger.js';
import type { IbSession } from '../../lib/ib/ib-session.js';

type Session = Pick<IbSession, 'request' | 'api'>;
/** stoqey types `on`/`off` per event */
type Untyped = { on(e: string, l: (...a: never[]) => void): void; off(e: string, l: (...a: never[]) => void): void };

/** Request id of the summary: clear of the resolver (600k), execution (700k), market data (800k) and order ids (1M+) */
export const ACCOUNT_SUMMARY_REQ_ID = 900_001;

export interface AccountSummary {
  account: string;
  netLiquidation?: number;
  totalCashValue?: number;
  currency?: string;
}

/**
 * NetLiquidation and TotalCashValue of `account` (or of the first account IB lists when '' is
 * given), or undefined when IB does not answer within `timeoutMs` or the session is not connected.
 */
export function accountSummary(session: Session, account: string, timeoutMs = 5000, reqId = ACCOUNT_SUMMARY_REQ_ID): Promise<AccountSummary | undefined> {
  const api = session.api;
  if (api === undefined) return Promise.resolve(undefined);
  const raw = api as unknown as Untyped;
  let summary: AccountSummary | undefined;
  return new Promise((resolve) => {
    const onRow = ((id: number, acct: string, tag: string, value: string, currency: string) => {
      if (id !== reqId) return;
      if (account !== '' ? acct !== account : summary !== undefined && summary.account !== acct) return;
      summary ??= { account: acct };
      const v = Number(value);
      if (!Number.isFinite(v)) return;
      if (tag === 'NetLiquidation') summary.netLiquidation = v;
      else if (tag === 'TotalCashValue') summary.totalCashValue = v;
      if (currency !== '') summary.currency = currency;
    }) as never;
    const onEnd = ((id: number) => {
      if (id !== reqId) return;
      session.request((a) => a.cancelAccountSummary(reqId), 'cancelAccountSummary');
      finish(summary);
    }) as never;
    const finish = (v: AccountSummary | undefined) => {
      clearTimeout(timer);
      raw.off(EventName.accountSummary, onRow);
      raw.off(EventName.accountSummaryEnd, onEnd);
      resolve(v);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    raw.on(EventName.accountSummary, onRow);
    raw.on(EventName.accountSummaryEnd, onEnd);
    if (!session.request((a) => a.reqAccountSummary(reqId, 'All', 'NetLiquidation,TotalCashValue'), 'reqAccountSummary')) finish(undefined);
  });
}

/**
 * The kernel's starting cash: `configured` when given (an explicit choice), else the broker's
 * NetLiquidation, else its TotalCashValue, else `fallback` with a warning.
 */
export async function startingCash(session: Session, account: string, log: Logger, configured: number | undefined, fallback = 1_000_000): Promise<number> {
  if (configured !== undefined) {
    log.info('starting cash as configured', { startingCash: configured });
    return configured;
  }
  const s = await accountSummary(session, account);
  const cash = s?.netLiquidation ?? s?.totalCashValue;
  if (cash !== undefined && cash > 0) {
    log.info('starting cash from the broker account summary', { account: s!.account, startingCash: cash, source: s!.netLiquidation !== undefined ? 'NetLiquidation' : 'TotalCashValue', currency: s!.currency });
    return cash;
  }
  log.warn('no usable account summary from the broker: starting cash falls back', { startingCash: fallback, account, netLiquidation: s?.netLiquidation, totalCashValue: s?.totalCashValue });
  return fallback;
}
