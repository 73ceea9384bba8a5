/**
 * Tables for notebooks: store query results (row objects), feature frames and bar columns
 * (column objects of typed arrays) as formatted HTML, truncated to a readable size.
 */
import { escapeHtml, formatInteger } from '../report/html-format.js';
import { decimalsFor, formatCell, inferFormat, type Cell, type ColumnFormat } from './cell-format.js';

export interface TableOptions {
  caption?: string;
  /** Columns to show, in this order (default: every column, in first-seen order) */
  columns?: readonly string[];
  /** Per-column format; others are 'auto' (see `inferFormat`) */
  formats?: Readonly<Record<string, ColumnFormat>>;
  /** Columns whose numbers are coloured by sign (P&L, returns) */
  tone?: readonly string[];
  /** Rows shown at most: beyond it the first and last halves with a row saying how many are hidden. Default 20 */
  maxRows?: number;
  /** Columns shown at most: beyond it the first and last halves and a `…` column. Default 24 */
  maxColumns?: number;
  /** Text cells longer than this are shortened (full text on hover). Default 60 */
  maxChars?: number;
  /** Show the row number. Default true */
  index?: boolean;
}

/** Row objects (`store.all(...)`) or columns of equal length (`{ ts: Float64Array, close: … }`). */
export type TableData = readonly object[] | Readonly<Record<string, ArrayLike<unknown>>>;

interface Source {
  length: number;
  names: string[];
  get(row: number, column: string): unknown;
}

function source(data: TableData): Source {
  if (Array.isArray(data)) {
    const rows = data as readonly Readonly<Record<string, unknown>>[];
    const names = new Set<string>();
    for (const row of rows) for (const key of Object.keys(row)) names.add(key);
    return { length: rows.length, names: [...names], get: (i, c) => rows[i]![c] };
  }
  const columns = data as Readonly<Record<string, ArrayLike<unknown>>>;
  const names = Object.keys(columns);
  const lengths = new Set(names.map((n) => columns[n]!.length));
  if (lengths.size > 1) {
    throw new RangeError(`table columns differ in length: ${names.map((n) => `${n} ${columns[n]!.length}`).join(', ')}`);
  }
  return { length: lengths.size === 0 ? 0 : [...lengths][0]!, names, get: (i, c) => columns[c]![i] };
}

/** Indices shown for `n` items at most `max`: all, or the first and last halves with -1 for the gap. */
export function truncatedIndices(n: number, max: number): number[] {
  if (!Number.isInteger(max) || max < 2) throw new RangeError(`expected a limit of at least 2, was ${max}`);
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const head = Math.ceil(max / 2);
  const tail = max - head;
  return [...Array.from({ length: head }, (_, i) => i), -1, ...Array.from({ length: tail }, (_, i) => n - tail + i)];
}

function cellHtml(c: Cell): string {
  const cls = c.className ? ` class="${c.className}"` : '';
  const title = c.title !== undefined ? ` title="${escapeHtml(c.title)}"` : '';
  return `<td${cls}${title}>${escapeHtml(c.text)}</td>`;
}

/**
 * Renders data as an HTML table: numbers right-aligned with one format per column (timestamps as
 * UTC, integers with separators, floats with fixed decimals for their magnitude), missing values
 * as `—`, long text shortened, and at most `maxRows` × `maxColumns` cells with notes on what was
 * left out. All text is HTML-escaped.
 */
export function tableHtml(data: TableData, options: TableOptions = {}): string {
  const src = source(data);
  const maxRows = options.maxRows ?? 20;
  const maxChars = options.maxChars ?? 60;
  const wanted = options.columns ?? src.names;
  const unknown = wanted.filter((c) => !src.names.includes(c));
  if (unknown.length > 0 && src.length > 0) throw new RangeError(`no column ${unknown.join(', ')} (has ${src.names.join(', ')})`);
  const columnIndices = truncatedIndices(wanted.length, options.maxColumns ?? 24);
  const rowIndices = truncatedIndices(src.length, maxRows);
  const shownRows = rowIndices.filter((i) => i >= 0);
  const tone = new Set(options.tone ?? []);

  const columns = columnIndices.map((k) => {
    if (k < 0) return undefined;
    const name = wanted[k]!;
    const values = shownRows.map((i) => src.get(i, name));
    const requested = options.formats?.[name] ?? 'auto';
    const format = requested === 'auto' ? inferFormat(name, values) : requested;
    return { name, format, decimals: decimalsFor(values) };
  });
  const index = options.index ?? true;
  const numeric = (f: ColumnFormat) => typeof f === 'string' && f !== 'text';
  const head = [
    ...(index ? ['<th></th>'] : []),
    ...columns.map((c) => (c === undefined ? '<th>…</th>' : `<th${numeric(c.format) ? ' class="num"' : ''}>${escapeHtml(c.name)}</th>`)),
  ].join('');
  const width = columns.length + (index ? 1 : 0);
  const body = rowIndices.map((i) => {
    if (i < 0) return `<tr class="omitted"><td colspan="${width}">… ${formatInteger(src.length - shownRows.length)} rows not shown …</td></tr>`;
    const cells = columns.map((c) => (c === undefined ? '<td class="na">…</td>' : cellHtml(formatCell(src.get(i, c.name), c.format, c.decimals, maxChars, tone.has(c.name)))));
    return `<tr>${index ? `<td class="idx">${i}</td>` : ''}${cells.join('')}</tr>`;
  });
  const caption = options.caption !== undefined ? `<caption>${escapeHtml(options.caption)}</caption>` : '';
  const shape = `${formatInteger(src.length)} rows × ${formatInteger(wanted.length)} columns`;
  const truncated = src.length > shownRows.length || wanted.length > columns.filter(Boolean).length;
  const note = truncated ? `<p class="note">${shape}; showing ${formatInteger(shownRows.length)} rows and ${formatInteger(columns.filter(Boolean).length)} columns.</p>` : '';
  const empty = src.length === 0 ? '<p class="note">No rows.</p>' : '';
  return `<table class="monger-table">${caption}<thead><tr>${head}</tr></thead><tbody>${body.join('')}</tbody></table>${note}${empty}`;
}

/** The same table as plain text for a terminal (scripts, tests): tab-separated, truncated alike. */
export function tableText(data: TableData, options: TableOptions = {}): string {
  const src = source(data);
  const wanted = options.columns ?? src.names;
  const rows = truncatedIndices(src.length, options.maxRows ?? 20);
  const shown = rows.filter((i) => i >= 0);
  const formats = wanted.map((name) => {
    const values = shown.map((i) => src.get(i, name));
    const requested = options.formats?.[name] ?? 'auto';
    return { name, format: requested === 'auto' ? inferFormat(name, values) : requested, decimals: decimalsFor(values) };
  });
  const lines = rows.map((i) =>
    i < 0 ? `… ${src.length - shown.length} rows not shown …` : formats.map((c) => formatCell(src.get(i, c.name), c.format, c.decimals, options.maxChars ?? 60).text).join('\t'),
  );
  return [...(options.caption ? [options.caption] : []), wanted.join('\t'), ...lines].join('\n');
}
