/**
 * REQ_HEAD_TIMESTAMP (87) -> headTimestamp (88): the start of the first stored bar of the kind
 * whatToShow reads. A stored daily bar counts from its session's open (IB answers AAPL's first
 * day as 14:30 UTC), and useRTH moves an intraday first bar to the next regular-hours open.
 */
import { DAY_MS, isoDate } from '../../lib/core/time-zone.js';
import { isIntraday } from '../../lib/data/interval.js';
import { readContract, type ContractQuery } from './contract-match.js';
import { formatHeadTimestamp, headTimestampFields } from './hist-format.js';
import { resolveDataContract, type Refusal } from './hist-plan.js';
import { firstBars, WHAT_TO_SHOW } from './hist-source.js';
import { HMDS_ERROR, invalidRequest, noData, VALIDATION_ERROR } from './ib-errors.js';
import { regularHours, sessionOn } from './trading-hours.js';
import type { FieldReader, SimContext, WireField } from './types.js';

export interface HeadTimestampRequest {
  reqId: number;
  contract: ContractQuery;
  useRTH: boolean;
  whatToShow: string;
  formatDate: number;
}

/** Fields after the message id: reqId, the contract block with includeExpired, useRTH, whatToShow, formatDate. */
export function readHeadTimestampRequest(r: FieldReader): HeadTimestampRequest {
  const reqId = r.int();
  const contract = { ...readContract(r), includeExpired: r.bool() };
  const useRTH = r.bool();
  const whatToShow = r.string().trim().toUpperCase();
  const formatDate = r.int();
  r.skip(r.remaining());
  return { reqId, contract, useRTH, whatToShow, formatDate };
}

/** The headTimestamp (88) fields, or IB's refusal. */
export async function headTimestamp(r: HeadTimestampRequest, ctx: SimContext): Promise<{ ok: true; fields: WireField[] } | Refusal> {
  const kind = WHAT_TO_SHOW[r.whatToShow];
  if (!kind) return { ok: false, code: VALIDATION_ERROR, message: invalidRequest(`whatToShow '${r.whatToShow}' is not available`) };
  const resolved = await resolveDataContract(ctx.store, r.contract, ctx.clock.now());
  if (resolved.ok === false) return resolved;
  const { inst, contract, segments } = resolved;
  let head = Infinity;
  for (const { interval, first } of await firstBars(ctx.store, segments, kind.needs)) {
    let at = first;
    if (!isIntraday(interval)) {
      at = sessionOn(inst, isoDate(first))?.open ?? first;
    } else if (r.useRTH) {
      const next = regularHours(inst, first, first + 10 * DAY_MS)?.[0];
      if (next) at = Math.max(first, next.start);
    }
    head = Math.min(head, at);
  }
  if (!Number.isFinite(head)) return { ok: false, code: HMDS_ERROR, message: noData(`${contract.localSymbol}@${contract.exchange} ${r.whatToShow}`) };
  return { ok: true, fields: headTimestampFields(r.reqId, formatHeadTimestamp(head, r.formatDate)) };
}
