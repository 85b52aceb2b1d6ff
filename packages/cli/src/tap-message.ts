/**
 * What the demo's wire tap publishes on `/inspect`, one JSON text message
 * each. It lives apart from the server so the page can import the type.
 */
export type TapMessage =
  | {
      readonly type: 'open';
      readonly conn: number;
      readonly t: number;
      readonly remote: string;
      /**
       * A WebSocket on an HTTP/2 stream (RFC 8441): its id and the heads that
       * opened it, which are HEADERS frames, not bytes in the tapped stream.
       */
      readonly http2?: {
        readonly streamId: number;
        readonly request: ReadonlyArray<readonly [string, string]>;
        readonly status: number;
        readonly response: ReadonlyArray<readonly [string, string]>;
      };
    }
  | {
      readonly type: 'bytes';
      readonly conn: number;
      readonly t: number;
      readonly from: 'client' | 'server';
      readonly base64: string;
      /** Present when `base64` holds only the first bytes of the chunk (a kept record cut to size): its full length. */
      readonly length?: number;
    }
  | { readonly type: 'end'; readonly conn: number; readonly t: number; readonly from: 'client' | 'server' }
  /** Records this inspector missed: the backlog dropped them before the feed got to them. */
  | { readonly type: 'gap'; readonly t: number; readonly records: number };
