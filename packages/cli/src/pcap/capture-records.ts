/**
 * What dissecting a capture reports, one record per event, in capture
 * order. Every record that comes from a packet names it (`packet`, 1-based
 * as in Wireshark) and its time, so any line can be found in another tool.
 */
import type { EnginePacket, EngineUrl } from '../engine-io.js';
import type { DissectRecord, Side } from '../records.js';
import type { SocketIoPacket } from '../socket-io.js';
import type { CaptureFormat } from './capture-reader.js';

interface At {
  /** The capture packet that completed this record. */
  readonly packet: number;
  /** Seconds since the capture's first packet. */
  readonly time: number;
}

interface OnConnection extends At {
  /** Connection number, in order of first appearance. */
  readonly conn: number;
  readonly from: Side;
}

export type CaptureRecord =
  | { readonly type: 'capture'; readonly format: CaptureFormat; readonly detail: string }
  | (At & {
      readonly type: 'connection';
      readonly conn: number;
      /** `address:port` of each end. */
      readonly client: string;
      readonly server: string;
      readonly protocol: 'websocket' | 'http';
      /** Whether the capture holds the connection's SYN, or starts in its middle. */
      readonly seen: 'from-syn' | 'mid-connection';
      readonly engine: EngineUrl | null;
    })
  /** A record of the WebSocket dissector (HTTP handshake, frame, message, violation). */
  | (OnConnection & { readonly type: 'websocket'; readonly record: DissectRecord })
  /** An HTTP message outside WebSocket (long-polling, and anything else on a followed connection). */
  | (OnConnection & {
      readonly type: 'http';
      readonly startLine: string;
      readonly bodyLength: number;
      readonly complete: boolean;
      readonly engine: EngineUrl | null;
    })
  | (OnConnection & {
      readonly type: 'tcp';
      readonly event: 'retransmission' | 'out-of-order' | 'gap';
      /** Offset in this direction's byte stream. */
      readonly offset: number;
      readonly length: number;
      readonly reason: string | null;
    })
  /** This direction is no longer dissected: what follows would be decoded from the wrong place. */
  | (OnConnection & { readonly type: 'sync-lost'; readonly offset: number; readonly reason: string })
  | (OnConnection & {
      readonly type: 'engine-io';
      readonly transport: 'polling' | 'websocket';
      readonly sid: string | null;
      readonly engine: EnginePacket;
    })
  | (OnConnection & {
      readonly type: 'socket-io';
      readonly transport: 'polling' | 'websocket';
      readonly sid: string | null;
      readonly socket: SocketIoPacket;
      /** Connection state recovery: the offset the server attached to this event. */
      readonly recoveryOffset: string | null;
    })
  /** An Engine.IO session began, or moved from long-polling to WebSocket. */
  | (At & {
      readonly type: 'engine-session';
      readonly event: 'opened' | 'upgraded';
      readonly sid: string | null;
      readonly conn: number;
      readonly transport: 'polling' | 'websocket';
      /** For an upgrade: where the session ran before. */
      readonly previous: { readonly conn: number; readonly packet: number; readonly time: number } | null;
    })
  /** A packet that could not be followed (not TCP/IP, malformed): said, not hidden. */
  | (At & { readonly type: 'notice'; readonly reason: string })
  /** The file could not be read further. */
  | { readonly type: 'error'; readonly fileOffset: number; readonly reason: string }
  | {
      readonly type: 'summary';
      readonly packets: number;
      readonly connections: number;
      readonly websocketConnections: number;
      readonly frames: number;
      readonly messages: number;
      /** Protocol violations (each with the close code or status a strict endpoint answers). */
      readonly violations: number;
      readonly syncLost: number;
    };
