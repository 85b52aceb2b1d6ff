export { FAMILIES, Family, type BuildContext, type Case, type Expectation, type Reply, type Wire } from './case.js';
export { familyCases, type CaseOptions } from './cases.js';
export {
  judge,
  judgeFlood,
  readFrames,
  type FloodJudgeInput,
  type JudgeInput,
  type Received,
  type Verdict,
} from './judge.js';
export {
  CLOSE_CODE_TABLE,
  closeCodeRange,
  mayBeOnTheWire,
  type CloseCodeRange,
  type CloseCodeStatus,
} from './close-code-table.js';
export { messageInflater, type InflaterOptions, type MessageInflater } from './inflate.js';
export { limitCases, type LimitOptions } from './limit-cases.js';
export {
  defaultFlood,
  floodCases,
  PING_FLOOD_GIVE_UP,
  SLOW_READER_GIVE_UP,
  type FloodCase,
  type FloodOptions,
  type PingFlood,
  type SlowReader,
} from './flood-cases.js';
export { runFlood, type FloodRun } from './flood-run.js';
export {
  formatServerReport,
  type FamilyResult,
  type Failure,
  type ServerReport,
  type VariantFailure,
} from './report.js';
export { runServerSuite, type ServerSuiteOptions } from './server-suite.js';
export {
  parseTarget,
  runAgainstServer,
  type Observation,
  type Target,
  type TargetOptions,
  type Timing,
} from './session.js';
export {
  CLIENT_FAMILIES,
  DEFAULT_CLIENT_FAMILIES,
  FuzzingServer,
  type AgentReport,
  type CaseVerdict,
  type ExtensionNegotiation,
  type FamilyCounts,
  type FuzzingServerOptions,
} from './fuzzing-server.js';
export {
  CLIENT_DEFLATE_DEFECTS,
  CLIENT_HANDSHAKE_VARIANTS,
  clientHandshakeCases,
  judgeRefusal,
  type ClientHandshakeCase,
  type ClientHandshakeOptions,
  type HandshakeReply,
  type RefusalObservation,
  type UpgradeRequestInfo,
} from './client-handshake-cases.js';
export {
  defectSlug,
  HANDSHAKE_VARIANTS,
  handshakeCases,
  runHandshakeCase,
  type HandshakeCase,
  type HandshakeExpectation,
  type ResponseHead,
} from './handshake-cases.js';
