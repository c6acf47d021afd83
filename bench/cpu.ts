/** CPU accounting shared by the benchmarks. */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * CPU of this process and everything it starts (zygote, children, bwrap, sandboxes), exactly, from
 * a cpuacct cgroup of the benchmark's own (the machine is shared: /proc/stat also counts others'
 * work). Kernel work done for them in kworkers (network namespace teardown...) is not in it.
 */
export class CpuMeter {
  private readonly dir: string | null;
  private readonly home: string;

  constructor() {
    const line = readFileSync("/proc/self/cgroup", "utf8")
      .split("\n")
      .find((l) => /^\d+:[^:]*\bcpuacct\b[^:]*:/.test(l));
    this.home = line ? join("/sys/fs/cgroup/cpuacct", line.split(":")[2] ?? "/") : "";
    let dir: string | null = join(this.home, `graphbox-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, "cgroup.procs"), String(process.pid));
    } catch {
      dir = null;
    }
    this.dir = dir;
  }

  /** ms of CPU so far (NaN without cpuacct). */
  totalMs(): number {
    return this.dir ? Number(readFileSync(join(this.dir, "cpuacct.usage"), "utf8")) / 1e6 : NaN;
  }

  close(): void {
    if (!this.dir) return;
    writeFileSync(join(this.home, "cgroup.procs"), String(process.pid));
    rmdirSync(this.dir);
  }
}
