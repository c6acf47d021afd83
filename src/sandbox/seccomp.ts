/**
 * The sandbox's seccomp filter: the allowlist of seccomp-policy.ts, compiled to classic BPF by
 * libseccomp (the library Docker, Flatpak and systemd use) through Debian's python3-seccomp
 * (seccomp_export.py), once per engine process and architecture. The bytes are an array of
 * struct sock_filter, handed to `bwrap --seccomp <fd>`, which installs them just before it
 * executes the runtime; the fork server's children install the same bytes themselves.
 *
 * Unlisted calls fail with EPERM; clone3 with ENOSYS (its flags live in memory a filter cannot
 * read; glibc then falls back to clone, whose flags are checked). A call through another ABI
 * (i386 `int 0x80` or x32 numbers on x86_64, arm32 on aarch64) kills the process.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

import { SOURCE_ROOT } from "../contract/paths.ts";
import { EPERM, seccompRules, type SeccompVariant } from "./seccomp-policy.ts";

export type SeccompArch = "x64" | "arm64";
export type { SeccompVariant } from "./seccomp-policy.ts";

/** Debian's interpreter: python3-seccomp is built for it (not for a venv's or pyenv's Python). */
export const SECCOMP_PYTHON = "/usr/bin/python3";
const EXPORTER = join(SOURCE_ROOT, "sandbox/seccomp_export.py");
const LIBSECCOMP_ARCH: Record<SeccompArch, string> = { x64: "x86_64", arm64: "aarch64" };
const EXPORT_TIMEOUT_MS = 30_000;

/** libseccomp could not be used here: the sandbox cannot start (the doctor says why). */
export class SeccompUnavailableError extends Error {
  override name = "SeccompUnavailableError";
}

export interface SeccompFilter {
  arch: SeccompArch;
  variant: SeccompVariant;
  /** struct sock_filter[], as the kernel loads it. */
  program: Buffer;
  /** Every call the policy names, with its number here (null: no such call on this architecture). */
  numbers: ReadonlyMap<string, number | null>;
  /** Every syscall number libseccomp knows on this architecture, with its name. */
  table: ReadonlyMap<number, string>;
  /** The libseccomp API level that compiled it. */
  api: number;
}

/** The architecture this engine runs on, if the filter knows it. */
export function nativeSeccompArch(): SeccompArch | null {
  return process.arch === "x64" || process.arch === "arm64" ? process.arch : null;
}

const compiled = new Map<string, SeccompFilter>();

/**
 * The filter for `arch`, compiled on first use (~50 ms) and kept for the life of the process.
 * Throws SeccompUnavailableError when libseccomp cannot be run, saying what to install.
 */
export function seccompFilter(arch: SeccompArch, variant: SeccompVariant = "execution"): SeccompFilter {
  const key = `${arch}/${variant}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  if (!existsSync(SECCOMP_PYTHON))
    throw new SeccompUnavailableError(
      `${SECCOMP_PYTHON} is missing; the seccomp filter is compiled with Debian's python3 and python3-seccomp (apt-get install python3 python3-seccomp)`,
    );
  const policy = { arch: LIBSECCOMP_ARCH[arch], default_errno: EPERM, rules: seccompRules(variant) };
  const run = spawnSync(SECCOMP_PYTHON, ["-I", "-B", EXPORTER], {
    input: JSON.stringify(policy),
    encoding: "utf8",
    timeout: EXPORT_TIMEOUT_MS,
    env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" },
  });
  if (run.status !== 0) {
    const why = run.error?.message ?? run.stderr.trim().split("\n").at(-1) ?? `exit ${String(run.status)}`;
    const hint = /No module named 'seccomp'/.test(run.stderr) ? " (apt-get install python3-seccomp)" : "";
    throw new SeccompUnavailableError(`libseccomp could not compile the seccomp filter: ${why}${hint}`);
  }
  const out = JSON.parse(run.stdout) as {
    bpf: string;
    numbers: Record<string, number | null>;
    table: Record<string, string>;
    api: number;
  };
  const program = Buffer.from(out.bpf, "base64");
  if (program.length === 0 || program.length % 8 !== 0)
    throw new SeccompUnavailableError(
      `libseccomp produced ${program.length} bytes, not an array of struct sock_filter`,
    );
  const filter: SeccompFilter = {
    arch,
    variant,
    program,
    numbers: new Map(Object.entries(out.numbers)),
    table: new Map(Object.entries(out.table).map(([nr, name]) => [Number(nr), name])),
    api: out.api,
  };
  compiled.set(key, filter);
  return filter;
}

/** The filter's bytes, as `bwrap --seccomp` reads them. */
export function seccompProgram(arch: SeccompArch, variant: SeccompVariant = "execution"): Buffer {
  return seccompFilter(arch, variant).program;
}
