/**
 * historicalData (17), historicalDataUpdate (90) and headTimestamp (88) as the v>=124 client
 * reads them, and IB's date texts: intraday bars `yyyyMMdd HH:mm:ss US/Eastern` (formatDate 1) or
 * epoch seconds (2); bars of a day and longer always `yyyyMMdd`.
 */
import { utcToZonedWall } from '../../lib/core/time-zone.js';
import { IN, type WireField } from './types.js';

/** One bar as it goes on the wire; -1 marks a value IB does not report (volume/WAP/count of quotes). */
export interface WireBar {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  wap: number;
  count: number;
}

/** `yyyyMMdd HH:mm:ss <IB zone id>` in `zone`, or epoch seconds for formatDate 2. */
export function formatInstant(ms: number, formatDate: number, zone: string, zoneId: string): string {
  if (formatDate === 2) return String(Math.floor(ms / 1000));
  const iso = new Date(utcToZonedWall(zone, ms)).toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '')} ${iso.slice(11, 19)} ${zoneId}`;
}

/** Head timestamps: `yyyyMMdd-HH:mm:ss` in UTC (IB's UTC request format), or epoch seconds for formatDate 2. */
export function formatHeadTimestamp(ms: number, formatDate: number): string {
  if (formatDate === 2) return String(Math.floor(ms / 1000));
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19)}`;
}

/** The whole answer in one message: this client has no separate end message (tws-protocol.md §2). */
export function historicalDataFields(reqId: number, startText: string, endText: string, bars: readonly WireBar[]): WireField[] {
  const f: WireField[] = [IN.HISTORICAL_DATA, reqId, startText, endText, bars.length];
  for (const b of bars) f.push(b.time, b.open, b.high, b.low, b.close, b.volume, b.wap, b.count);
  return f;
}

/** Note the order: open, close, high, low, then WAP before volume. */
export function historicalDataUpdateFields(reqId: number, b: WireBar): WireField[] {
  return [IN.HISTORICAL_DATA_UPDATE, reqId, b.count, b.time, b.open, b.close, b.high, b.low, b.wap, b.volume];
}

export function headTimestampFields(reqId: number, text: string): WireField[] {
  return [IN.HEAD_TIMESTAMP, reqId, text];
}
