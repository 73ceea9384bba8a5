import type { BarKind, Interval } from '../data/interval.js';

/**
 * A closed bar as strategies and venues see it. Engines deliver bars as flyweights: one object per
 * subscription, overwritten for every bar, so the hot loop allocates nothing. A handler that keeps a
 * bar beyond its own call must copy it (`{ ...bar }`) or read the history window instead.
 */
export interface Bar {
  instrument: string;
  /** Dense index of the instrument inside the running engine */
  instrumentIndex: number;
  interval: Interval;
  kind: BarKind;
  /** Bar start, epoch ms UTC */
  ts: number;
  /** When the bar closed and became known, epoch ms UTC (the event time) */
  closeTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Top of book. Also a flyweight when delivered by an engine. */
export interface QuoteTick {
  instrument: string;
  instrumentIndex: number;
  ts: number;
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
}

/** One trade print. Also a flyweight when delivered by an engine. */
export interface TradeTick {
  instrument: string;
  instrumentIndex: number;
  ts: number;
  price: number;
  size: number;
}

export type BookSide = 'bid' | 'ask';
export type DepthOperation = 'insert' | 'update' | 'delete';

/** One level change of an L2 book (IB's updateMktDepth / updateMktDepthL2 shape). */
export interface DepthUpdate {
  instrument: string;
  instrumentIndex: number;
  ts: number;
  side: BookSide;
  /** Level, 0 = best */
  position: number;
  operation: DepthOperation;
  price: number;
  size: number;
  marketMaker: string;
}

export function copyBar(b: Bar): Bar {
  return { ...b };
}
