/**
 * Bytes the gateway holds in memory for calls: request bodies while they are received and
 * forwarded, answers kept to read their usage. One count per execution and one for the whole
 * gateway; bytes are taken before they are read, so neither count is ever passed.
 */
export class ByteCount {
  private heldBytes = 0;
  private peakBytes = 0;

  constructor(readonly limit: number) {}

  get held(): number {
    return this.heldBytes;
  }

  /** The most this count ever held (tests read it to check the bound). */
  get peak(): number {
    return this.peakBytes;
  }

  fits(bytes: number): boolean {
    return this.heldBytes + bytes <= this.limit;
  }

  take(bytes: number): void {
    this.heldBytes += bytes;
    this.peakBytes = Math.max(this.peakBytes, this.heldBytes);
  }

  give(bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes);
  }
}

/** Which count refused: the execution's own (429, wait for its calls) or the gateway's (503, busy). */
export type HoldRefusal = "execution" | "gateway";

/** A claim on both counts, released once whatever happens to the call. */
export class Hold {
  private bytes = 0;

  constructor(
    private readonly execution: ByteCount,
    private readonly gateway: ByteCount,
  ) {}

  get size(): number {
    return this.bytes;
  }

  /** Takes `bytes` more from both counts, or nothing and says which one is full. */
  grow(bytes: number): HoldRefusal | null {
    if (!this.execution.fits(bytes)) return "execution";
    if (!this.gateway.fits(bytes)) return "gateway";
    this.execution.take(bytes);
    this.gateway.take(bytes);
    this.bytes += bytes;
    return null;
  }

  release(): void {
    this.execution.give(this.bytes);
    this.gateway.give(this.bytes);
    this.bytes = 0;
  }
}
