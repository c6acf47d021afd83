/**
 * Which protections are in force on this host, and why not when they are not. The answer comes
 * from starting one real sandbox, exactly as executions are started, with a shell that looks
 * around from the inside; nothing is inferred from version numbers or sysctls alone.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

import { SOURCE_ROOT } from "../contract/paths.ts";
import { SANDBOX_RUNTIME_ROOT, SANDBOX_UID, type SandboxSpec } from "./bwrap.ts";
import type { CgroupSupport, ExecutionCgroup } from "./cgroup.ts";
import type { SandboxProcess } from "./process.ts";
import type { SandboxHandlers, SandboxLimits, SandboxOptions } from "./sandbox.ts";
import { ALLOWED_SYSCALLS } from "./seccomp-policy.ts";
import { nativeSeccompArch, seccompFilter, type SeccompFilter } from "./seccomp.ts";
import { ENGINE_IS_ROOT, missingTools, TOOLS } from "./tools.ts";

const PROBE_TIMEOUT_MS = 10_000;
/** A folder of the engine's own (passwd, group, hosts), shown to the probe as a runtime folder is. */
const PROBE_MOUNT = { source: join(SOURCE_ROOT, "sandbox/etc"), target: `${SANDBOX_RUNTIME_ROOT}/doctor` };

/**
 * What the doctor needs of the launcher it examines: its limits, and a way to start one confined
 * tree exactly as executions are started. The launcher passes itself (launcher.ts), so the two
 * files do not import each other.
 */
export interface ProbeLauncher {
  readonly options: Readonly<SandboxOptions>;
  readonly unsafe: boolean;
  readonly cgroups: CgroupSupport;
  createCgroup(): Promise<ExecutionCgroup>;
  startIn(
    spec: SandboxSpec,
    limits: SandboxLimits,
    handlers: SandboxHandlers,
    cgroup: ExecutionCgroup | null,
  ): SandboxProcess;
}

export interface Check {
  name: "bubblewrap" | "user_namespaces" | "seccomp" | "capabilities" | "network_namespace" | "filesystem" | "cgroups";
  ok: boolean;
  detail: string;
}

export interface DoctorReport {
  /** True when programs run isolated: namespaces, seccomp, no network, the sandbox's own file system. */
  sandboxed: boolean;
  /** `bubblewrap`, or `none` when GRAPHBOX_UNSAFE_NO_SANDBOX=1 (whatever the host could do). */
  mode: "bubblewrap" | "none";
  checks: Check[];
  /** What stops a sandbox from being used (empty when sandboxed); warnings for missing limits come with `checks`. */
  problems: string[];
  limits: {
    memory_mb: number;
    max_processes: number;
    cpu_seconds: number;
    file_size_mb: number;
    tmp_mb: number;
    open_files: number;
    enforced_by_cgroup: boolean;
  };
}

// Everything the probe prints is a key=value line; each check reads its keys.
const PROBE_SCRIPT = [
  "echo uid=$(id -u)",
  "sed -n 's/^Seccomp:[[:space:]]*/seccomp=/p; s/^NoNewPrivs:[[:space:]]*/nnp=/p; s/^CapEff:[[:space:]]*/capeff=/p; s/^CapBnd:[[:space:]]*/capbnd=/p' /proc/self/status",
  "echo net=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' ')",
  "if unshare --user true 2>/dev/null; then echo userns=open; else echo userns=closed; fi",
  "if [ -e /root ] || [ -e /etc/shadow ] || [ -e /home ]; then echo host=visible; else echo host=hidden; fi",
  "if touch /probe 2>/dev/null; then echo root=writable; else echo root=readonly; fi",
  "if touch /tmp/probe 2>/dev/null; then echo tmp=writable; else echo tmp=readonly; fi",
  "if touch /dev/probe 2>/dev/null; then echo dev=writable; else echo dev=readonly; fi",
  // A call Docker's profile allows and this allowlist does not: EPERM shows the allowlist is the filter in force.
  `/usr/bin/python3 -I -S -c 'import ctypes; libc = ctypes.CDLL(None, use_errno=True); ok = libc.inotify_init1(0) != -1; print("inotify=" + ("open" if ok else "refused" if ctypes.get_errno() == 1 else "errno%d" % ctypes.get_errno()))' 2>/dev/null || echo inotify=unknown`,
  // The engine's own overlay (its layer named by descriptor), not a bind of a folder that is itself on an overlay (a container's root).
  `if grep -q ' ${PROBE_MOUNT.target} .* - overlay graphbox .*lowerdir=/proc/self/fd/' /proc/self/mountinfo; then echo runtime=overlay; else echo runtime=bind; fi`,
].join("\n");

const execFileAsync = promisify(execFile);

async function bwrapVersion(): Promise<string | null> {
  try {
    return (await execFileAsync(TOOLS.bwrap, ["--version"], { timeout: 5000 })).stdout.trim();
  } catch {
    return null;
  }
}

/** Starts the probe sandbox and returns what it printed, as key=value pairs. */
async function probe(
  launcher: ProbeLauncher,
  cgroup: ExecutionCgroup | null,
): Promise<{ values: Map<string, string>; output: string; peakMemory: number }> {
  const sandbox = launcher.startIn(
    {
      command: "/bin/sh",
      args: ["-c", PROBE_SCRIPT],
      cwd: "/tmp/graphbox-doctor",
      env: { PATH: "/usr/bin:/bin" },
      mounts: [PROBE_MOUNT],
    },
    { maxLogBytes: 16_384, maxFrameBytes: 1024 },
    { onMessage: () => undefined, onFault: () => undefined },
    cgroup,
  );
  const timer = setTimeout(() => sandbox.kill(), PROBE_TIMEOUT_MS);
  const exit = await sandbox.exited;
  clearTimeout(timer);
  const output = sandbox.logs();
  // The probe ran inside the cgroup: a peak above zero shows the wrapper really joined it.
  const peakMemory = (await cgroup?.peakMemoryBytes()) ?? 0;
  await sandbox.destroy(); // removes the cgroup too
  const values = new Map<string, string>();
  for (const line of output.split("\n")) {
    const match = /^([a-z]+)=(.*)$/.exec(line.trim());
    if (match) values.set(match[1]!, match[2]!.trim());
  }
  if (exit.code !== 0 && values.size === 0)
    throw new Error(
      `the probe sandbox failed (${exit.signal ?? `exit code ${String(exit.code)}`}): ${output.trim() || "no output"}`,
    );
  return { values, output, peakMemory };
}

export async function diagnose(launcher: ProbeLauncher): Promise<DoctorReport> {
  const o = launcher.options;
  const checks: Check[] = [];
  const add = (name: Check["name"], ok: boolean, detail: string): void => void checks.push({ name, ok, detail });

  const missing = missingTools();
  const version = missing.includes(TOOLS.bwrap) ? null : await bwrapVersion();
  add(
    "bubblewrap",
    missing.length === 0 && version !== null,
    missing.length > 0
      ? `missing: ${missing.join(", ")} (apt-get install bubblewrap util-linux)`
      : version
        ? `${version} at ${TOOLS.bwrap}`
        : `${TOOLS.bwrap} --version failed`,
  );

  let cgroup: ExecutionCgroup | null = null;
  let cgroupProblem: string | null = null;
  const support = launcher.cgroups;
  if (support.version === null) cgroupProblem = support.reason;
  else {
    try {
      cgroup = await launcher.createCgroup();
    } catch (err: unknown) {
      cgroupProblem = `cannot create a cgroup: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  // The allowlist is compiled by libseccomp before anything starts: without it no sandbox can.
  let allowlist: SeccompFilter | null = null;
  let allowlistProblem: string | null = null;
  const arch = nativeSeccompArch();
  if (!arch) allowlistProblem = `no seccomp filter for ${process.arch}; only x86_64 and aarch64 are supported`;
  else {
    try {
      allowlist = seccompFilter(arch);
    } catch (err: unknown) {
      allowlistProblem = err instanceof Error ? err.message : String(err);
    }
  }
  if (checks[0]!.ok && allowlistProblem !== null) {
    add("seccomp", false, seccompCheck(new Map(), null, allowlistProblem).detail);
    for (const name of ["user_namespaces", "capabilities", "network_namespace", "filesystem"] as const)
      add(name, false, "not probed: no sandbox can start without the seccomp filter");
  } else if (checks[0]!.ok) {
    try {
      const { values, output, peakMemory } = await probe(launcher, cgroup);
      if (cgroup && peakMemory === 0) cgroupProblem = "the launch wrapper did not join the execution's cgroup";
      const v = (key: string): string => values.get(key) ?? "?";
      add(
        "user_namespaces",
        v("uid") === String(SANDBOX_UID),
        v("uid") === String(SANDBOX_UID)
          ? `own user, mount, PID, IPC, UTS, cgroup namespaces; uid ${SANDBOX_UID} inside; ${ENGINE_IS_ROOT ? `uid ${SANDBOX_UID} (nobody) on the host` : `the engine's uid ${String(process.getuid?.())} on the host`}`
          : `the probe ran as uid ${v("uid")}: ${output.trim()}`,
      );
      const seccomp = seccompCheck(values, allowlist);
      add("seccomp", seccomp.ok, seccomp.detail);
      const capsOk = /^0+$/.test(v("capeff")) && /^0+$/.test(v("capbnd"));
      add(
        "capabilities",
        capsOk,
        capsOk ? "all dropped (effective and bounding sets empty)" : `CapEff ${v("capeff")}, CapBnd ${v("capbnd")}`,
      );
      add(
        "network_namespace",
        v("net") === "lo",
        v("net") === "lo" ? "own network namespace: loopback only" : `interfaces visible: ${v("net")}`,
      );
      const fsOk =
        v("host") === "hidden" && v("root") === "readonly" && v("dev") === "readonly" && v("tmp") === "writable";
      const runtime =
        v("runtime") === "overlay"
          ? `runtime folders at ${SANDBOX_RUNTIME_ROOT} through overlays (no host path in /proc/self/mountinfo)`
          : `runtime folders at ${SANDBOX_RUNTIME_ROOT} bound directly (their host paths show in /proc/self/mountinfo${ENGINE_IS_ROOT ? "; no overlayfs?" : "; an engine run as root hides them"})`;
      add(
        "filesystem",
        fsOk,
        fsOk
          ? `read-only /usr, ${runtime}, ${o.tmpSizeBytes / 1048576} MiB tmpfs /tmp and /dev/shm, fresh /proc, read-only minimal /dev; no host home or /etc/shadow`
          : `host files ${v("host")}, root ${v("root")}, /dev ${v("dev")}, /tmp ${v("tmp")}`,
      );
    } catch (err: unknown) {
      const message = err instanceof Error ? err.message : String(err);
      for (const name of ["user_namespaces", "seccomp", "capabilities", "network_namespace", "filesystem"] as const)
        add(name, false, message);
    }
  }

  await cgroup?.remove(); // when the probe did not run
  add(
    "cgroups",
    cgroupProblem === null && cgroup !== null,
    cgroupProblem === null && cgroup !== null
      ? `cgroup v${String(support.version)} per execution: memory ${o.memoryBytes / 1048576} MiB, ${o.maxProcesses} processes`
      : `memory and process limits NOT enforced: ${cgroupProblem ?? "bubblewrap is unusable"}`,
  );

  const required: Check["name"][] = [
    "bubblewrap",
    "user_namespaces",
    "seccomp",
    "capabilities",
    "network_namespace",
    "filesystem",
  ];
  const failing = checks.filter((c) => required.includes(c.name) && !c.ok);
  return {
    sandboxed: failing.length === 0 && checks.length > 1 && !launcher.unsafe,
    mode: launcher.unsafe ? "none" : "bubblewrap",
    checks,
    problems: [
      ...(launcher.unsafe ? ["GRAPHBOX_UNSAFE_NO_SANDBOX=1: programs run with no isolation"] : []),
      ...failing.map((c) => `${c.name}: ${c.detail}`),
    ],
    limits: {
      memory_mb: o.memoryBytes / 1048576,
      max_processes: o.maxProcesses,
      cpu_seconds: o.cpuSeconds,
      file_size_mb: o.fileSizeBytes / 1048576,
      tmp_mb: o.tmpSizeBytes / 1048576,
      open_files: o.openFiles,
      enforced_by_cgroup: checks.some((c) => c.name === "cgroups" && c.ok),
    },
  };
}

/**
 * Whether the allowlist is in force, from what the probe saw inside (`values`: its key=value
 * lines) or why it could not be compiled (`problem`), and what the compiled filter is.
 */
export function seccompCheck(
  values: ReadonlyMap<string, string>,
  filter: SeccompFilter | null,
  problem: string | null = null,
): { ok: boolean; detail: string } {
  if (problem !== null || filter === null)
    return { ok: false, detail: `the allowlist is NOT in force: ${problem ?? "no filter was compiled"}` };
  const v = (key: string): string => values.get(key) ?? "?";
  const allowed = Object.values(ALLOWED_SYSCALLS)
    .flat()
    .filter((name) => typeof filter.numbers.get(name) === "number").length;
  const what = `${allowed} of ${filter.table.size} calls allowed (a few more by argument), compiled by libseccomp API ${filter.api}`;
  if (v("seccomp") === "2" && v("nnp") === "1" && v("userns") === "closed" && v("inotify") === "refused")
    return {
      ok: true,
      detail: `allowlist in force: ${what}; loaded (mode 2), no_new_privs set, inotify and new user namespaces refused`,
    };
  const why = [
    v("seccomp") !== "2" ? `no filter loaded (Seccomp: ${v("seccomp")})` : null,
    v("nnp") !== "1" ? `no_new_privs not set (${v("nnp")})` : null,
    v("userns") !== "closed" ? "a new user namespace could be made" : null,
    v("inotify") !== "refused"
      ? `inotify_init1 was ${v("inotify") === "unknown" ? "not tried (/usr/bin/python3 did not run in the sandbox)" : `not refused (${v("inotify")})`}`
      : null,
  ].filter((reason): reason is string => reason !== null);
  return { ok: false, detail: `the allowlist is NOT in force: ${why.join("; ")}` };
}

/** The report as a person reads it. */
export function formatReport(report: DoctorReport): string {
  const lines = [
    report.sandboxed
      ? "graphbox doctor: programs run sandboxed"
      : report.mode === "none"
        ? "graphbox doctor: programs run UNSANDBOXED (GRAPHBOX_UNSAFE_NO_SANDBOX=1)"
        : "graphbox doctor: this host CANNOT sandbox programs",
  ];
  for (const check of report.checks)
    lines.push(`  ${check.ok ? "ok  " : "FAIL"} ${check.name.padEnd(18)} ${check.detail}`);
  const l = report.limits;
  lines.push(
    `  limits: memory ${l.memory_mb} MiB, ${l.max_processes} processes, ${l.cpu_seconds} s CPU, files ${l.file_size_mb} MiB, /tmp ${l.tmp_mb} MiB, ${l.open_files} open files`,
  );
  return lines.join("\n");
}
