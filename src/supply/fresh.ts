/**
 * Fresh sandboxes: a new process tree per sandbox (bubblewrap in its own cgroup, or a plain child
 * process when the operator opted out), for every runtime. The fallback every other source sits
 * in front of.
 */
import type { RuntimeName } from "../contract/types.ts";
import type { SandboxSpec } from "../sandbox/bwrap.ts";
import type { SandboxLauncher } from "../sandbox/launcher.ts";
import type { Sandbox, SandboxHandlers, SandboxLimits } from "../sandbox/sandbox.ts";
import type { SandboxSource } from "./source.ts";

export class FreshSandboxes implements SandboxSource {
  constructor(private readonly launcher: SandboxLauncher) {}

  /** The launcher has the gateway's socket already (the supply gives it before any source starts). */
  async start(): Promise<void> {}

  serves(_runtime: RuntimeName): boolean {
    return true;
  }

  open(spec: SandboxSpec, limits: SandboxLimits, handlers: SandboxHandlers): Promise<Sandbox> {
    return this.launcher.start(spec, limits, handlers);
  }

  /** Each sandbox reads the runtime's files as it starts: nothing to replace. */
  async refresh(): Promise<void> {}

  /** Its sandboxes belong to their executions, which destroy them. */
  async close(): Promise<void> {}

  async destroy(): Promise<void> {}
}
