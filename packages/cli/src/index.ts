/**
 * The dissector behind `rfc6455 decode`, `connect --trace` and the demo's
 * frame inspector, for tools of your own.
 */
export { SessionDissector, StreamDissector, type StreamDissectorOptions } from './dissector.js';
export type {
  DissectRecord,
  ErrorRecord,
  FrameRecord,
  HttpBodyRecord,
  HttpRequestRecord,
  HttpResponseRecord,
  LengthEncoding,
  MessageRecord,
  Side,
} from './records.js';
export { parseHex, toHex, type HexParseResult } from './hex.js';
export { formatRecord, type FormatOptions } from './format.js';
export { createStyle, type Style } from './style.js';
