// perdure/testing: a test environment with virtual time, and new orchestration code checked
// against the histories of running instances.

export { type RecordedEnd, type ReplayOptions, type ReplayResult, replayHistory } from "./replayHistory.js";
export { createTestEnvironment, type TestEnvironment, type TestEnvironmentOptions } from "./testEnvironment.js";
