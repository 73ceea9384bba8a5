/**
 * One-shot questions to IB the runner asks at start: the server's current time (to share a replay
 * simulator's clock, see replay-clock-sync.ts) and the account's cash (a resumed run takes the
 * broker's cash as the truth). Each goes through the session's message budget and times out.
 */
import { EventName, type IBApi } from '@stoqey/ib';
import type { IbSession } from '../../lib/ib/ib-session.js';
import type { TimeSample } from './replay-clock-sync.js';

type Session = Pick<IbSession, 'request' | 'api'>;
/** stoqey types `on`/`off` per event */
type Untyped = { on(e: string, l: (...a: never[]) => void): void; off(e: string, l: (...a: never[]) => void): void };

/** Resolves with what `listen` settles, or undefined after `timeoutMs`; listeners are removed either way. */
function ask<T>(session: Session, label: string, timeoutMs: number, send: (api: IBApi) => void, listen: (on: (event: EventName, fn: (...a: never[]) => void) => void, done: (v: T) => void) => void): Promise<T | undefined> {
  const api = session.api;
  if (api === undefined) return Promise.resolve(undefined);
  const raw = api as unknown as Untyped;
  const added: [string, (...a: never[]) => void][] = [];
  return new Promise<T | undefined>((resolve) => {
    let settled = false;
    const finish = (v: T | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const [e, fn] of added) raw.off(e, fn);
      resolve(v);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    listen((event, fn) => {
      raw.on(event, fn);
      added.push([event, fn]);
    }, finish);
    if (!session.request(send, label)) finish(undefined);
  });
}

/** `count` reqCurrentTime round trips, one after the other (those unanswered within the timeout are left out). */
export async function currentTimeSamples(session: Session, count = 5, timeoutMs = 2000): Promise<TimeSample[]> {
  const out: TimeSample[] = [];
  for (let i = 0; i < count; i++) {
    const sentAt = Date.now();
    const seconds = await ask<number>(
      session,
      'reqCurrentTime',
      timeoutMs,
      (api) => api.reqCurrentTime(),
      (on, done) => on(EventName.currentTime, ((t: number) => done(t)) as never),
    );
    if (seconds !== undefined) out.push({ sentAt, receivedAt: Date.now(), seconds });
  }
  return out;
}

/** The account's TotalCashValue (reqAccountSummary), or undefined when IB does not answer in time. */
export function accountCash(session: Session, account: string, reqId: number, timeoutMs = 5000): Promise<number | undefined> {
  let cash: number | undefined;
  return ask<number | undefined>(
    session,
    'reqAccountSummary TotalCashValue',
    timeoutMs,
    (api) => api.reqAccountSummary(reqId, 'All', 'TotalCashValue'),
    (on, done) => {
      on(EventName.accountSummary, ((id: number, acct: string, tag: string, value: string) => {
        if (id !== reqId || tag !== 'TotalCashValue' || (account !== '' && acct !== account)) return;
        const v = Number(value);
        if (Number.isFinite(v)) cash = v;
      }) as never);
      on(EventName.accountSummaryEnd, ((id: number) => {
        if (id !== reqId) return;
        session.request((api) => api.cancelAccountSummary(reqId), 'cancelAccountSummary');
        done(cash);
      }) as never);
    },
  ).then((v) => v ?? undefined);
}
