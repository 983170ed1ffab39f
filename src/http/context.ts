import type { Client } from "../client/client.js";
import type { AnyOrchestration } from "../worker/worker.js";

/** What the management routes share: the client they act through and what they may start. */
export interface ManagementContext {
  client: Client;
  /** The orchestrations `POST /orchestrators/{name}` may start, by name. */
  orchestrations: ReadonlyMap<string, AnyOrchestration>;
  /** The key links carry as `code=`, when one is required. */
  apiKey: string | undefined;
  /** Show the stack traces of recorded failures (they name files and functions of the app and of Perdure). */
  showFailureStacks: boolean;
}
