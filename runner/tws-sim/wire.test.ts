import { describe, expect, it } from 'vitest';
import { encodeFrame, encodeHandshake, Fields, FrameReader, parseVersionRange, serializeField, splitFields, UNSET_DOUBLE, WireProtocolError } from './wire.js';

/** The bytes @stoqey/ib's Socket.send writes for tokens (length + fields joined by NUL + final NUL). */
function clientFrame(tokens: (string | number)[]): Buffer {
  const body = Buffer.from(`${tokens.join('\0')}\0`, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

describe('serializeField', () => {
  it('writes booleans as 1/0, null/undefined as empty, numbers via String, unset doubles as IB does', () => {
    expect([true, false, null, undefined, 42, -1.5, 'x'].map(serializeField)).toEqual(['1', '0', '', '', '42', '-1.5', 'x']);
    expect(serializeField(Number.MAX_VALUE)).toBe('1.7976931348623157E308');
    expect(serializeField(Infinity)).toBe(UNSET_DOUBLE);
    expect(serializeField(NaN)).toBe('');
  });
});

describe('encodeFrame', () => {
  it('prefixes the byte length and NUL-terminates every field, the last one too', () => {
    const f = encodeFrame([4, 2, -1, 2104, 'Market data farm connection is OK:usfarm', '']);
    const body = ['4', '2', '-1', '2104', 'Market data farm connection is OK:usfarm', ''].map((f) => `${f}\0`).join('');
    expect(f.readUInt32BE(0)).toBe(Buffer.byteLength(body));
    expect(f.subarray(4).toString('utf8')).toBe(body);
  });

  it('counts UTF-8 bytes, not characters, in the length', () => {
    const f = encodeFrame(['é']);
    expect(f.readUInt32BE(0)).toBe(3);
    expect(splitFields(f.subarray(4))).toEqual(['é']);
  });

  it('matches what the client writes, so frames round-trip through the reader', () => {
    expect(encodeFrame([71, 2, 7, ''])).toEqual(clientFrame([71, 2, 7, '']));
  });
});

describe('FrameReader', () => {
  it('reads the handshake, then frames', () => {
    const r = new FrameReader({ handshake: true });
    expect(encodeHandshake(100, 193)).toEqual(Buffer.concat([Buffer.from('API\0'), Buffer.from([0, 0, 0, 9]), Buffer.from('v100..193')]));
    const msgs = r.push(Buffer.concat([encodeHandshake(100, 193), clientFrame([71, 2, 7, ''])]));
    expect(msgs).toEqual([
      { kind: 'handshake', text: 'v100..193' },
      { kind: 'frame', fields: ['71', '2', '7', ''] },
    ]);
    expect(r.pending).toBe(0);
  });

  it('reassembles a handshake and a frame delivered one byte at a time', () => {
    const bytes = Buffer.concat([encodeHandshake(100, 193), clientFrame([49, 1])]);
    const r = new FrameReader({ handshake: true });
    const msgs = [...bytes].flatMap((b) => r.push(Buffer.from([b])));
    expect(msgs).toEqual([
      { kind: 'handshake', text: 'v100..193' },
      { kind: 'frame', fields: ['49', '1'] },
    ]);
  });

  it('returns every frame of a chunk holding several, and keeps a trailing partial one', () => {
    const a = clientFrame([8, 1, 0]);
    const b = clientFrame([49, 1]);
    const c = clientFrame([17, 1]);
    const r = new FrameReader();
    expect(r.push(Buffer.concat([a, b, c.subarray(0, 5)]))).toEqual([
      { kind: 'frame', fields: ['8', '1', '0'] },
      { kind: 'frame', fields: ['49', '1'] },
    ]);
    expect(r.pending).toBe(5);
    expect(r.push(c.subarray(5))).toEqual([{ kind: 'frame', fields: ['17', '1'] }]);
  });

  it('splits a length prefix across chunks', () => {
    const f = clientFrame([59, 1, 3]);
    const r = new FrameReader();
    expect(r.push(f.subarray(0, 2))).toEqual([]);
    expect(r.push(f.subarray(2, 6))).toEqual([]);
    expect(r.push(f.subarray(6))).toEqual([{ kind: 'frame', fields: ['59', '1', '3'] }]);
  });

  it('rejects a stream that does not open with API\\0 as soon as the first bytes differ', () => {
    const r = new FrameReader({ handshake: true });
    expect(() => r.push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(WireProtocolError);
  });

  it('rejects frames over the 16 MB limit', () => {
    const r = new FrameReader();
    expect(() => r.push(Buffer.from([0x01, 0x00, 0x00, 0x00]))).toThrow(WireProtocolError);
  });
});

describe('parseVersionRange', () => {
  it('reads v<min>..<max> and the single-version form', () => {
    expect(parseVersionRange('v100..193')).toEqual({ min: 100, max: 193 });
    expect(parseVersionRange('v100')).toEqual({ min: 100, max: 100 });
    expect(() => parseVersionRange('hello')).toThrow(WireProtocolError);
  });
});

describe('Fields', () => {
  it('reads fields in order with the TWS decoder conventions', () => {
    const f = new Fields(['7', '', '2147483647', '', '1.7976931348623157E308', '1.25', 'AAPL', '1', '0', '', 'x']);
    expect(f.int()).toBe(7);
    expect(f.int()).toBe(0);
    expect(f.intOrUndefined()).toBeUndefined();
    expect(f.double()).toBe(0);
    expect(f.doubleOrUndefined()).toBeUndefined();
    expect(f.doubleOrUndefined()).toBe(1.25);
    expect(f.string()).toBe('AAPL');
    expect([f.bool(), f.bool(), f.bool()]).toEqual([true, false, false]);
    expect(f.remaining()).toBe(1);
    f.skip(1);
    expect(f.remaining()).toBe(0);
    expect(() => f.string()).toThrow(WireProtocolError);
  });

  it('accepts "true" as a bool and refuses non-numbers where numbers are due', () => {
    expect(new Fields(['true']).bool()).toBe(true);
    expect(() => new Fields(['abc']).int()).toThrow(WireProtocolError);
    expect(() => new Fields(['1.5']).int()).toThrow(WireProtocolError);
    expect(() => new Fields(['abc']).double()).toThrow(WireProtocolError);
    expect(() => new Fields(['1']).skip(2)).toThrow(WireProtocolError);
  });
});
