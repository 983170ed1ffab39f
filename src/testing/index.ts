// perdure/testing: check new orchestration code against the histories of running instances.

export { type RecordedEnd, type ReplayOptions, type ReplayResult, replayHistory } from "./replayHistory.js";
