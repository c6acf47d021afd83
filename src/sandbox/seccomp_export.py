"""Compiles the sandbox's seccomp policy (seccomp-policy.ts) into classic BPF with libseccomp.

Run by the engine (seccomp.ts) with Debian's /usr/bin/python3 and its python3-seccomp package:
the policy comes as JSON on stdin, the answer goes as JSON to stdout:

  in:  {"arch": "x86_64" | "aarch64", "rules": [{"names": [...], "action": "allow" | {"errno": n},
        "args": [{"index": i, "op": "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "masked_eq",
                  "value": "0x..", "mask": "0x.."}]}], "default_errno": n}
  out: {"bpf": base64 of the struct sock_filter array, "numbers": {name: nr or null},
        "table": {nr: name} for every number libseccomp knows on that architecture, "version": "x.y.z"}

libseccomp does what a hand-written filter would have to get right: the architecture check first
(another ABI is killed: SCMP_FLTATR_ACT_BADARCH), x32 numbers on x86_64, 64-bit argument
comparisons on both halves, and jumps past 255 instructions.
"""

import base64
import json
import sys
import tempfile

import seccomp

_ARCH = {"x86_64": seccomp.Arch.X86_64, "aarch64": seccomp.Arch.AARCH64}
_OPS = {"eq": seccomp.EQ, "ne": seccomp.NE, "lt": seccomp.LT, "le": seccomp.LE, "gt": seccomp.GT, "ge": seccomp.GE, "masked_eq": seccomp.MASKED_EQ}
# Beyond the last number any architecture here has (x86_64 and aarch64 are below 500).
_TABLE_END = 1024


def _action(spec):
    if spec == "allow":
        return seccomp.ALLOW
    return seccomp.ERRNO(int(spec["errno"]))


def _arg(spec):
    op = _OPS[spec["op"]]
    value = int(spec["value"], 0)
    if op == seccomp.MASKED_EQ:
        return seccomp.Arg(spec["index"], op, int(spec["mask"], 0), value)
    return seccomp.Arg(spec["index"], op, value)


def _number(arch, name):
    try:
        nr = seccomp.resolve_syscall(arch, name)
    except ValueError:
        return None
    return nr if nr >= 0 else None  # negative: a pseudo-number for a call this architecture lacks


def main() -> None:
    policy = json.load(sys.stdin)
    arch = _ARCH[policy["arch"]]
    default_errno = int(policy["default_errno"])
    f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(default_errno))
    # The filter is for the native ABI only: whatever else is added is removed, and a call from
    # another one (i386 `int 0x80` on x86_64, arm32 on aarch64) kills the process.
    if not f.exist_arch(arch):
        f.add_arch(arch)
        f.remove_arch(seccomp.Arch.NATIVE)
    f.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    # A binary search over the syscall numbers instead of one comparison per allowed call: every
    # system call the program makes runs this filter (~10 comparisons instead of up to ~250).
    f.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)
    numbers = {}
    for rule in policy["rules"]:
        action = _action(rule["action"])
        args = [_arg(a) for a in rule.get("args", [])]
        for name in rule["names"]:
            nr = _number(arch, name)
            numbers[name] = nr
            if nr is None:
                continue  # not a call of this architecture (or too new for this libseccomp): refused
            try:
                # By name: a number would be taken as the native architecture's and translated.
                f.add_rule(action, name, *args)
            except RuntimeError as err:
                raise RuntimeError(f"{name}: {err}") from None
    table = {}
    for nr in range(_TABLE_END):
        try:
            table[nr] = seccomp.resolve_syscall(arch, nr).decode()
        except ValueError:
            pass
    with tempfile.TemporaryFile() as out:
        f.export_bpf(out)
        out.seek(0)
        bpf = out.read()
    api = seccomp.get_api()
    json.dump({"bpf": base64.b64encode(bpf).decode(), "numbers": numbers, "table": table, "api": api}, sys.stdout)


if __name__ == "__main__":
    main()
