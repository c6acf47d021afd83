/**
 * The sandbox's seccomp filter, assembled here as a classic BPF program and handed to
 * `bwrap --seccomp <fd>`, which installs it just before it executes the runtime.
 *
 * A denylist: LangGraph programs need ordinary files, threads, sockets on loopback and child
 * processes, and never the calls below, which are the usual ways out of a namespace sandbox
 * (mount tricks, new namespaces, ptrace, kernel attack surface such as bpf, io_uring, keyrings).
 * Denied calls fail with EPERM so the program sees an ordinary error; `clone3` fails with ENOSYS
 * because its flags live in memory a filter cannot read, and glibc then falls back to `clone`,
 * whose flags are checked. A call made through another ABI (i386 `int 0x80`, x32) is not one
 * this table describes, so the process is killed (other arch) or refused (x32 numbers).
 */

export type SeccompArch = "x64" | "arm64";

// linux/audit.h: AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64.
const AUDIT_ARCH: Record<SeccompArch, number> = { x64: 0xc000003e, arm64: 0xc00000b7 };
/** x32 syscalls are x86_64 numbers with this bit set (asm/unistd.h __X32_SYSCALL_BIT). */
const X32_SYSCALL_BIT = 0x40000000;

// linux/seccomp.h return actions.
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;

// linux/sched.h. CLONE_NEWTIME (0x80) is left out: in clone()'s flags that bit is part of the exit signal.
const CLONE_NAMESPACE_FLAGS =
  0x00020000 /* NEWNS */ | 0x02000000 /* NEWCGROUP */ | 0x04000000 /* NEWUTS */ | 0x08000000 /* NEWIPC */ | 0x10000000 /* NEWUSER */ | 0x20000000 /* NEWPID */ | 0x40000000; /* NEWNET */

// asm-generic/ioctls.h (the same on both architectures).
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;

/** Syscall numbers by architecture (x86_64 asm/unistd_64.h; aarch64 asm-generic/unistd.h). Absent: no such call there. */
const SYSCALLS: Record<string, { x64?: number; arm64?: number }> = {
  ptrace: { x64: 101, arm64: 117 },
  process_vm_readv: { x64: 310, arm64: 270 },
  process_vm_writev: { x64: 311, arm64: 271 },
  kcmp: { x64: 312, arm64: 272 },
  pidfd_getfd: { x64: 438, arm64: 438 },
  // Mounts, old and new API.
  mount: { x64: 165, arm64: 40 },
  umount2: { x64: 166, arm64: 39 },
  pivot_root: { x64: 155, arm64: 41 },
  chroot: { x64: 161, arm64: 51 },
  open_tree: { x64: 428, arm64: 428 },
  move_mount: { x64: 429, arm64: 429 },
  fsopen: { x64: 430, arm64: 430 },
  fsconfig: { x64: 431, arm64: 431 },
  fsmount: { x64: 432, arm64: 432 },
  fspick: { x64: 433, arm64: 433 },
  mount_setattr: { x64: 442, arm64: 442 },
  open_tree_attr: { x64: 467, arm64: 467 },
  // Namespaces.
  unshare: { x64: 272, arm64: 97 },
  setns: { x64: 308, arm64: 268 },
  // Kernel keyrings.
  add_key: { x64: 248, arm64: 217 },
  request_key: { x64: 249, arm64: 218 },
  keyctl: { x64: 250, arm64: 219 },
  // Kernel attack surface a program never needs.
  bpf: { x64: 321, arm64: 280 },
  perf_event_open: { x64: 298, arm64: 241 },
  userfaultfd: { x64: 323, arm64: 282 },
  io_uring_setup: { x64: 425, arm64: 425 },
  io_uring_enter: { x64: 426, arm64: 426 },
  io_uring_register: { x64: 427, arm64: 427 },
  open_by_handle_at: { x64: 304, arm64: 265 },
  name_to_handle_at: { x64: 303, arm64: 264 },
  fanotify_init: { x64: 300, arm64: 262 },
  lookup_dcookie: { x64: 212, arm64: 18 },
  // The machine itself.
  kexec_load: { x64: 246, arm64: 104 },
  kexec_file_load: { x64: 320, arm64: 294 },
  init_module: { x64: 175, arm64: 105 },
  finit_module: { x64: 313, arm64: 273 },
  delete_module: { x64: 176, arm64: 106 },
  reboot: { x64: 169, arm64: 142 },
  swapon: { x64: 167, arm64: 224 },
  swapoff: { x64: 168, arm64: 225 },
  acct: { x64: 163, arm64: 89 },
  quotactl: { x64: 179, arm64: 60 },
  quotactl_fd: { x64: 443, arm64: 443 },
  syslog: { x64: 103, arm64: 116 },
  settimeofday: { x64: 164, arm64: 170 },
  clock_settime: { x64: 227, arm64: 112 },
  adjtimex: { x64: 159, arm64: 171 },
  clock_adjtime: { x64: 305, arm64: 266 },
  iopl: { x64: 172 },
  ioperm: { x64: 173 },
  uselib: { x64: 134 },
  _sysctl: { x64: 156 },
};

const CLONE = { x64: 56, arm64: 220 };
const CLONE3 = { x64: 435, arm64: 435 };
const IOCTL = { x64: 16, arm64: 29 };

/** The calls the filter refuses with EPERM outright on `arch`, by name and number (clone, clone3 and ioctl are refused by argument). */
export function deniedSyscalls(arch: SeccompArch): Record<string, number> {
  return Object.fromEntries(Object.entries(SYSCALLS).flatMap(([name, numbers]) => (numbers[arch] === undefined ? [] : [[name, numbers[arch]]])));
}

/** clone, clone3 and ioctl numbers on `arch` (for tests that call them with refused arguments). */
export function filteredSyscalls(arch: SeccompArch): { clone: number; clone3: number; ioctl: number } {
  return { clone: CLONE[arch], clone3: CLONE3[arch], ioctl: IOCTL[arch] };
}

// Classic BPF opcodes (linux/bpf_common.h).
const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;

// struct seccomp_data offsets: nr, arch, instruction_pointer, args[6]; an argument's low 32 bits come first (little-endian).
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const argLow = (index: number): number => 16 + 8 * index;

type Target = number | string; // a label, or 0 for "the next instruction"
interface Instruction {
  code: number;
  k: number;
  jt?: Target;
  jf?: Target;
  label?: string;
}

/** Resolves labels into the 8-bit forward offsets classic BPF jumps take. */
function assemble(program: Instruction[]): Buffer {
  const at = new Map<string, number>();
  program.forEach((ins, i) => ins.label && at.set(ins.label, i));
  const out = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    const offset = (target: Target | undefined): number => {
      if (target === undefined || typeof target === "number") return target ?? 0;
      const to = at.get(target);
      if (to === undefined || to <= i || to - i - 1 > 255) throw new Error(`seccomp: cannot jump from ${i} to ${target}`);
      return to - i - 1;
    };
    // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } in native (little-endian) order.
    out.writeUInt16LE(ins.code, i * 8);
    out.writeUInt8(offset(ins.jt), i * 8 + 2);
    out.writeUInt8(offset(ins.jf), i * 8 + 3);
    out.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return out;
}

/** The architecture this engine runs on, if the filter knows it. */
export function nativeSeccompArch(): SeccompArch | null {
  return process.arch === "x64" || process.arch === "arm64" ? process.arch : null;
}

/**
 * The filter as bytes (an array of struct sock_filter), as `bwrap --seccomp` reads it.
 * `permit` names calls of deniedSyscalls() to let through: the fork server's zygote needs
 * mount, umount2 and unshare to build each child's namespaces (its children install the full filter).
 */
export function seccompProgram(arch: SeccompArch, permit: readonly string[] = []): Buffer {
  const program: Instruction[] = [
    { code: BPF_LD_W_ABS, k: OFFSET_ARCH },
    { code: BPF_JEQ_K, k: AUDIT_ARCH[arch], jt: 0, jf: "kill" },
    { code: BPF_LD_W_ABS, k: OFFSET_NR },
  ];
  if (arch === "x64") program.push({ code: BPF_JGE_K, k: X32_SYSCALL_BIT, jt: "eperm", jf: 0 });
  program.push({ code: BPF_JEQ_K, k: CLONE3[arch], jt: "enosys", jf: 0 });
  program.push({ code: BPF_JEQ_K, k: CLONE[arch], jt: "clone", jf: 0 });
  program.push({ code: BPF_JEQ_K, k: IOCTL[arch], jt: "ioctl", jf: 0 });
  for (const [name, numbers] of Object.entries(SYSCALLS)) {
    const nr = permit.includes(name) ? undefined : numbers[arch];
    if (nr !== undefined) program.push({ code: BPF_JEQ_K, k: nr, jt: "eperm", jf: 0 });
  }
  program.push(
    { code: BPF_RET_K, k: RET_ALLOW },
    // clone(flags, ...): flags is the first argument on both architectures.
    { code: BPF_LD_W_ABS, k: argLow(0), label: "clone" },
    { code: BPF_JSET_K, k: CLONE_NAMESPACE_FLAGS, jt: "eperm", jf: "allow" },
    // ioctl(fd, request, ...): the kernel reads request as 32 bits, so the low word is what counts.
    { code: BPF_LD_W_ABS, k: argLow(1), label: "ioctl" },
    { code: BPF_JEQ_K, k: TIOCSTI, jt: "eperm", jf: 0 },
    { code: BPF_JEQ_K, k: TIOCLINUX, jt: "eperm", jf: "allow" },
    { code: BPF_RET_K, k: RET_ALLOW, label: "allow" },
    { code: BPF_RET_K, k: RET_ERRNO | EPERM, label: "eperm" },
    { code: BPF_RET_K, k: RET_ERRNO | ENOSYS, label: "enosys" },
    { code: BPF_RET_K, k: RET_KILL_PROCESS, label: "kill" },
  );
  return assemble(program);
}
