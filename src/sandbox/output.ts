import type { ChannelFault } from "./channel.ts";

/**
 * A program's stdout and stderr, kept up to a limit; what is cut is counted and said. Past a
 * second, larger limit the program is printing only to make the engine read: `onOverflow` runs
 * once (the execution ends with output_limit) and nothing more is counted.
 */
export class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(
    private readonly limitBytes: number,
    private readonly totalLimitBytes = Number.POSITIVE_INFINITY,
    private readonly onOverflow: (limitBytes: number) => void = () => undefined,
  ) {}

  add(chunk: Buffer): void {
    if (this.kept + this.dropped > this.totalLimitBytes) return;
    const room = this.limitBytes - this.kept;
    if (room > 0) {
      const part = chunk.subarray(0, room);
      this.chunks.push(part);
      this.kept += part.length;
    }
    this.dropped += Math.max(0, chunk.length - Math.max(room, 0));
    if (this.kept + this.dropped > this.totalLimitBytes) this.onOverflow(this.totalLimitBytes);
  }

  text(): string {
    const text = Buffer.concat(this.chunks).toString("utf8");
    return this.dropped > 0 ? `${text}\n[graphbox: ${this.dropped} more bytes of output dropped]` : text;
  }
}

/** The fault of a program that printed more than GRAPHBOX_MAX_LOG_TOTAL_BYTES. */
export function printedTooMuch(limitBytes: number): ChannelFault {
  return {
    kind: "output_limit",
    message: `the program printed more than GRAPHBOX_MAX_LOG_TOTAL_BYTES (${limitBytes} bytes)`,
  };
}

/**
 * Resolves once the event loop has polled for I/O again, and so has read what the program's
 * stdout and stderr held when this was called (libuv reads a readable pipe or socket until it is
 * empty, up to 2 MiB, in one poll). The harness writes its prints before its result, but they
 * travel apart (stdout, stderr, the channel) and nothing orders them as the engine reads them: a
 * result read with frames already waiting on the channel can be handled before prints written
 * after those frames. Two turns of the check phase always have a poll between them.
 */
export function outputPolled(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
