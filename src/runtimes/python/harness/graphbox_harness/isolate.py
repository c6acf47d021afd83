"""The kernel calls that turn a fork of the zygote into a sandbox of its own (Linux only).

Python 3.11 has no os.unshare, os.mount or capset, so they go through libc with ctypes. Every
call here runs before the program's code, in a process that still holds the capabilities the
zygote got inside its user namespace (bwrap --cap-add ALL); `confine` gives them all up for good.
"""

import ctypes
import fcntl
import os
import resource
import socket
import stat
import struct

_libc = ctypes.CDLL(None, use_errno=True)
_ulong = ctypes.c_ulong
_libc.prctl.argtypes = [ctypes.c_int, _ulong, _ulong, _ulong, _ulong]
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, _ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.syscall.restype = ctypes.c_long

# linux/sched.h
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
# Everything but the user namespace, which stays the zygote's (and --disable-userns forbids new ones).
CHILD_NAMESPACES = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET

# linux/mount.h
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 0x4000, 1 << 18
# A bind remount must repeat the flags the mount keeps: locked ones (atime included) cannot be cleared.
_MOUNT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": 1024, "nodiratime": 2048, "relatime": 1 << 21}

# linux/prctl.h, linux/seccomp.h
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
SECCOMP_MODE_FILTER = 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}[os.uname().machine]

# linux/sockios.h, linux/if.h
SIOCGIFFLAGS, SIOCSIFFLAGS = 0x8913, 0x8914
IFF_UP, IFF_RUNNING = 0x1, 0x40
_IFREQ = struct.Struct("16sH22x")  # struct ifreq: name, then the flags in a 24-byte union

# The engine's per-job socket directory, open in the zygote as this fd (src/runtimes/python/forkserver-zygote.ts ZYGOTE_JOBS_FD):
# not bound into its sandbox, so no mount names it, and gone from each child once connected.
JOBS_FD = 10


def _check(result: int, what: str) -> int:
    if result == -1:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
    return result


def die_with_parent() -> None:
    """SIGKILL when the parent dies (zygote, then each level below), so no child outlives the engine."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")


def not_dumpable() -> None:
    """Keeps the program from opening this process's /proc/<pid>/mem (same uid, no Yama here): it needs CAP_SYS_PTRACE then."""
    _check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(PR_SET_DUMPABLE)")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def _mount(source, target: str, fstype, flags: int, data=None) -> None:
    enc = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
    _check(_libc.mount(enc(source), target.encode(), enc(fstype), flags, enc(data)), f"mount {target}")


def fresh_mounts(tmp_size_bytes: int) -> None:
    """The writable places of the child, all new and empty; the zygote's own stay hidden beneath.

    Unsharing the mount namespace copies the mount table, not the file systems: the zygote's /tmp,
    /dev/shm and /dev/pts are the same superblocks in every child, so each is covered by a new one
    here, and every other writable mount left is made read-only.
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here propagates to the zygote or a sibling
    size = str(max(tmp_size_bytes, 4096))
    # The runtime's read-only files may live under /tmp (a checkout there): hold them by fd, then
    # bind them back, read-only, onto the new tmpfs that would otherwise hide them.
    held = _runtime_binds_under("/tmp")
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    for point, fd in held:
        os.makedirs(point, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", point, None, MS_BIND)
        _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, f"size={size},mode=1777")
    # A /proc of the new PID namespace: it shows this child's processes only.
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    # Its own pseudo-terminals: in the zygote's devpts a sibling's ptys would be openable (same uid).
    _mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")
    _remount_rest_readonly({"/tmp", "/dev/shm", "/proc", "/dev/pts"})


def _runtime_binds_under(root: str) -> list:
    """Mount points below `root` (the sandbox's read-only runtime binds), each opened as an O_PATH fd."""
    held = []
    with open("/proc/self/mountinfo") as f:
        for line in f.read().splitlines():
            point = line.split()[4].encode().decode("unicode_escape")
            if point.startswith(root + "/"):
                held.append((point, os.open(point, os.O_PATH | os.O_DIRECTORY)))
    return held


def _remount_rest_readonly(fresh: set) -> None:
    """Defence in depth: whatever the zygote's sandbox mounted writable (besides device nodes) becomes read-only."""
    with open("/proc/self/mountinfo") as f:
        lines = f.read().splitlines()
    for line in lines:
        fields = line.split()
        point = fields[4].encode().decode("unicode_escape")
        options = fields[5].split(",")
        if "rw" not in options or any(point == p or point.startswith(p + "/") for p in fresh):
            continue
        try:
            if stat.S_ISCHR(os.stat(point).st_mode):
                continue  # /dev/null and friends: written through, not stored
        except OSError:
            continue  # covered by a later mount
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | sum(_MOUNT_FLAGS.get(o, 0) for o in options)
        _mount(None, point, None, flags)


def job_socket(job_id: str) -> str:
    """The path of a job's socket through the jobs directory's fd (a magic link: no mount, no host name)."""
    return f"/proc/self/fd/{JOBS_FD}/{job_id}.sock"


def connect(path: str, token: str, role: str) -> int:
    """One connection to the engine's per-job socket, introduced by `<token> <role>\\n`; returns its fd."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    sock.sendall(f"{token} {role}\n".encode())
    return sock.detach()


def loopback_up() -> None:
    """A new network namespace starts with `lo` down: the gateway bridge listens on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        (_, flags) = _IFREQ.unpack(fcntl.ioctl(sock, SIOCGIFFLAGS, _IFREQ.pack(b"lo", 0)))
        fcntl.ioctl(sock, SIOCSIFFLAGS, _IFREQ.pack(b"lo", flags | IFF_UP | IFF_RUNNING))


def set_rlimits(limits: dict) -> None:
    """What prlimit sets on the fresh-process path: CPU seconds (SIGXCPU, SIGKILL a second later), file size, open files, no core."""
    cpu = int(limits["cpu_seconds"])

    def lower(which, soft, hard):
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, current_hard), min(hard, current_hard)
        resource.setrlimit(which, (soft, hard))

    lower(resource.RLIMIT_CPU, cpu, cpu + 1)
    lower(resource.RLIMIT_FSIZE, int(limits["file_size_bytes"]), int(limits["file_size_bytes"]))
    lower(resource.RLIMIT_NOFILE, int(limits["open_files"]), int(limits["open_files"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def confine(seccomp_program: bytes) -> None:
    """Gives up every capability for good, sets no_new_privs and installs the execution's seccomp filter.

    Order matters: the bounding set and capset need CAP_SETPCAP, and the filter (which refuses
    mount, unshare, ptrace...) comes last, when nothing privileged is left to do.
    """
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 and ctypes.get_errno() == 22:  # EINVAL: past the last capability
            break
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl(PR_CAP_AMBIENT_CLEAR_ALL)")
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable (x2 for 64 capabilities): all zero
    _check(_libc.syscall(ctypes.c_long(_SYS_CAPSET), header, data), "capset")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    if len(seccomp_program) % 8 or not seccomp_program:
        raise ValueError("the seccomp program is not an array of struct sock_filter")
    instructions = ctypes.create_string_buffer(seccomp_program, len(seccomp_program))
    program = SockFprog(len(seccomp_program) // 8, ctypes.addressof(instructions))
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(program), 0, 0), "prctl(PR_SET_SECCOMP)")
