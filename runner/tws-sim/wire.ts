/**
 * TWS socket framing (tws-protocol.md §1): every message is a 4-byte big-endian length followed by
 * UTF-8 fields, each terminated by NUL (the last one too: @stoqey/ib keeps an unterminated tail as
 * a fragment and glues it onto the next message). The client opens with the unframed-prefix
 * handshake `API\0` + length + `v100..193`.
 */
import { WorkbenchError } from '../../lib/core/errors.js';
import type { FieldReader, WireField } from './types.js';

/** What real TWS sends for an unset double (Java's Double.MAX_VALUE). */
export const UNSET_DOUBLE = '1.7976931348623157E308';
/** What real TWS sends for an unset int (Java's Integer.MAX_VALUE). */
export const UNSET_INT = 2147483647;
/** Largest frame either side accepts (the client disconnects above it). */
export const MAX_FRAME_LENGTH = 0xffffff;

const API_PREFIX = Buffer.from('API\0', 'latin1');

/** The client sent bytes that are not the TWS protocol. */
export class WireProtocolError extends WorkbenchError {
  readonly code = 'TWS_WIRE';
}

/** One field as text: booleans 1/0, null/undefined empty, MAX_VALUE/Infinity as IB's unset double. */
export function serializeField(value: WireField): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') {
    if (value === Number.MAX_VALUE || value === Infinity) return UNSET_DOUBLE;
    // NaN has no wire form; empty is what the client reads as "not set"
    if (Number.isNaN(value)) return '';
    return String(value);
  }
  return value;
}

/** One length-prefixed frame with every field NUL-terminated. */
export function encodeFrame(fields: readonly WireField[]): Buffer {
  const body = Buffer.from(fields.map((f) => `${serializeField(f)}\0`).join(''), 'utf8');
  if (body.length > MAX_FRAME_LENGTH) throw new WireProtocolError(`frame of ${body.length} bytes exceeds ${MAX_FRAME_LENGTH}`);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** The client's opening bytes: `API\0`, a length, then `v<min>..<max>` (no NUL). */
export function encodeHandshake(minVersion: number, maxVersion: number): Buffer {
  const text = Buffer.from(minVersion < maxVersion ? `v${minVersion}..${maxVersion}` : `v${minVersion}`, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(text.length);
  return Buffer.concat([API_PREFIX, head, text]);
}

/** Splits a frame payload on NUL; the empty piece after the final terminator is not a field. */
export function splitFields(payload: Buffer): string[] {
  const parts = payload.toString('utf8').split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Parses `v100..193` (or the single-version form `v100`). */
export function parseVersionRange(text: string): { min: number; max: number } {
  const m = /^v(\d+)(?:\.\.(\d+))?/.exec(text);
  if (!m) throw new WireProtocolError(`bad version range '${text}'`);
  const min = Number(m[1]);
  return { min, max: m[2] === undefined ? min : Number(m[2]) };
}

export type WireMessage = { kind: 'handshake'; text: string } | { kind: 'frame'; fields: string[] };

/**
 * Incremental reader for the client -> server byte stream: push chunks as they arrive, get back
 * every complete message (frames may be split across chunks or several may share one chunk).
 */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);
  private awaitingHandshake: boolean;

  /** `handshake`: the stream starts with `API\0` + length + version text (a server's view). */
  constructor(options: { handshake?: boolean } = {}) {
    this.awaitingHandshake = options.handshake ?? false;
  }

  /** Throws WireProtocolError on a stream that is not TWS protocol (the caller closes it). */
  push(chunk: Buffer): WireMessage[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: WireMessage[] = [];
    if (this.awaitingHandshake) {
      const n = Math.min(this.buffer.length, API_PREFIX.length);
      if (!this.buffer.subarray(0, n).equals(API_PREFIX.subarray(0, n))) {
        throw new WireProtocolError('client did not open with API\\0 (pre-v100 clients are not supported)');
      }
      const body = this.take(API_PREFIX.length);
      if (body === undefined) return out;
      this.awaitingHandshake = false;
      out.push({ kind: 'handshake', text: body.toString('utf8') });
    }
    for (let body = this.take(0); body !== undefined; body = this.take(0)) {
      out.push({ kind: 'frame', fields: splitFields(body) });
    }
    return out;
  }

  /** Bytes received but not yet part of a complete message. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Removes and returns one length-prefixed body starting at `offset`, if fully buffered. */
  private take(offset: number): Buffer | undefined {
    if (this.buffer.length < offset + 4) return undefined;
    const length = this.buffer.readUInt32BE(offset);
    if (length > MAX_FRAME_LENGTH) throw new WireProtocolError(`frame of ${length} bytes exceeds ${MAX_FRAME_LENGTH}`);
    const end = offset + 4 + length;
    if (this.buffer.length < end) return undefined;
    const body = this.buffer.subarray(offset + 4, end);
    this.buffer = this.buffer.subarray(end);
    return body;
  }
}

/** FieldReader over one frame's fields, read in order like the TWS decoder. */
export class Fields implements FieldReader {
  private index = 0;

  constructor(private readonly fields: readonly string[]) {}

  string(): string {
    if (this.index >= this.fields.length) {
      throw new WireProtocolError(`request ended after ${this.fields.length} fields (read past the end)`);
    }
    return this.fields[this.index++]!;
  }

  int(): number {
    return parseInteger(this.string()) ?? 0;
  }

  intOrUndefined(): number | undefined {
    const n = parseInteger(this.string());
    return n === UNSET_INT ? undefined : n;
  }

  double(): number {
    return parseNumber(this.string()) ?? 0;
  }

  doubleOrUndefined(): number | undefined {
    const n = parseNumber(this.string());
    return n === Number.MAX_VALUE || n === Infinity ? undefined : n;
  }

  bool(): boolean {
    const s = this.string();
    if (s === 'true') return true;
    // the client sends 1/0; any non-zero integer counts as true, as in the IB decoder
    return !!parseInt(s, 10);
  }

  remaining(): number {
    return this.fields.length - this.index;
  }

  skip(n: number): void {
    if (this.index + n > this.fields.length) {
      throw new WireProtocolError(`cannot skip ${n} fields, ${this.remaining()} left`);
    }
    this.index += n;
  }
}

function parseInteger(s: string): number | undefined {
  if (s === '') return undefined;
  const n = Number(s);
  if (!Number.isInteger(n)) throw new WireProtocolError(`expected an integer field, got '${s}'`);
  return n;
}

function parseNumber(s: string): number | undefined {
  if (s === '') return undefined;
  const n = Number(s);
  if (Number.isNaN(n)) throw new WireProtocolError(`expected a number field, got '${s}'`);
  return n;
}
