/**
 * Length-prefixed frames: a 4-byte big-endian payload length, then the payload (UTF-8 JSON).
 * A pipe delivers bytes, not messages; the prefix lets either side find message boundaries
 * without scanning for delimiters the payload might contain.
 */
export const FRAME_HEADER_BYTES = 4;

export function encodeFrame(message: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(message), "utf8");
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

export class FrameTooLargeError extends Error {
  override name = "FrameTooLargeError";
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`frame of ${size} bytes exceeds the limit of ${limit} bytes`);
  }
}

/**
 * Splits a byte stream into frame payloads. `push` returns the complete payloads found so far.
 * Throws FrameTooLargeError as soon as a header announces a frame over `maxFrameBytes`,
 * before buffering it, so a hostile sender cannot make the engine hold a huge frame. Chunks of
 * a frame are kept as they come and joined once, when the frame is whole: joining on every
 * chunk would copy a 16 MiB frame's bytes some 250 times over.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The size the current frame's header announced, once its header is in. */
  private wanted: number | null = null;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.wanted === null) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const size = this.peekHeader();
        if (size > this.maxFrameBytes) throw new FrameTooLargeError(size, this.maxFrameBytes);
        this.wanted = size;
      }
      if (this.buffered < FRAME_HEADER_BYTES + this.wanted) break;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      const end = FRAME_HEADER_BYTES + this.wanted;
      frames.push(all.subarray(FRAME_HEADER_BYTES, end));
      const rest = all.subarray(end);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.wanted = null;
    }
    return frames;
  }

  /** The 4-byte header at the front, which may be split across chunks. */
  private peekHeader(): number {
    const first = this.chunks[0]!;
    if (first.length >= FRAME_HEADER_BYTES) return first.readUInt32BE(0);
    const joined = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [joined];
    return joined.readUInt32BE(0);
  }
}
