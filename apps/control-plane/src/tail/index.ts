export { STATUS_TOKEN, type TailFilterQuery, tailFilterQuery, toTailFilter } from "./filter-query.js";
export { TailSession } from "./session.js";
export {
  type LogsQueryInput,
  type LogsResult,
  TailHub,
  type TailHubOptions,
  type TailService,
} from "./tail-hub.js";
export { type TraceView, traceView } from "./trace-view.js";
