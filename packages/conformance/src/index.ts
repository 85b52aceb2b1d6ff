export { FAMILIES, Family, type BuildContext, type Case, type Expectation, type Reply, type Wire } from './case.js';
export { familyCases, type CaseOptions } from './cases.js';
export { judge, readFrames, type JudgeInput, type Received, type Verdict } from './judge.js';
export { formatServerReport, type FamilyResult, type Failure, type ServerReport } from './report.js';
export { runServerSuite, type ServerSuiteOptions } from './server-suite.js';
export { parseTarget, runAgainstServer, type Observation, type Target, type Timing } from './session.js';
export { CLIENT_FAMILIES, FuzzingServer, type AgentReport, type CaseVerdict, type ExtensionNegotiation, type FuzzingServerOptions } from './fuzzing-server.js';
export { defectSlug, HANDSHAKE_VARIANTS, handshakeCases, runHandshakeCase, type HandshakeCase, type HandshakeExpectation, type ResponseHead } from './handshake-cases.js';
