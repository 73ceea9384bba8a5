import { EventEmitter } from 'node:events';
import { EventName, type IBApi } from '@stoqey/ib';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../lib/core/logger.js';
import { silentLogger } from '../../lib/core/logger.js';
import { accountSummary, startingCash } from './account-summary.js';

/** An IBApi stand-in answering reqAccountSummary with `rows` (none: never answers) */
function fakeSession(rows: [string, string, string][] | undefined) {
  const api = new EventEmitter() as EventEmitter & Partial<IBApi>;
  const sent: string[] = [];
  Object.assign(api, {
    reqAccountSummary: (reqId: number, group: string, tags: string) => {
      sent.push(`req ${reqId} ${group} ${tags}`);
      if (rows === undefined) return;
      queueMicrotask(() => {
        for (const [account, tag, value] of rows) api.emit(EventName.accountSummary, reqId, account, tag, value, 'USD');
        api.emit(EventName.accountSummaryEnd, reqId);
      });
    },
    cancelAccountSummary: (reqId: number) => sent.push(`cancel ${reqId}`),
  });
  return {
    sent,
    session: {
      api: api as unknown as IBApi,
      request: (fn: (a: IBApi) => void) => {
        fn(api as unknown as IBApi);
        return true;
      },
    },
  };
}

function recordingLogger(lines: string[]): Logger {
  const log: Logger = { ...silentLogger, info: (m: string) => void lines.push(`info ${m}`), warn: (m: string) => void lines.push(`warn ${m}`), child: () => log };
  return log;
}

describe('starting cash from the account summary', () => {
  it('asks for NetLiquidation and TotalCashValue of the account and cancels the subscription', async () => {
    const { session, sent } = fakeSession([
      ['DU999', 'NetLiquidation', '1.00'],
      ['DU1234567', 'NetLiquidation', '250123.45'],
      ['DU1234567', 'TotalCashValue', '240000'],
    ]);
    expect(await accountSummary(session, 'DU1234567')).toEqual({ account: 'DU1234567', netLiquidation: 250123.45, totalCashValue: 240000, currency: 'USD' });
    expect(sent).toEqual(['req 900001 All NetLiquidation,TotalCashValue', 'cancel 900001']);
  });

  it('without a configured account takes the first account listed', async () => {
    const { session } = fakeSession([
      ['DU1', 'TotalCashValue', '5000'],
      ['DU2', 'NetLiquidation', '9'],
    ]);
    expect(await accountSummary(session, '')).toEqual({ account: 'DU1', totalCashValue: 5000, currency: 'USD' });
  });

  it('prefers NetLiquidation, then TotalCashValue; a configured amount wins', async () => {
    const lines: string[] = [];
    expect(await startingCash(fakeSession([['DU1', 'NetLiquidation', '300000'], ['DU1', 'TotalCashValue', '1']]).session, 'DU1', recordingLogger(lines), undefined)).toBe(300_000);
    expect(await startingCash(fakeSession([['DU1', 'TotalCashValue', '42000']]).session, 'DU1', recordingLogger(lines), undefined)).toBe(42_000);
    expect(await startingCash(fakeSession([['DU1', 'NetLiquidation', '300000']]).session, 'DU1', recordingLogger(lines), 10_000)).toBe(10_000);
    expect(lines).toEqual(['info starting cash from the broker account summary', 'info starting cash from the broker account summary', 'info starting cash as configured']);
  });

  it('falls back with a warning when IB does not answer or is not connected', async () => {
    const lines: string[] = [];
    const silent = fakeSession(undefined).session;
    const s = await accountSummary(silent, 'DU1', 20);
    expect(s).toBeUndefined();
    expect(await accountSummary({ api: undefined, request: () => false }, 'DU1')).toBeUndefined();
    expect(await startingCash({ api: undefined, request: () => false }, 'DU1', recordingLogger(lines), undefined, 777)).toBe(777);
    expect(lines).toEqual(['warn no usable account summary from the broker: starting cash falls back']);
  });
});
