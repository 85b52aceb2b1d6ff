/**
 * `@rfc6455/codec/frames`: the frame layer on its own, for tools, fuzzers,
 * proxies and broadcasters — frame headers parsed and encoded, masking, and
 * messages encoded once for many connections.
 */
export {
  encodedFrameLength,
  encodeFrame,
  encodeFrameHeader,
  encodeFrameInto,
  parseFrameHeader,
  type FrameHeader,
  type FrameHeaderResult,
  type FrameHeaderRules,
  type FrameInit,
  type LengthEncoding,
} from './frame-header.js';
export { maskInto, unmaskInPlace } from './mask.js';
export { Opcode, opcodeName } from './opcode.js';
export {
  MessagePreEncoder,
  type DataMessage,
  type MessagePreEncoderOptions,
  type PreEncodedMessage,
} from './pre-encoder.js';
