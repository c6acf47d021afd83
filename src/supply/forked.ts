/**
 * Python sandboxes forked from the fork server's zygote (runtimes/python/forkserver.ts), which has
 * imported LangGraph already. Off when the operator turned it off or programs run unsandboxed;
 * when it cannot start, Python executions get fresh sandboxes and the reason shows in /ready.
 */
import type { Config } from "../config/index.ts";
import type { RuntimeName } from "../contract/types.ts";
import { llmBaseUrls } from "../runtimes/environment.ts";
import { ForkServer, type ZygoteInfo } from "../runtimes/python/forkserver.ts";
import type { SandboxSpec } from "../sandbox/bwrap.ts";
import type { Sandbox, SandboxHandlers, SandboxLimits } from "../sandbox/sandbox.ts";
import type { GatewayAddress, SandboxSource } from "./source.ts";

/** What /ready shows of the fork server. */
export type ForkServerState = { state: "warm"; zygote: ZygoteInfo | null } | { state: "off"; reason: string };

export class PythonForkServer implements SandboxSource {
  private server: ForkServer | null = null;
  /** Why there is no fork server (null while it starts, or once it runs). */
  private problem: string | null = null;

  constructor(private readonly config: Readonly<Config>) {
    if (!config.pythonForkServer) this.problem = "off (GRAPHBOX_PYTHON_FORK_SERVER=0)";
    else if (config.sandbox.unsafeNoSandbox) this.problem = "off: programs run unsandboxed";
  }

  async start(gateway: GatewayAddress): Promise<void> {
    if (this.problem || this.server) return;
    try {
      const server = new ForkServer({
        ...this.config.sandbox,
        pythonPath: this.config.pythonPath,
        startupTimeoutMs: this.config.startupTimeoutMs,
        llmBaseUrls: llmBaseUrls(gateway.url),
        preimport: this.config.packages.pythonPreimport,
      });
      // Before start: the socket is bound into the zygote's sandbox.
      if (gateway.socketPath) await server.useGateway(gateway.socketPath);
      await server.start();
      this.server = server;
    } catch (err: unknown) {
      this.problem = err instanceof Error ? err.message : String(err);
    }
  }

  serves(runtime: RuntimeName): boolean {
    return runtime === "python" && this.server !== null;
  }

  open(spec: SandboxSpec, limits: SandboxLimits, handlers: SandboxHandlers): Promise<Sandbox> {
    if (!this.server) return Promise.reject(new Error("the fork server is not running"));
    return this.server.spawn(spec, limits, handlers);
  }

  /** A new zygote from the new files; the old one keeps forking until it is ready. */
  async refresh(runtime: RuntimeName): Promise<void> {
    if (runtime === "python") await this.server?.restart();
  }

  state(): ForkServerState {
    return this.server
      ? { state: "warm", zygote: this.server.zygoteInfo() }
      : { state: "off", reason: this.problem ?? "starting" };
  }

  /** Waits for its children (pooled ones included: close the pools first), then stops the zygotes. */
  async close(): Promise<void> {
    await this.server?.close();
  }

  async destroy(): Promise<void> {
    await this.server?.destroy();
  }
}
