/**
 * The WebAssembly SIMD kernel behind {@link maskInto} for larger payloads.
 *
 * The module, in the text format (132 bytes in binary, assembled by hand
 * below):
 *
 *   (module
 *     (memory (export "m") 1)                     ;; one 64 KiB page
 *     (func (export "x") (param $end i32) (param $key i32)
 *       (local $p i32) (local $k v128)
 *       (local.set $k (i32x4.splat (local.get $key)))
 *       (loop $next                               ;; 64 bytes per turn
 *         (v128.store offset=0 (local.get $p)
 *           (v128.xor (v128.load offset=0 (local.get $p)) (local.get $k)))
 *         ;; ... the same at offset=16, offset=32 and offset=48 ...
 *         (br_if $next (i32.lt_u
 *           (local.tee $p (i32.add (local.get $p) (i32.const 64)))
 *           (local.get $end))))))
 *
 * `x(end, key)` XORs memory bytes [0, end rounded up to 64) with the 4-byte
 * key repeated (`key` is little-endian: its low byte meets address 0). The
 * caller copies a block of at most 64 KiB in at address 0, calls `x`, and
 * copies the first `end` bytes out; the bytes past `end` are scratch.
 *
 * The memory never leaves this module's callers: no view of it is handed out.
 */

// prettier-ignore
const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x06, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x00, // type section: [func (i32 i32) -> ()]
  0x03, 0x02, 0x01, 0x00, // function section: func 0 has type 0
  0x05, 0x03, 0x01, 0x00, 0x01, // memory section: min 1 page, no max
  0x07, 0x09, 0x02, // export section, 2 exports:
  0x01, 0x6d, 0x02, 0x00, //   "m" = memory 0
  0x01, 0x78, 0x00, 0x00, //   "x" = func 0
  0x0a, 0x5e, 0x01, 0x5c, // code section, 1 body of 92 bytes
  0x02, 0x01, 0x7f, 0x01, 0x7b, // locals: $p i32, $k v128
  0x20, 0x01, 0xfd, 0x11, 0x21, 0x03, // local.get $key, i32x4.splat, local.set $k
  0x03, 0x40, // loop (no result)
  // local.get $p, local.get $p, v128.load align=16 offset, local.get $k, v128.xor, v128.store align=16 offset
  0x20, 0x02, 0x20, 0x02, 0xfd, 0x00, 0x04, 0x00, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x04, 0x00, // offset 0
  0x20, 0x02, 0x20, 0x02, 0xfd, 0x00, 0x04, 0x10, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x04, 0x10, // offset 16
  0x20, 0x02, 0x20, 0x02, 0xfd, 0x00, 0x04, 0x20, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x04, 0x20, // offset 32
  0x20, 0x02, 0x20, 0x02, 0xfd, 0x00, 0x04, 0x30, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x04, 0x30, // offset 48
  // local.get $p, i32.const 64, i32.add, local.tee $p, local.get $end, i32.lt_u, br_if 0
  0x20, 0x02, 0x41, 0xc0, 0x00, 0x6a, 0x22, 0x02, 0x20, 0x00, 0x49, 0x0d, 0x00,
  0x0b, 0x0b, // end loop, end func
]);

/** Bytes masked per call: the whole memory (its size is a multiple of 64). */
export const SIMD_BLOCK = 65536;

export interface SimdMasker {
  /** The module's memory; private to the masking code. */
  readonly mem: Uint8Array;
  /** XORs `mem[0, end)` with the little-endian `key` repeated. */
  readonly xor: (end: number, key: number) => void;
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
    const mem = new Uint8Array(memory.buffer, 0, SIMD_BLOCK);
    return { mem, xor: exports.x as (end: number, key: number) => void };
  } catch {
    return null;
  }
}
