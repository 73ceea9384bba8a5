/** Trade and quote ticks of one instrument from one file, as parallel typed arrays. */
export interface TickSeries {
  instrumentKey: string;
  kind: 'trade' | 'quote';
  file: string;
  length: number;
  /** epoch ms */
  ts: Float64Array;
  /** 0, 1, 2… for ticks sharing a timestamp, so re-imports match tick for tick */
  seq: Int32Array;
  price: Float64Array;
  size: Float64Array;
  bid: Float64Array;
  bidSize: Float64Array;
  ask: Float64Array;
  askSize: Float64Array;
  exchange: string[];
  condition: Float64Array;
  suspicious: Uint8Array;
}

export function allocateTicks(instrumentKey: string, kind: TickSeries['kind'], file: string, n: number): TickSeries {
  return {
    instrumentKey,
    kind,
    file,
    length: 0,
    ts: new Float64Array(n),
    seq: new Int32Array(n),
    price: new Float64Array(n).fill(NaN),
    size: new Float64Array(n).fill(NaN),
    bid: new Float64Array(n).fill(NaN),
    bidSize: new Float64Array(n).fill(NaN),
    ask: new Float64Array(n).fill(NaN),
    askSize: new Float64Array(n).fill(NaN),
    exchange: new Array<string>(n),
    condition: new Float64Array(n),
    suspicious: new Uint8Array(n),
  };
}
