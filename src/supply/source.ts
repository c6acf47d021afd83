/**
 * One way of making sandboxes (a fresh process tree, a fork of a warm Python parent, ...), as the
 * supply composes them (index.ts): for each runtime the first source that serves it is used, with
 * a pool of pre-started ones in front.
 */
import type { RuntimeName } from "../contract/types.ts";
import type { SandboxSpec } from "../sandbox/bwrap.ts";
import type { Sandbox, SandboxHandlers, SandboxLimits } from "../sandbox/sandbox.ts";

/** Where sandboxes reach the gateway, known once it listens. */
export interface GatewayAddress {
  /** Its Unix socket, bound into every sandbox (null: unsandboxed runs use the URL). */
  readonly socketPath: string | null;
  /** Its HTTP address, which the harnesses' LLM clients are pointed at. */
  readonly url: string;
}

export interface SandboxSource {
  /**
   * Gets ready: binds the gateway's socket, starts a warm parent... A source that cannot start
   * records why (for the report) and then serves no runtime; it throws only when no sandbox at
   * all could be had.
   */
  start(gateway: GatewayAddress): Promise<void>;
  /** Whether it makes sandboxes of this runtime; asked once it has started. */
  serves(runtime: RuntimeName): boolean;
  /**
   * Starts one sandbox from what the runtime asks for (`spec`) and returns without waiting for
   * its `ready`, which reaches `handlers`. Throws SandboxUnavailableError when it cannot.
   */
  open(spec: SandboxSpec, limits: SandboxLimits, handlers: SandboxHandlers): Promise<Sandbox>;
  /** The runtime's files changed: replaces what holds their old code (a zygote); resolves once what is opened next runs the new files. */
  refresh(runtime: RuntimeName): Promise<void>;
  /** Lets its sandboxes finish and stops what it runs besides them. Idempotent. */
  close(): Promise<void>;
  /** Kills its sandboxes and whatever it runs, now. */
  destroy(): Promise<void>;
}
