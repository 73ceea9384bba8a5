/**
 * One API client's socket as the simulator sees it: the handshake state, outgoing frames and the
 * close listeners. Protocol decisions (what to answer) live in server.ts.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../lib/core/logger.js';
import type { ClientConnection, WireField } from './types.js';
import { IN } from './types.js';
import { encodeFrame } from './wire.js';

/** Server version from which ERR_MSG carries advancedOrderRejectJson (MIN_SERVER_VER.ADVANCED_ORDER_REJECT). */
const ADVANCED_ORDER_REJECT = 166;
/** Server version from which message text is sent ASCII-only with \uXXXX escapes (ENCODE_MSG_ASCII7). */
const ENCODE_MSG_ASCII7 = 153;
/** How long a graceful close may take before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

export class SimConnection implements ClientConnection {
  /** 0 until the handshake settles the version */
  serverVersion = 0;
  /** -1 until START_API */
  clientId = -1;
  /** True once START_API has been accepted: only then are requests served */
  started = false;
  marketDataType = 1;
  private closed = false;
  private readonly listeners: (() => void)[] = [];
  /** Frames held back by the outgoing delay, oldest first; `end()` waits for them */
  private readonly held: { due: number; frame: Buffer }[] = [];
  private heldTimer: NodeJS.Timeout | undefined;
  private endWhenFlushed = false;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly logger: Logger,
    /** Real ms each outgoing message is held back (a slow TWS), read on every send */
    private readonly outgoingDelayMs: () => number = () => 0,
  ) {
    socket.on('close', () => this.onSocketClose());
  }

  get open(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writable;
  }

  /** Writes one frame, after the outgoing delay if any (in order); dropped once the socket is gone. */
  send(fields: readonly WireField[]): void {
    if (!this.open) return;
    const frame = encodeFrame(fields);
    const delay = this.outgoingDelayMs();
    if (delay <= 0 && this.held.length === 0) {
      this.socket.write(frame);
      return;
    }
    // never before a frame held earlier, so a shorter delay cannot reorder messages
    const due = Math.max(Date.now() + Math.max(0, delay), this.held.at(-1)?.due ?? 0);
    this.held.push({ due, frame });
    if (!this.heldTimer) this.armHeld();
  }

  error(reqId: number, code: number, message: string): void {
    const text = this.serverVersion >= ENCODE_MSG_ASCII7 ? escapeNonAscii(message) : message;
    const fields: WireField[] = [IN.ERR_MSG, 2, reqId, code, text];
    if (this.serverVersion >= ADVANCED_ORDER_REJECT) fields.push('');
    this.send(fields);
  }

  onClose(listener: () => void): void {
    if (this.closed) queueMicrotask(() => this.callListener(listener));
    else this.listeners.push(listener);
  }

  /** Flushes what was sent (e.g. error 326), then closes; destroys if the peer does not finish. */
  end(): void {
    if (this.socket.destroyed) return;
    if (this.held.length > 0) {
      this.endWhenFlushed = true;
      return;
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Drops the connection at once, like a TWS restart. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Writes the held frames that are due, then waits for the next one. */
  private armHeld(): void {
    const head = this.held[0];
    if (!head) {
      this.heldTimer = undefined;
      if (this.endWhenFlushed) this.end();
      return;
    }
    this.heldTimer = setTimeout(() => {
      const now = Date.now();
      while (this.held.length > 0 && this.held[0]!.due <= now) {
        const { frame } = this.held.shift()!;
        if (this.open) this.socket.write(frame);
      }
      this.armHeld();
    }, head.due - Date.now());
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    this.held.length = 0;
    for (const l of this.listeners.splice(0)) this.callListener(l);
  }

  private callListener(listener: () => void): void {
    try {
      listener();
    } catch (e) {
      this.logger.error('onClose listener failed', { connection: this.id, error: (e as Error).message });
    }
  }
}

/** TWS sends non-ASCII characters as \uXXXX from server version 153; the client unescapes them. */
function escapeNonAscii(text: string): string {
  return text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
