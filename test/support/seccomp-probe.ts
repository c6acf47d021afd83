/**
 * Python probes of the seccomp filter from inside a real sandbox: each named call made through
 * ctypes' syscall() with the number libseccomp gives it, and a call through another ABI. They
 * need only the standard library, so the same probe runs under either runtime's sandbox (in the
 * JavaScript one, node starts /usr/bin/python3, which inherits the filter).
 */
import { seccompFilter, type SeccompArch } from "../../src/sandbox/seccomp.ts";

/**
 * Calls the filter must refuse, each with the arguments it is made with (plain integers):
 * zero unless an argument is what makes the call refused, or what would make the kernel itself
 * answer something other than EPERM (so that EPERM shows it was the filter).
 */
export const REFUSED_CALLS: Readonly<Record<string, readonly number[]>> = {
  ptrace: [0],
  process_vm_readv: [],
  process_vm_writev: [],
  kcmp: [],
  pidfd_getfd: [],
  mount: [],
  umount2: [],
  pivot_root: [],
  chroot: [],
  open_tree: [],
  move_mount: [],
  fsopen: [],
  fsconfig: [],
  fsmount: [],
  fspick: [],
  mount_setattr: [],
  unshare: [0x10000000],
  setns: [],
  sethostname: [],
  setdomainname: [],
  add_key: [],
  request_key: [],
  keyctl: [],
  bpf: [],
  perf_event_open: [],
  userfaultfd: [0],
  io_uring_setup: [1],
  io_uring_enter: [],
  io_uring_register: [],
  inotify_init: [],
  inotify_init1: [0],
  inotify_add_watch: [],
  inotify_rm_watch: [],
  fanotify_init: [0, 0],
  fanotify_mark: [],
  open_by_handle_at: [],
  name_to_handle_at: [],
  lookup_dcookie: [],
  kexec_load: [],
  kexec_file_load: [],
  init_module: [],
  finit_module: [],
  delete_module: [],
  reboot: [],
  swapon: [],
  swapoff: [],
  acct: [],
  quotactl: [],
  quotactl_fd: [],
  syslog: [],
  vhangup: [],
  settimeofday: [],
  clock_settime: [0],
  adjtimex: [],
  clock_adjtime: [],
  personality: [0x0040000], // ADDR_NO_RANDOMIZE
  iopl: [],
  ioperm: [],
  uselib: [],
  memfd_secret: [0],
  seccomp: [],
  setuid: [0],
  setgroups: [],
  capset: [],
  io_setup: [],
  statmount: [],
  listmount: [],
};

/** The refused calls this architecture has, with their numbers (from libseccomp). */
export function refusedNumbers(arch: SeccompArch): Record<string, number> {
  const filter = seccompFilter(arch);
  const out: Record<string, number> = {};
  const byName = new Map([...filter.table].map(([nr, name]) => [name, nr]));
  for (const name of Object.keys(REFUSED_CALLS)) {
    const nr = byName.get(name);
    if (nr !== undefined) out[name] = nr;
  }
  return out;
}

/**
 * A Python program that makes every refused call and prints one JSON object: name -> errno name
 * ("OK" when the call succeeded), plus `getpid` (must be "OK") and `clone3` (ENOSYS).
 */
export function refusedCallsProbe(arch: SeccompArch): string {
  const numbers = refusedNumbers(arch);
  const calls = Object.fromEntries(Object.entries(numbers).map(([name, nr]) => [name, [nr, ...REFUSED_CALLS[name]!]]));
  const byName = new Map([...seccompFilter(arch).table].map(([nr, name]) => [name, nr]));
  return `
import ctypes, errno, json
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(nr, *args):
    ctypes.set_errno(0)
    result = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    return "OK" if result != -1 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
out = {name: call(*spec) for name, spec in ${JSON.stringify(calls)}.items()}
out["getpid"] = call(${byName.get("getpid")!})
out["clone3"] = call(${byName.get("clone3")!}, 0, 0)
print(json.dumps(out))
`;
}

/**
 * A Python program that, in a forked child each, makes a call through another ABI (x86_64: i386
 * `int 0x80` from a page of machine code, and an x32 number; aarch64: none can be made from
 * Python) and prints how each child ended: {"i386 getpid": "SIGSYS", ...}, or "exit N".
 */
export function otherAbiProbe(arch: SeccompArch): string {
  if (arch !== "x64") return "import json; print(json.dumps({}))";
  return `
import ctypes, json, mmap, os, signal
def in_child(attempt):
    pid = os.fork()
    if pid == 0:
        try:
            attempt()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}"
def i386_getpid():
    # mov eax, 20 (i386 getpid); int 0x80; ret
    page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3]))
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    ctypes.CFUNCTYPE(ctypes.c_int)(address)()
def x32_getpid():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall(ctypes.c_long(0x40000000 | 39))
print(json.dumps({"i386 getpid": in_child(i386_getpid), "x32 getpid": in_child(x32_getpid), "native getpid": in_child(lambda: os.getpid())}))
`;
}
