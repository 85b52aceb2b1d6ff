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

/** Captures (pcap, pcapng): the reader and dissector behind `rfc6455 decode --pcap` and the demo's capture panel. */
export {
  CaptureDissector,
  dissectCapture,
  type CaptureDissectorOptions,
} from './pcap/capture-dissector.js';
export {
  readCapture,
  type CaptureFormat,
  type CaptureItem,
  type CapturePacket,
  type CaptureReaderOptions,
} from './pcap/capture-reader.js';
export type { CaptureRecord } from './pcap/capture-records.js';
export { captureRecordJson, formatCaptureRecord, type CaptureFormatOptions } from './pcap/format-capture.js';
export type { EngineOpen, EnginePacket, EngineUrl, EngineVersion } from './engine-io.js';
export type { SocketIoPacket, SocketIoPacketType } from './socket-io.js';
