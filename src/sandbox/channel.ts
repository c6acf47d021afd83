/**
 * Reads a harness's channel: frames in order, one message at a time, with backpressure.
 *
 * Whatever arrives here was written by the program (the harness runs in its process), so the
 * engine must never hold more for one channel than it chooses to. Two rules do that:
 * - a message whose handling takes time (a checkpoint request, an event being stored) stops the
 *   reading until it is handled, so a flood waits in the sandbox's socket buffer, not the engine;
 * - when what the engine wrote back is still buffered (the program does not read its answers),
 *   reading stops until the program has taken it: one answer in flight, never sixty-four.
 */
import type { Duplex } from "node:stream";

import { FrameDecoder, FrameTooLargeError } from "../contract/protocol/framing.ts";
import { parseHarnessMessage, ProtocolError, type HarnessMessage } from "../contract/protocol/messages.ts";

/** Why the channel broke: the harness sent something the engine refuses, or handling it failed. */
export type ChannelFault =
  | { kind: "output_limit"; message: string }
  | { kind: "protocol"; message: string }
  | { kind: "internal"; message: string };

export interface SandboxHandlers {
  /** One parsed message and the size of its frame. A returned promise holds the channel until it settles. */
  onMessage(message: HarnessMessage, bytes: number): void | Promise<void>;
  onFault(fault: ChannelFault): void;
}

export class ChannelReader {
  private readonly decoder: FrameDecoder;
  private readonly frames: Buffer[] = [];
  private pumping = false;
  private broken = false;

  constructor(
    private readonly socket: Duplex,
    maxFrameBytes: number,
    private readonly handlers: SandboxHandlers,
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes);
    socket.on("data", (chunk: Buffer) => this.take(chunk));
    // The channel may error when the process dies mid-write; the exit handler reports that.
    socket.on("error", () => undefined);
  }

  /** Bytes that arrived before the reader was made (a socket's first chunk, read by whoever accepted it). */
  take(chunk: Buffer): void {
    if (this.broken) return;
    try {
      for (const frame of this.decoder.push(chunk)) this.frames.push(frame);
    } catch (err: unknown) {
      this.fail(err);
      return;
    }
    this.pump().catch((err: unknown) => this.fail(err));
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let frame = this.frames.shift(); frame && !this.broken; frame = this.frames.shift()) {
        let message: HarnessMessage;
        try {
          message = parseHarnessMessage(frame);
        } catch (err: unknown) {
          this.fail(err);
          return;
        }
        const pending = this.handlers.onMessage(message, frame.length);
        if (pending) {
          this.socket.pause();
          await pending;
        }
        if (this.socket.writableNeedDrain) {
          this.socket.pause();
          await drained(this.socket);
        }
      }
    } catch (err: unknown) {
      this.broken = true;
      this.handlers.onFault({
        kind: "internal",
        message: `the engine could not handle the harness's message: ${err instanceof Error ? err.message : String(err)}`,
      });
    } finally {
      this.pumping = false;
      if (!this.broken && !this.socket.destroyed) this.socket.resume();
    }
  }

  private fail(err: unknown): void {
    this.broken = true;
    this.frames.length = 0;
    if (err instanceof FrameTooLargeError) this.handlers.onFault({ kind: "output_limit", message: err.message });
    else if (err instanceof ProtocolError) this.handlers.onFault({ kind: "protocol", message: err.message });
    else this.handlers.onFault({ kind: "protocol", message: err instanceof Error ? err.message : String(err) });
  }
}

/** Resolves when the socket's write buffer has drained, or the socket is gone. */
function drained(socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
    if (socket.destroyed) done();
  });
}
