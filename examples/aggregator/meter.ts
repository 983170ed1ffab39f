import { entity } from "perdure";

/** What a meter has aggregated so far. */
export interface MeterState {
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
}

export interface MeterSummary extends MeterState {
  mean: number | null;
}

/**
 * Durable Functions' aggregator pattern: one entity per meter key accumulates readings that
 * arrive from many sources, at any pace, as one-way signals. Signals to one meter are
 * applied one at a time, many per commit, so no reading is lost or counted twice however
 * many senders there are.
 */
export const meter = entity("meter", {
  initialState: (): MeterState => ({ count: 0, sum: 0, min: null, max: null }),
  operations: {
    record(state, value: number) {
      state.count += 1;
      state.sum += value;
      state.min = state.min === null ? value : Math.min(state.min, value);
      state.max = state.max === null ? value : Math.max(state.max, value);
    },
    summary: (state): MeterSummary => ({ ...state, mean: state.count === 0 ? null : state.sum / state.count }),
    reset: (_state, _input: undefined, ctx) => ctx.deleteState(),
  },
});
