export interface PublishedRecord {
  readonly key: string;
  readonly epoch: string;
  readonly offset: number;
  readonly sentAt: number;
}

export type ClientEvent =
  | {
      readonly type: 'subscribed';
      readonly topic: string;
      readonly recovered: boolean;
      readonly epoch: string;
      readonly offset: number;
      readonly t: number;
    }
  | {
      readonly type: 'publication';
      readonly topic: string;
      readonly epoch: string;
      readonly offset: number;
      readonly data: string;
      readonly replay: boolean;
      readonly t: number;
    }
  | { readonly type: 'disconnect'; readonly t: number }
  | { readonly type: 'error'; readonly code: string; readonly reason: string; readonly t: number };

export interface JudgeInput {
  readonly published: Map<string, PublishedRecord[]>;
  readonly sentAt: Map<string, number>;
  readonly clientLogs: ReadonlyArray<{ readonly topics: readonly string[]; readonly events: readonly ClientEvent[] }>;
}

export interface JudgeTotals {
  readonly deliveries: number;
  readonly replayed: number;
  readonly duplicates: number;
  readonly silentGaps: number;
  readonly wrongPayloads: number;
  readonly unconfirmed: number;
  readonly missing: number;
  readonly lostWithNotice: number;
  readonly initialResyncs: number;
  readonly laterResyncs: number;
  readonly epochChangesSeen: number;
  /** `recovered: false` answers that stayed in the client's epoch (only trimmed history should cause them). */
  readonly sameEpochResyncs: number;
  readonly recoveredAnswers: number;
  readonly disconnects: number;
}

export interface JudgeResult {
  readonly totals: JudgeTotals;
  readonly deliveredPercent: number;
  readonly latency: {
    readonly liveP50: number;
    readonly liveP99: number;
    readonly replayP50: number;
    readonly replayP99: number;
  };
  readonly publications: number;
  readonly sameEpochResyncs: ReadonlyArray<{ topic: string; epoch: string; from: number; to: number; t: number }>;
}

export function percentile(values: readonly number[], p: number): number;
export function judge(input: JudgeInput): JudgeResult;
export function reportRows(
  result: JudgeResult & { readonly settled: boolean; readonly counts: import('./chaos.mjs').ChaosCounts },
): Array<[string, string | number]>;
