import type { Command } from 'commander';
import { Store, STORE_ENV, DEFAULT_STORE_PATH } from '../../lib/store/store.js';

export const DB_HELP = `DuckDB store file (default: $${STORE_ENV} or ${DEFAULT_STORE_PATH})`;

/** The --db value from the root program (a global option). */
export function dbPath(cmd: Command): string | undefined {
  let c: Command | null = cmd;
  while (c) {
    const v = c.opts().db as string | undefined;
    if (v) return v;
    c = c.parent;
  }
  return undefined;
}

/** Opens the store for one command and always closes it. */
export async function withStore<T>(cmd: Command, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(dbPath(cmd));
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
