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
  constructor(readonly size: number, readonly limit: number) {
    super(`frame of ${size} bytes exceeds the limit of ${limit} bytes`);
  }
}

/**
 * Splits a byte stream into frame payloads. `push` returns the complete payloads found so far.
 * Throws FrameTooLargeError as soon as a header announces a frame over `maxFrameBytes`,
 * before buffering it, so a hostile sender cannot make the engine hold a huge frame.
 */
export class FrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: Buffer[] = [];
    while (this.buffered.length >= FRAME_HEADER_BYTES) {
      const size = this.buffered.readUInt32BE(0);
      if (size > this.maxFrameBytes) throw new FrameTooLargeError(size, this.maxFrameBytes);
      if (this.buffered.length < FRAME_HEADER_BYTES + size) break;
      frames.push(this.buffered.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + size));
      this.buffered = this.buffered.subarray(FRAME_HEADER_BYTES + size);
    }
    return frames;
  }
}
