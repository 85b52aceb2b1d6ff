/**
 * The demo's memory of recent wire-tap records, for inspectors that connect
 * after the traffic started (a page reload). It is bounded by bytes, not by
 * record count: a count cap let a bulk transfer keep hundreds of MiB of
 * base64 alive. Records are kept serialized (the JSON the feed sends), so
 * the bytes counted are the bytes held.
 */
import { UsageError } from '@rfc6455/codec';
import type { TapMessage } from './tap-message.js';

export interface TapBacklogOptions {
  /** Most bytes of serialized records kept; the oldest are dropped first. */
  readonly maxBytes: number;
  /** Most payload bytes a kept `bytes` record carries; the rest is cut, its full length noted. */
  readonly maxRecordBytes: number;
}

export interface BacklogEntry {
  /** Position in the sequence of every record ever added (0, 1, 2…): a reader's cursor. */
  readonly seq: number;
  /** The record as JSON text. */
  readonly json: string;
  /** Its size in UTF-8 bytes. */
  readonly size: number;
}

// JSON of a `bytes` record around its base64, with the widest numbers a record can hold
// (an 'open' record's address fits in the 64 bytes added to it below).
const RECORD_OVERHEAD = JSON.stringify({
  type: 'bytes',
  conn: Number.MAX_SAFE_INTEGER,
  t: Number.MAX_SAFE_INTEGER,
  from: 'client',
  base64: '',
  length: Number.MAX_SAFE_INTEGER,
}).length;

export class TapBacklog {
  private readonly entries: BacklogEntry[] = [];
  /** Index in `entries` of the oldest kept entry: dropping is O(1), compaction is amortized. */
  private head = 0;
  private total = 0;
  private nextSeq = 0;
  private readonly maxBytes: number;
  private readonly maxRecordBytes: number;

  constructor(options: TapBacklogOptions) {
    const { maxBytes, maxRecordBytes } = options;
    if (!Number.isSafeInteger(maxRecordBytes) || maxRecordBytes < 0) {
      throw new UsageError(
        'ERR_INVALID_ARGUMENT',
        `maxRecordBytes must be a whole number of bytes ≥ 0, got ${maxRecordBytes}`,
      );
    }
    // One record cut to maxRecordBytes must fit, or the newest record could never be kept.
    const smallest = RECORD_OVERHEAD + 64 + 4 * Math.ceil(maxRecordBytes / 3);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < smallest) {
      throw new UsageError(
        'ERR_INVALID_ARGUMENT',
        `maxBytes must be a whole number ≥ ${smallest} (one record of maxRecordBytes), got ${maxBytes}`,
      );
    }
    this.maxBytes = maxBytes;
    this.maxRecordBytes = maxRecordBytes;
  }

  /** Bytes of serialized records held now. */
  get bytes(): number {
    return this.total;
  }

  get length(): number {
    return this.entries.length - this.head;
  }

  /** The sequence number the next record will get. */
  get end(): number {
    return this.nextSeq;
  }

  /**
   * Keeps a record (its payload cut to `maxRecordBytes`), dropping the
   * oldest until the total fits, and returns the JSON kept.
   */
  add(message: TapMessage): string {
    const json = JSON.stringify(this.cut(message));
    const size = Buffer.byteLength(json);
    this.entries.push({ seq: this.nextSeq++, json, size });
    this.total += size;
    while (this.total > this.maxBytes) {
      const dropped = this.entries[this.head++] as BacklogEntry;
      this.total -= dropped.size;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    return json;
  }

  /** The kept entries with `seq >= from`, oldest first (those before the oldest kept are gone). */
  *from(from: number): IterableIterator<BacklogEntry> {
    const oldest = this.entries[this.head]?.seq ?? this.nextSeq;
    for (let i = this.head + Math.max(0, from - oldest); i < this.entries.length; i++)
      yield this.entries[i] as BacklogEntry;
  }

  /** Sequence number of the oldest kept entry (`end` when empty). */
  get start(): number {
    return this.entries[this.head]?.seq ?? this.nextSeq;
  }

  private cut(message: TapMessage): TapMessage {
    if (message.type !== 'bytes') return message;
    const length = message.length ?? base64Length(message.base64);
    if (length <= this.maxRecordBytes) return message;
    const kept = Buffer.from(message.base64, 'base64').subarray(0, this.maxRecordBytes);
    return { ...message, base64: kept.toString('base64'), length };
  }
}

/** Decoded length of padded base64 without decoding it. */
function base64Length(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}
