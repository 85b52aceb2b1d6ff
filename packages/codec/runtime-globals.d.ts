/**
 * The only globals the codec may use beyond ECMAScript, declared by hand so
 * that `tsc` (with `lib: ["ES2022"]` and no DOM or Node types) rejects any
 * other: a `Buffer`, a `setTimeout`, a `fetch` or a `document` in `src/`
 * fails to type-check. Each is present in Node, Deno, Bun, browsers and
 * workers. `URL` is here beside the four the design names because the
 * client endpoint takes and exposes its target as a WHATWG URL.
 *
 * Only the members the codec calls are declared; the emitted `.d.ts` files
 * name these types, and a consumer's own lib (DOM, or `@types/node`)
 * supplies the full definitions.
 */

interface TextDecoderOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}

interface TextDecodeOptions {
  stream?: boolean;
}

declare class TextDecoder {
  constructor(label?: string, options?: TextDecoderOptions);
  readonly encoding: string;
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  decode(input?: ArrayBufferView | ArrayBuffer, options?: TextDecodeOptions): string;
}

interface TextEncoderEncodeIntoResult {
  read: number;
  written: number;
}

declare class TextEncoder {
  readonly encoding: string;
  encode(input?: string): Uint8Array<ArrayBuffer>;
  encodeInto(source: string, destination: Uint8Array): TextEncoderEncodeIntoResult;
}

declare const crypto: {
  getRandomValues<T extends ArrayBufferView>(array: T): T;
};

declare class URL {
  constructor(url: string, base?: string);
  href: string;
  protocol: string;
  host: string;
  hostname: string;
  port: string;
  pathname: string;
  search: string;
  hash: string;
  username: string;
  password: string;
  readonly origin: string;
  toString(): string;
}

declare namespace WebAssembly {
  type ExportValue = Memory | ((...args: number[]) => number | undefined) | object;
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, ExportValue>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  function validate(bytes: ArrayBufferView | ArrayBuffer): boolean;
}
