/**
 * Socket-free harness for feature tests: requests are built by @stoqey/ib's real Encoder, answers
 * are read back by its real Decoder (which raises 505 on any field-count mismatch), and a fake
 * connection records what a handler sent.
 */
import { createRequire } from 'node:module';
import type { Decoder as DecoderType } from '@stoqey/ib/dist/core/io/decoder.js';
import type { Encoder as EncoderType } from '@stoqey/ib/dist/core/io/encoder.js';
import { Fields, serializeField } from './wire.js';
import type { ClientConnection, SimClock, SimContext, SimFeature, WireField } from './types.js';
import { IN } from './types.js';
import type { Store } from '../../lib/store/store.js';

const require = createRequire(import.meta.url);
const { Encoder } = require('@stoqey/ib/dist/core/io/encoder.js') as { Encoder: typeof EncoderType };
const { Decoder } = require('@stoqey/ib/dist/core/io/decoder.js') as { Decoder: typeof DecoderType };

/** Flattens nested token arrays and stringifies like `Socket.send` (booleans 1/0, null/undefined empty). */
function socketTokens(tokens: unknown[]): string[] {
  return tokens.flat(Infinity).map((t) => (t === true ? '1' : t === false ? '0' : t === undefined || t === null ? '' : String(t)));
}

/** The message id and fields the real client would put on the wire for one API call. */
export function encodeRequest(serverVersion: number, call: (encoder: EncoderType) => void): { msgId: number; fields: string[] } {
  let sent: string[] | undefined;
  const encoder = new Encoder({
    serverVersion,
    sendMsg: (...tokens: unknown[]) => (sent = socketTokens(tokens)),
    emitError: (msg: string) => {
      throw new Error(`encoder refused the request: ${msg}`);
    },
  });
  call(encoder);
  if (!sent || sent.length === 0) throw new Error('encoder sent nothing');
  return { msgId: Number(sent[0]), fields: sent.slice(1) };
}

export interface DecodedEvent {
  name: string;
  args: unknown[];
}

export interface Decoded {
  events: DecodedEvent[];
  /** emitError calls: decoding failures (505) and ERR_MSG with a reqId */
  errors: { message: string; code: number; reqId?: number }[];
  infos: { message: string; code: number }[];
}

/** Feeds server -> client messages (each starting with its IN id) to the real Decoder, one frame each. */
export function decodeMessages(serverVersion: number, messages: readonly (readonly WireField[])[]): Decoded {
  const out: Decoded = { events: [], errors: [], infos: [] };
  const decoder = new Decoder({
    serverVersion,
    emitEvent: (name: string, ...args: unknown[]) => out.events.push({ name, args }),
    emitError: (message: string, code: number, reqId?: number) => out.errors.push({ message, code, reqId }),
    emitInfo: (message: string, code: number) => out.infos.push({ message, code }),
  } as ConstructorParameters<typeof DecoderType>[0]);
  for (const m of messages) {
    // the text on the wire, split on NUL as the client's socket does
    decoder.enqueueMessage(m.map(serializeField));
    decoder.process();
  }
  return out;
}

/** A ClientConnection that records instead of writing to a socket. */
export class FakeConnection implements ClientConnection {
  readonly sent: WireField[][] = [];
  open = true;
  private readonly listeners: (() => void)[] = [];

  constructor(
    readonly serverVersion = 193,
    readonly id = 1,
    readonly clientId = 7,
  ) {}

  send(fields: readonly WireField[]): void {
    if (this.open) this.sent.push([...fields]);
  }

  /** Same fields as the server core's ERR_MSG at v>=166 */
  error(reqId: number, code: number, message: string): void {
    this.send([IN.ERR_MSG, 2, reqId, code, message, '']);
  }

  onClose(listener: () => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.open = false;
    for (const l of this.listeners.splice(0)) l();
  }

  /** Everything sent so far, decoded by the real client; clears the record. */
  decode(): Decoded {
    return decodeMessages(this.serverVersion, this.sent.splice(0));
  }
}

/** A clock the test moves by hand. */
export class FakeClock implements SimClock {
  readonly speed = 1;
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function fakeContext(store: Store, clock: SimClock): SimContext {
  return { store, clock, account: 'DU1234567' };
}

/** Encodes a request with the real Encoder and runs the feature's handler for it. */
export async function dispatch(
  feature: SimFeature,
  conn: FakeConnection,
  ctx: SimContext,
  call: (encoder: EncoderType) => void,
): Promise<void> {
  const { msgId, fields } = encodeRequest(conn.serverVersion, call);
  const handler = feature.handlers.get(msgId);
  if (!handler) throw new Error(`feature ${feature.name} has no handler for message ${msgId}`);
  const reader = new Fields(fields);
  await handler(conn, reader, ctx);
  if (reader.remaining() !== 0) throw new Error(`handler left ${reader.remaining()} request fields unread`);
}
