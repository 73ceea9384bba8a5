import type { DuckDBValue } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { StoreError } from '../core/errors.js';
import type { Store } from './store.js';

export interface ColumnBlock {
  length: number;
  columns: Float64Array[];
}

/**
 * Runs a query whose first `count` columns are DOUBLE and copies them chunk by chunk into
 * Float64Arrays (NULL becomes NaN). No per-value JS objects: this is the read hot path.
 */
export async function readColumns(store: Store, sql: string, params: DuckDBValue[] | undefined, count: number): Promise<ColumnBlock> {
  let result;
  try {
    result = await store.connection.run(sql, params);
  } catch (e) {
    throw new StoreError('STORE_QUERY', `${(e as Error).message}\n  in: ${sql.trim().slice(0, 200)}`, { cause: e });
  }
  let capacity = 8192;
  let cols = Array.from({ length: count }, () => new Float64Array(capacity));
  let length = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    if (length + n > capacity) {
      while (length + n > capacity) capacity *= 2;
      cols = cols.map((c) => {
        const g = new Float64Array(capacity);
        g.set(c.subarray(0, length));
        return g;
      });
    }
    for (let c = 0; c < count; c++) {
      const vector = duckdb.data_chunk_get_vector(chunk.chunk, c);
      const bytes = duckdb.vector_get_data(vector, n * 8);
      const target = cols[c]!;
      target.set(new Float64Array(bytes.buffer, bytes.byteOffset, n), length);
      const validity = duckdb.vector_get_validity(vector, Math.ceil(n / 64) * 8);
      if (validity && validity.byteLength > 0) {
        for (let i = 0; i < n; i++) if ((validity[i >> 3]! & (1 << (i & 7))) === 0) target[length + i] = NaN;
      }
    }
    length += n;
  }
  return { length, columns: cols.map((c) => c.subarray(0, length)) };
}
