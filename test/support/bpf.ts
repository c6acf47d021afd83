/**
 * A classic-BPF interpreter for seccomp programs, as the kernel runs them (linux/filter.h,
 * kernel/bpf/core.c's classic subset, seccomp_check_filter's allowed opcodes): the tests ask the
 * generated filter what it answers for every syscall number, without trusting how it was built.
 */

/** struct seccomp_data, with 64-bit arguments. */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  args?: readonly bigint[];
}

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ACTION_FULL = 0xffff0000;

/** The 32-bit word at `offset` of struct seccomp_data (little-endian). */
function word(data: SeccompData, offset: number): number {
  if (offset === 0) return data.nr >>> 0;
  if (offset === 4) return data.arch >>> 0;
  const value = offset < 16 ? (data.instructionPointer ?? 0n) : (data.args?.[(offset - 16) >> 3] ?? 0n);
  const high = (offset & 7) === 4;
  return Number((high ? value >> 32n : value) & 0xffffffffn);
}

/** Runs `program` (struct sock_filter[]) on `data`; returns the 32-bit seccomp return value. */
export function runSeccomp(program: Buffer, data: SeccompData): number {
  let a = 0;
  let x = 0;
  const mem = new Array<number>(16).fill(0);
  for (let pc = 0; pc < program.length / 8; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    const cls = code & 0x07;
    const src = code & 0x08 ? x : k;
    switch (cls) {
      case 0x00: // LD
        if ((code & 0xe0) === 0x20)
          a = word(data, k); // ABS, W
        else if ((code & 0xe0) === 0x00)
          a = k; // IMM
        else if ((code & 0xe0) === 0x60)
          a = mem[k]!; // MEM
        else if ((code & 0xe0) === 0x80)
          a = 64; // LEN: sizeof(struct seccomp_data)
        else throw new Error(`unsupported LD ${code.toString(16)} at ${pc}`);
        break;
      case 0x01: // LDX
        if ((code & 0xe0) === 0x00) x = k;
        else if ((code & 0xe0) === 0x60) x = mem[k]!;
        else if ((code & 0xe0) === 0x80) x = 64;
        else throw new Error(`unsupported LDX ${code.toString(16)} at ${pc}`);
        break;
      case 0x02: // ST
        mem[k] = a;
        break;
      case 0x03: // STX
        mem[k] = x;
        break;
      case 0x04: {
        // ALU
        const op = code & 0xf0;
        const ops: Record<number, () => number> = {
          0x00: () => a + src,
          0x10: () => a - src,
          0x20: () => Math.imul(a, src),
          0x30: () => Math.floor((a >>> 0) / (src >>> 0)),
          0x40: () => a | src,
          0x50: () => a & src,
          0x60: () => a << src,
          0x70: () => a >>> src,
          0x80: () => -a,
          0x90: () => (a >>> 0) % (src >>> 0),
          0xa0: () => a ^ src,
        };
        const f = ops[op];
        if (!f) throw new Error(`unsupported ALU ${code.toString(16)} at ${pc}`);
        a = f() >>> 0;
        break;
      }
      case 0x05: {
        // JMP
        const op = code & 0xf0;
        if (op === 0x00) {
          pc += k;
          break;
        }
        const l = a >>> 0;
        const r = src >>> 0;
        const taken =
          op === 0x10 ? l === r : op === 0x20 ? l > r : op === 0x30 ? l >= r : op === 0x40 ? (l & r) !== 0 : null;
        if (taken === null) throw new Error(`unsupported JMP ${code.toString(16)} at ${pc}`);
        pc += taken ? jt : jf;
        break;
      }
      case 0x06: // RET
        return ((code & 0x18) === 0x10 ? a : k) >>> 0;
      case 0x07: // MISC
        if (code === 0x07)
          x = a; // TAX
        else a = x; // TXA
        break;
    }
  }
  throw new Error("the program ran off its end");
}

/** The action of a return value: `allow`, `kill`, or `errno N`. */
export function seccompAction(ret: number): string {
  const action = (ret & SECCOMP_RET_ACTION_FULL) >>> 0;
  if (action === SECCOMP_RET_ALLOW) return "allow";
  if (action === SECCOMP_RET_KILL_PROCESS || action === SECCOMP_RET_KILL_THREAD) return "kill";
  if (action === SECCOMP_RET_ERRNO) return `errno ${ret & 0xffff}`;
  return `0x${ret.toString(16)}`;
}
