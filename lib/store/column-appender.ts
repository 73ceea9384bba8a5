import { DuckDBDataChunk, type DuckDBAppender, type DuckDBType } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';

/** A column for bulk append: fixed-width typed array (copied as bytes) or JS values. */
export type AppendColumn = Float64Array | Int32Array | Uint8Array | BigInt64Array | readonly (string | boolean | number | null)[];

const CHUNK_ROWS = 2048;

/**
 * Appends columns through the DuckDB appender one 2048-row data chunk at a time.
 * Typed arrays are memcpy'd straight into the chunk's vectors (the column's DuckDB type
 * must have the same width: DOUBLE/Float64Array, INTEGER/Int32Array, ENUM or UTINYINT/
 * Uint8Array, TIMESTAMP/BigInt64Array of microseconds); plain arrays go value by value.
 */
export function appendColumns(appender: DuckDBAppender, types: readonly DuckDBType[], columns: readonly AppendColumn[], rows: number): void {
  for (let off = 0; off < rows; off += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, rows - off);
    const chunk = DuckDBDataChunk.create(types, n);
    columns.forEach((col, c) => {
      if (ArrayBuffer.isView(col)) {
        const typed = col as Float64Array | Int32Array | Uint8Array | BigInt64Array;
        const width = typed.BYTES_PER_ELEMENT;
        const vector = duckdb.data_chunk_get_vector(chunk.chunk, c);
        duckdb.copy_data_to_vector(vector, 0, typed.buffer as ArrayBuffer, typed.byteOffset + off * width, n * width);
      } else {
        const values = (col as readonly (string | boolean | number | null)[]).slice(off, off + n);
        chunk.setColumnValues(c, values);
      }
    });
    appender.appendDataChunk(chunk);
  }
  appender.flushSync();
}

const TWO_32 = 4_294_967_296;

/**
 * Float64 epoch ms to int64 epoch microseconds (DuckDB TIMESTAMP), written as two 32-bit
 * halves (little-endian) instead of a BigInt per value: 10x faster on a million bars.
 * Exact for |micros| < 2^53, i.e. any date within ±285 years of 1970.
 */
export function msToMicros(ms: Float64Array): BigInt64Array {
  const out = new BigInt64Array(ms.length);
  const halves = new Int32Array(out.buffer);
  for (let i = 0; i < ms.length; i++) {
    const us = Math.round(ms[i]! * 1000);
    const hi = Math.floor(us / TWO_32);
    halves[2 * i] = us - hi * TWO_32;
    halves[2 * i + 1] = hi;
  }
  return out;
}
