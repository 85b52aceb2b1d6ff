/**
 * The WebAssembly SIMD kernel behind {@link maskInto} and the scratch memory
 * in which larger frames are assembled and masked.
 *
 * The module, in the text format (assembled by hand below):
 *
 *   (module
 *     (memory (export "m") 17)                    ;; 1 MiB + 64 KiB, fixed
 *     (func (export "x") (param $p i32) (param $end i32) (param $key i32)
 *       (local $k v128)
 *       (local.set $k (i32x4.splat (local.get $key)))
 *       (loop $next                               ;; 64 bytes per turn
 *         (v128.store align=1 offset=0 (local.get $p)
 *           (v128.xor (v128.load align=1 offset=0 (local.get $p)) (local.get $k)))
 *         ;; ... the same at offset=16, offset=32 and offset=48 ...
 *         (br_if $next (i32.lt_u
 *           (local.tee $p (i32.add (local.get $p) (i32.const 64)))
 *           (local.get $end))))))
 *
 * `x(start, end, key)` XORs memory bytes [start, end) with the 4-byte key
 * repeated from `start` on (`key` is little-endian: its low byte meets
 * address `start`). It works in whole turns of 64 bytes, so up to 63 bytes
 * past `end` change too: they are scratch, and the memory always has room
 * for them. `start` may have any alignment (the loads and stores say so).
 *
 * The memory never leaves this module's callers: no view of it is handed out.
 * It has its final size from the start and never grows: growing would
 * detach its old buffer, and the first detached buffer in a process makes
 * V8 check for detachment on every typed-array access from then on (twice as
 * slow a byte loop, in every module of the process). Pages that are never
 * touched cost no memory.
 */

/** Pages of 64 KiB: room for a 1 MiB payload with the longest frame header, and the kernel's overrun. */
const PAGES = 17;

// biome-ignore format: one line per WebAssembly instruction, with its meaning beside it
const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x07, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, // type section: [func (i32 i32 i32) -> ()]
  0x03, 0x02, 0x01, 0x00, // function section: func 0 has type 0
  0x05, 0x03, 0x01, 0x00, PAGES, // memory section: min PAGES pages (< 128: one LEB128 byte), no max
  0x07, 0x09, 0x02, // export section, 2 exports:
  0x01, 0x6d, 0x02, 0x00, //   "m" = memory 0
  0x01, 0x78, 0x00, 0x00, //   "x" = func 0
  0x0a, 0x5c, 0x01, 0x5a, // code section, 1 body of 90 bytes
  0x01, 0x01, 0x7b, // locals: $k v128 (local 3, after the three params)
  0x20, 0x02, 0xfd, 0x11, 0x21, 0x03, // local.get $key, i32x4.splat, local.set $k
  0x03, 0x40, // loop (no result)
  // local.get $p, local.get $p, v128.load align=1 offset, local.get $k, v128.xor, v128.store align=1 offset
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x00, 0x00, // offset 0
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x10, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x00, 0x10, // offset 16
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x20, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x00, 0x20, // offset 32
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x30, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x00, 0x30, // offset 48
  // local.get $p, i32.const 64, i32.add, local.tee $p, local.get $end, i32.lt_u, br_if 0
  0x20, 0x00, 0x41, 0xc0, 0x00, 0x6a, 0x22, 0x00, 0x20, 0x01, 0x49, 0x0d, 0x00,
  0x0b, 0x0b, // end loop, end func
]);

/** Bytes past `end` that one call may overwrite (a turn is 64 bytes). */
export const SIMD_OVERRUN = 64;

export interface SimdMasker {
  /** The module's memory. */
  readonly mem: Uint8Array<ArrayBuffer>;
  /** XORs `mem[start, end)` with the little-endian `key` repeated from `start`; `start < end`. */
  readonly xor: (start: number, end: number, key: number) => void;
}

let masker: SimdMasker | null | undefined;

/**
 * The SIMD kernel, or null when this runtime has no WebAssembly, no SIMD, or
 * forbids compiling it (e.g. a Content Security Policy). Instantiated on
 * first use, synchronously (the module is far below any engine's limit for
 * synchronous compilation).
 */
export function simdMasker(): SimdMasker | null {
  if (masker === undefined) masker = instantiate();
  return masker;
}

function instantiate(): SimdMasker | null {
  try {
    if (typeof WebAssembly !== 'object' || !WebAssembly.validate(MODULE)) return null;
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(MODULE));
    const memory = exports.m as WebAssembly.Memory;
    return { mem: new Uint8Array(memory.buffer), xor: exports.x as (start: number, end: number, key: number) => void };
  } catch {
    return null;
  }
}
