/**
 * The sandbox's seccomp policy: an allowlist, modelled on Docker's default profile
 * (moby/profiles seccomp/default.json) and cut down to what the programs of both runtimes
 * (Python + LangGraph, Node + LangGraph.js, their harnesses, and the ordinary tools a program may
 * run: sh, coreutils) were seen to make, plus the ordinary POSIX calls of the same families a
 * program may make through its standard library (docs/security.md, "The seccomp filter").
 *
 * Every call not listed fails with EPERM, as in Docker. Left out on purpose although Docker allows
 * them: inotify_* and fanotify_mark (a watch on the shared read-only /usr or runtime shows which
 * files other executions open, and when sandboxes start), ptrace, process_vm_*, kcmp,
 * pidfd_getfd, name_to_handle_at and open_by_handle_at, io_setup/io_submit (AIO), set*id and
 * setgroups, capset, seccomp, landlock_*, memfd_secret, mount information (statmount,
 * listmount), the 32-bit and time64 variants (another ABI: killed), adjtimex, personality beyond
 * the few values Docker allows, and every call Docker allows only to a capability the sandbox
 * never holds (mount, unshare, setns, bpf, perf_event_open, keyrings, modules, reboot, swap...).
 */

/** A comparison on one argument, as libseccomp takes it; values are hex strings (64-bit). */
export interface SeccompArg {
  index: number;
  op: "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "masked_eq";
  value: string;
  mask?: string;
}

export interface SeccompRule {
  names: readonly string[];
  action: "allow" | { errno: number };
  /** All must hold (libseccomp ANDs the comparisons of one rule; rules of one call are ORed). */
  args?: readonly SeccompArg[];
}

export const EPERM = 1;
export const ENOSYS = 38;

/** Calls allowed whatever their arguments, by family (the families say why a program needs them). */
export const ALLOWED_SYSCALLS: Readonly<Record<string, readonly string[]>> = {
  files: [
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "open",
    "openat",
    "openat2",
    "creat",
    "close",
    "close_range",
    "lseek",
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "flock",
    "fsync",
    "fdatasync",
    "sync",
    "syncfs",
    "sync_file_range",
    "ftruncate",
    "truncate",
    "fallocate",
    "fadvise64",
    "readahead",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "statx",
    "statfs",
    "fstatfs",
    "access",
    "faccessat",
    "faccessat2",
    "getdents",
    "getdents64",
    "getcwd",
    "chdir",
    "fchdir",
    "mkdir",
    "mkdirat",
    "rmdir",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "unlink",
    "unlinkat",
    "readlink",
    "readlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "chown",
    "fchown",
    "fchownat",
    "lchown",
    "umask",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    // os.mkfifo; device nodes need CAP_MKNOD, which no sandbox holds.
    "mknod",
    "mknodat",
    "copy_file_range",
    "sendfile",
    "splice",
    "tee",
    "vmsplice",
    // shutil.copy2 copies extended attributes.
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
  ],
  memory: [
    "brk",
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "mincore",
    "msync",
    "mlock",
    "mlock2",
    "munlock",
    "mlockall",
    "munlockall",
    // V8 protects its JIT code with memory protection keys where the CPU has them.
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "membarrier",
    "memfd_create",
  ],
  processes: [
    "fork",
    "vfork",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "kill",
    "tkill",
    "tgkill",
    "getpid",
    "getppid",
    "gettid",
    "getpgid",
    "setpgid",
    "getpgrp",
    "getsid",
    "setsid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "getgroups",
    "capget",
    "prctl",
    "arch_prctl",
    "set_tid_address",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "futex",
    "sched_yield",
    "sched_getaffinity",
    "sched_setaffinity",
    "sched_getparam",
    "sched_getscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getattr",
    "getpriority",
    "setpriority",
    "getrlimit",
    "setrlimit",
    "prlimit64",
    "getrusage",
    "times",
    "sysinfo",
    "uname",
    "getcpu",
    "pidfd_open",
    "pidfd_send_signal",
  ],
  time: [
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "time",
    "alarm",
    "getitimer",
    "setitimer",
    "timer_create",
    "timer_settime",
    "timer_gettime",
    "timer_getoverrun",
    "timer_delete",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
  ],
  signals: [
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigpending",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "pause",
    "restart_syscall",
  ],
  events: [
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "pipe",
    "pipe2",
    "getrandom",
  ],
  sockets: [
    "socketpair",
    "bind",
    "listen",
    "accept",
    "accept4",
    "connect",
    "getsockname",
    "getpeername",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    "shutdown",
    "setsockopt",
    "getsockopt",
  ],
  // System V and POSIX IPC: the sandbox's own IPC namespace (multiprocessing, shared memory).
  ipc: [
    "shmget",
    "shmat",
    "shmdt",
    "shmctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedreceive",
    "mq_notify",
    "mq_getsetattr",
  ],
};

/** asm-generic/ioctls.h: push input into a terminal, and the console's ioctl (the same numbers on both architectures). */
export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;

/** linux/sched.h: every CLONE_NEW* flag clone() takes (Docker's mask). CLONE_NEWTIME (0x80) is part of the exit signal there. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;

/** Socket families a program uses: Unix, IPv4, IPv6 (loopback only: no network), netlink (glibc's getaddrinfo and interface lists). */
export const SOCKET_FAMILIES = [1, 2, 10, 16] as const;

/** personality(2) values Docker allows: PER_LINUX, PER_LINUX32, UNAME26 with either, and the query 0xffffffff. */
export const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff] as const;

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/**
 * ioctl's request is an unsigned int: the kernel drops its upper 32 bits. Allowed: every request
 * whose upper half is zero, except the refused ones, written as masked comparisons (each fixes
 * the upper half to zero and a prefix of the lower half that leaves the refused values out).
 * A request with upper bits set is refused whatever its lower half.
 */
function ioctlRules(refused: readonly number[]): SeccompRule[] {
  const rules: SeccompRule[] = [];
  const upper = 0xffffffff00000000n;
  // Walk the binary prefixes of the refused values from the top bit down: at each bit, the branch
  // no refused value takes is allowed whole.
  const walk = (prefix: bigint, bit: number, values: readonly number[]): void => {
    if (bit < 0) return; // an exact refused value: nothing to allow
    for (const value of [0n, 1n]) {
      const next = prefix | (value << BigInt(bit));
      const inside = values.filter((v) => ((BigInt(v) >> BigInt(bit)) & 1n) === value);
      const mask = upper | (((1n << 32n) - 1n) & ~((1n << BigInt(bit)) - 1n));
      if (inside.length === 0)
        rules.push({
          names: ["ioctl"],
          action: "allow",
          args: [{ index: 1, op: "masked_eq", mask: hex(mask), value: hex(next) }],
        });
      else walk(next, bit - 1, inside);
    }
  };
  walk(0n, 31, refused);
  return rules;
}

export type SeccompVariant = "execution" | "zygote";

/**
 * The rules of one filter. `zygote`: the fork server's zygote, which builds its children's
 * namespaces and mounts and drops its capabilities in each (capset), so it may also call mount,
 * umount2, unshare and capset; every child installs the `execution` filter on top before any
 * program code runs.
 */
export function seccompRules(variant: SeccompVariant): SeccompRule[] {
  const rules: SeccompRule[] = [{ names: Object.values(ALLOWED_SYSCALLS).flat(), action: "allow" }];
  // clone(flags, ...): flags is the first argument on both architectures; threads and forks only.
  rules.push({
    names: ["clone"],
    action: "allow",
    args: [{ index: 0, op: "masked_eq", mask: hex(CLONE_NAMESPACE_FLAGS), value: "0x0" }],
  });
  // clone3's flags live in memory a filter cannot read: ENOSYS makes glibc fall back to clone.
  rules.push({ names: ["clone3"], action: { errno: ENOSYS } });
  rules.push(...ioctlRules([TIOCSTI, TIOCLINUX]));
  for (const family of SOCKET_FAMILIES)
    rules.push({ names: ["socket"], action: "allow", args: [{ index: 0, op: "eq", value: hex(family) }] });
  for (const persona of PERSONALITIES)
    rules.push({ names: ["personality"], action: "allow", args: [{ index: 0, op: "eq", value: hex(persona) }] });
  if (variant === "zygote") rules.push({ names: ["mount", "umount2", "unshare", "capset"], action: "allow" });
  return rules;
}
