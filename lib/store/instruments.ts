import { DataError, StoreError } from '../core/errors.js';
import type { InstrumentSpec } from '../data/instrument.js';
import type { InstrumentValidity } from '../data/parsed-file.js';
import type { Store } from './store.js';

export interface InstrumentRow extends InstrumentSpec {
  instrumentId: number;
  validFrom?: string;
  validTo?: string;
}

interface DbRow {
  instrument_id: number;
  key: string;
  symbol: string;
  sec_type: InstrumentSpec['secType'];
  exchange: string;
  currency: string;
  multiplier: number;
  tick_size: number;
  contract_month: string | null;
  expiry: Date | null;
  local_symbol: string | null;
  con_id: number | null;
  valid_from: Date | null;
  valid_to: Date | null;
}

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : undefined);

function fromDb(r: DbRow): InstrumentRow {
  return {
    instrumentId: r.instrument_id,
    key: r.key,
    symbol: r.symbol,
    secType: r.sec_type,
    exchange: r.exchange,
    currency: r.currency,
    multiplier: r.multiplier,
    tickSize: r.tick_size,
    contractMonth: r.contract_month ?? undefined,
    expiry: day(r.expiry),
    localSymbol: r.local_symbol ?? undefined,
    conId: r.con_id ?? undefined,
    validFrom: day(r.valid_from),
    validTo: day(r.valid_to),
  };
}

export async function listInstruments(store: Store): Promise<InstrumentRow[]> {
  return (await store.all<DbRow>('SELECT * FROM instruments ORDER BY key')).map(fromDb);
}

export async function findInstruments(store: Store, keys: readonly string[]): Promise<Map<string, InstrumentRow>> {
  if (keys.length === 0) return new Map();
  const rows = await store.all<DbRow>(`SELECT * FROM instruments WHERE list_contains(from_json($1, '["VARCHAR"]'), key)`, [JSON.stringify([...keys])]);
  return new Map(rows.map((r) => [r.key, fromDb(r)]));
}

/** Looks up instruments by key and fails naming every unknown one. */
export async function requireInstruments(store: Store, keys: readonly string[]): Promise<InstrumentRow[]> {
  const found = await findInstruments(store, keys);
  const missing = keys.filter((k) => !found.has(k));
  if (missing.length) {
    const known = (await listInstruments(store)).map((i) => i.key);
    throw new StoreError('STORE_NOT_FOUND', `unknown instrument${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; the store has ${known.length ? known.join(', ') : 'no instruments (run monger data import first)'}`);
  }
  return keys.map((k) => found.get(k)!);
}

/**
 * Inserts new instruments and refreshes descriptive fields of existing ones (a later import
 * may know the exchange); returns key -> id. A spec that contradicts the stored contract
 * (different sec type or multiplier) is refused rather than silently merged.
 */
export async function upsertInstruments(store: Store, specs: readonly InstrumentSpec[], file: string): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const existing = await findInstruments(store, [...new Set(specs.map((s) => s.key))]);
  for (const s of specs) {
    if (ids.has(s.key)) continue;
    const old = existing.get(s.key);
    if (old) {
      if (old.secType !== s.secType || old.multiplier !== s.multiplier) {
        throw new DataError('UNKNOWN_SYMBOL', { file }, `instrument ${s.key} is stored as ${old.secType} x${old.multiplier}, this file says ${s.secType} x${s.multiplier}`);
      }
      if (s.exchange !== 'SMART' && s.exchange !== old.exchange) {
        await store.run('UPDATE instruments SET exchange = $1 WHERE instrument_id = $2', [s.exchange, old.instrumentId]);
      }
      ids.set(s.key, old.instrumentId);
      continue;
    }
    const rows = await store.all<{ instrument_id: number }>(
      `INSERT INTO instruments (key, symbol, sec_type, exchange, currency, multiplier, tick_size, contract_month, expiry, local_symbol, con_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CAST($9 AS DATE), $10, $11) RETURNING instrument_id`,
      [s.key, s.symbol, s.secType, s.exchange, s.currency, s.multiplier, s.tickSize, s.contractMonth ?? null, s.expiry ?? null, s.localSymbol ?? null, s.conId ?? null],
    );
    ids.set(s.key, rows[0]!.instrument_id);
  }
  return ids;
}

export async function setInstrumentValidity(store: Store, ids: Map<string, number>, validity: readonly InstrumentValidity[]): Promise<void> {
  for (const v of validity) {
    const id = ids.get(v.instrumentKey);
    if (id === undefined) continue;
    await store.run('UPDATE instruments SET valid_from = CAST($1 AS DATE), valid_to = CAST($2 AS DATE) WHERE instrument_id = $3', [v.validFrom, v.validTo, id]);
  }
}
