/** Text and number formatting for the HTML report: escaping plus fixed en-US number formats. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const formats = new Map<string, Intl.NumberFormat>();
function numberFormat(minDecimals: number, maxDecimals: number): Intl.NumberFormat {
  const key = `${minDecimals}:${maxDecimals}`;
  let f = formats.get(key);
  if (f === undefined) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: minDecimals, maximumFractionDigits: maxDecimals });
    formats.set(key, f);
  }
  return f;
}

/** NaN as an em dash and infinities as ∞, so the other formatters only see finite numbers. */
function nonFinite(v: number): string | undefined {
  if (Number.isNaN(v)) return '—';
  if (v === Infinity) return '∞';
  if (v === -Infinity) return '-∞';
  return undefined;
}

/** A fraction as a percentage: `0.1234` → `12.34%`. */
export function formatPercent(fraction: number, decimals = 2): string {
  return nonFinite(fraction) ?? `${numberFormat(decimals, decimals).format(fraction * 100)}%`;
}

/** A ratio with fixed decimals: `1.2345` → `1.23`. */
export function formatRatio(v: number, decimals = 2): string {
  return nonFinite(v) ?? numberFormat(decimals, decimals).format(v);
}

/** Money with thousands separators and cents: `1234567.891` → `1,234,567.89`. */
export function formatMoney(v: number): string {
  return nonFinite(v) ?? numberFormat(2, 2).format(v);
}

/** A whole number with thousands separators: `12345` → `12,345`. */
export function formatInteger(v: number): string {
  return nonFinite(v) ?? numberFormat(0, 0).format(v);
}

/** A price or quantity: thousands separators, up to `maxDecimals` decimals (at least 2 for prices). */
export function formatNumber(v: number, minDecimals = 0, maxDecimals = 4): string {
  return nonFinite(v) ?? numberFormat(minDecimals, maxDecimals).format(v);
}

/** Epoch ms as UTC: `YYYY-MM-DD` at midnight, else `YYYY-MM-DD HH:MM` (plus `:SS` when not on a minute). */
export function formatUtc(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const iso = new Date(ms).toISOString();
  if (ms % 86_400_000 === 0) return iso.slice(0, 10);
  return `${iso.slice(0, 10)} ${ms % 60_000 === 0 ? iso.slice(11, 16) : iso.slice(11, 19)}`;
}
