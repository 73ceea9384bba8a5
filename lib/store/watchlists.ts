import type { Watchlist } from '../data/watchlist.js';
import type { Store } from './store.js';

/** Stores a watchlist version (idempotent: the same content hash is stored once). */
export async function saveWatchlist(store: Store, w: Watchlist, unknown: readonly string[]): Promise<{ stored: boolean }> {
  const existing = await store.all('SELECT 1 FROM watchlists WHERE name = $1 AND version = $2', [w.name, w.version]);
  if (existing.length) return { stored: false };
  await store.run(`INSERT INTO watchlists (name, version, symbols, unknown, source) VALUES ($1, $2, from_json($3, '["VARCHAR"]'), from_json($4, '["VARCHAR"]'), $5)`, [
    w.name,
    w.version,
    JSON.stringify(w.symbols),
    JSON.stringify([...unknown]),
    w.source,
  ]);
  return { stored: true };
}

export interface StoredWatchlist {
  name: string;
  version: string;
  symbols: string[];
  unknown: string[];
  created_at: Date;
}

export async function latestWatchlist(store: Store, name: string): Promise<StoredWatchlist | undefined> {
  const rows = await store.all<StoredWatchlist>('SELECT name, version, symbols, unknown, created_at FROM watchlists WHERE name = $1 ORDER BY created_at DESC LIMIT 1', [name]);
  return rows[0];
}
