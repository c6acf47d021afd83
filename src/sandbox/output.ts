/** A program's stdout and stderr, kept up to a limit; what is cut is counted and said. */
export class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(private readonly limitBytes: number) {}

  add(chunk: Buffer): void {
    const room = this.limitBytes - this.kept;
    if (room > 0) {
      const part = chunk.subarray(0, room);
      this.chunks.push(part);
      this.kept += part.length;
    }
    this.dropped += Math.max(0, chunk.length - Math.max(room, 0));
  }

  text(): string {
    const text = Buffer.concat(this.chunks).toString("utf8");
    return this.dropped > 0 ? `${text}\n[graphbox: ${this.dropped} more bytes of output dropped]` : text;
  }
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
