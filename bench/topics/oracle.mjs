/**
 * The chaos harness's oracle. It compares what the publishers were told
 * (`{ key, epoch, offset, sentAt }` per topic) with what each client's
 * application saw (`subscribed` and `publication` events, in order):
 *
 * - duplicate: the same (epoch, offset) handed to the application twice;
 * - silent gap: a publication that does not follow the client's position by
 *   exactly one in the same epoch, with no `recovered: false` in between;
 * - wrong payload: the data at (epoch, offset) is not what was published there;
 * - missing: a publication the client should have received (after its start,
 *   in an epoch it was in, not announced as lost by a `recovered: false`)
 *   and never did;
 * - lost with notice: publications a `recovered: false` announced as lost
 *   (a Redis restart without persistence drops the stream's tail).
 *
 * Latency is measured from the publisher's first attempt to the client's
 * event (one process, one clock), separately for live deliveries and for
 * replays (publications that came in a `subscribed` answer after a reconnect).
 */

export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * @param {{ published: Map<string, Array<{ key: string, epoch: string, offset: number, sentAt: number }>>,
 *           sentAt: Map<string, number>,
 *           clientLogs: Array<{ topics: string[], events: Array<Record<string, unknown>> }> }} input
 */
export function judge({ published, sentAt, clientLogs }) {
  const totals = {
    deliveries: 0,
    replayed: 0,
    duplicates: 0,
    silentGaps: 0,
    wrongPayloads: 0,
    unconfirmed: 0,
    missing: 0,
    lostWithNotice: 0,
    initialResyncs: 0,
    laterResyncs: 0,
    epochChangesSeen: 0,
    sameEpochResyncs: 0,
    recoveredAnswers: 0,
    disconnects: 0,
  };
  const sameEpochResyncs = [];
  const liveLatency = [];
  const replayLatency = [];
  const byPosition = new Map();
  const epochOrder = new Map();
  for (const [topic, records] of published) {
    const order = [];
    for (const record of records) {
      byPosition.set(`${topic}\u0000${record.epoch}\u0000${record.offset}`, record);
      if (!order.includes(record.epoch)) order.push(record.epoch);
    }
    epochOrder.set(topic, order);
  }

  for (const { topics, events } of clientLogs) {
    totals.disconnects += events.filter((event) => event.type === 'disconnect').length;
    for (const topic of topics) {
      let position;
      const seen = new Set();
      /** Ranges announced as lost: { epoch, after, upTo, initial }. */
      const notices = [];
      const joined = [];
      for (const event of events) {
        if (event.topic !== topic) continue;
        if (event.type === 'subscribed') {
          if (event.recovered) {
            totals.recoveredAnswers++;
            // A recovery must continue the client's stream: same epoch, not behind.
            if (position === undefined || event.epoch !== position.epoch || event.offset < position.offset) {
              totals.silentGaps++;
            }
            continue;
          }
          if (position === undefined) totals.initialResyncs++;
          else totals.laterResyncs++;
          if (position !== undefined && position.epoch !== event.epoch) {
            totals.epochChangesSeen++;
            notices.push({ epoch: position.epoch, after: position.offset, upTo: Infinity, initial: false });
          }
          const sameEpoch = position !== undefined && position.epoch === event.epoch;
          if (sameEpoch) {
            // Continuity refused within one epoch: only trimmed history should cause it.
            totals.sameEpochResyncs++;
            sameEpochResyncs.push({ topic, epoch: event.epoch, from: position.offset, to: event.offset, t: event.t });
          }
          notices.push({
            epoch: event.epoch,
            after: sameEpoch ? position.offset : 0,
            upTo: event.offset,
            initial: position === undefined,
          });
          if (!joined.includes(event.epoch)) joined.push(event.epoch);
          position = { epoch: event.epoch, offset: event.offset };
          continue;
        }
        if (event.type !== 'publication') continue;
        totals.deliveries++;
        const id = `${event.epoch}\u0000${event.offset}`;
        if (seen.has(id)) {
          totals.duplicates++;
          continue;
        }
        seen.add(id);
        if (position === undefined || event.epoch !== position.epoch || event.offset !== position.offset + 1) {
          totals.silentGaps++;
        }
        position = { epoch: event.epoch, offset: event.offset };
        const record = byPosition.get(`${topic}\u0000${id}`);
        if (record !== undefined && record.key !== event.data) totals.wrongPayloads++;
        // Published, but the publisher never heard the answer (a killed server, a timeout before a restart).
        if (record === undefined) {
          if (sentAt.has(event.data)) totals.unconfirmed++;
          else totals.wrongPayloads++;
        }
        const first = sentAt.get(event.data);
        if (first !== undefined) {
          if (event.replay) {
            totals.replayed++;
            replayLatency.push(event.t - first);
          } else liveLatency.push(event.t - first);
        }
      }

      // Every publication the publisher was told about is delivered, announced as lost, or from before the start.
      const order = epochOrder.get(topic) ?? [];
      const firstJoined = joined.length === 0 ? order.length : order.indexOf(joined[0]);
      for (const record of published.get(topic) ?? []) {
        if (seen.has(`${record.epoch}\u0000${record.offset}`)) continue;
        const notice = notices.find(
          (n) => n.epoch === record.epoch && record.offset > n.after && record.offset <= n.upTo,
        );
        if (notice !== undefined) {
          if (!notice.initial) totals.lostWithNotice++;
          continue;
        }
        const index = order.indexOf(record.epoch);
        if (!joined.includes(record.epoch) && firstJoined >= 0 && index < firstJoined) continue;
        // An epoch that came and went while the client was resyncing past it: announced by the resync.
        if (!joined.includes(record.epoch) && joined.some((epoch) => order.indexOf(epoch) > index)) {
          totals.lostWithNotice++;
          continue;
        }
        totals.missing++;
      }
    }
  }

  const expected = totals.deliveries - totals.duplicates - totals.unconfirmed + totals.missing;
  return {
    totals,
    deliveredPercent: expected === 0 ? 100 : (100 * (expected - totals.missing)) / expected,
    latency: {
      liveP50: percentile(liveLatency, 50),
      liveP99: percentile(liveLatency, 99),
      replayP50: percentile(replayLatency, 50),
      replayP99: percentile(replayLatency, 99),
    },
    publications: [...published.values()].reduce((sum, records) => sum + records.length, 0),
    sameEpochResyncs,
  };
}

/** The report as rows for a table: [what, value]. */
export function reportRows(result) {
  const { totals, latency, counts } = result;
  const ms = (value) => (Number.isNaN(value) ? '–' : `${value.toFixed(1)} ms`);
  return [
    ['publications confirmed', result.publications],
    ['publish attempts / failed (retried, same key)', `${counts.publishAttempts} / ${counts.publishFailures}`],
    ['idempotent repeats / violations', `${counts.idempotentRepeats} / ${counts.idempotencyViolations}`],
    ['client connections / cut by the proxy', `${counts.clientConnections} / ${counts.clientConnectionsCut}`],
    [
      'server kill -9 / Redis restarts / pubsub kills / Redis cuts',
      `${counts.serverKills} / ${counts.redisRestarts} / ${counts.pubsubKills} / ${counts.redisCuts}`,
    ],
    ['deliveries (replayed)', `${totals.deliveries} (${totals.replayed})`],
    ['delivered within the history window', `${result.deliveredPercent.toFixed(2)} %`],
    ['missing', totals.missing],
    ['duplicates', totals.duplicates],
    ['silent gaps', totals.silentGaps],
    ['wrong payloads', totals.wrongPayloads],
    [
      'resyncs: initial / later (epoch changes / same epoch)',
      `${totals.initialResyncs} / ${totals.laterResyncs} (${totals.epochChangesSeen} / ${totals.sameEpochResyncs})`,
    ],
    ['lost with notice (recovered: false)', totals.lostWithNotice],
    ['delivered but unconfirmed to the publisher', totals.unconfirmed],
    ['recovered answers after reconnects', totals.recoveredAnswers],
    ['live latency p50 / p99', `${ms(latency.liveP50)} / ${ms(latency.liveP99)}`],
    ['replay latency p50 / p99', `${ms(latency.replayP50)} / ${ms(latency.replayP99)}`],
    ['settled (every client at every last offset)', result.settled ? 'yes' : 'NO'],
  ];
}
