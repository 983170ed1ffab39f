import { tempStore } from "../helpers/tempStore.js";
import { storeContract } from "./contract.js";

storeContract("SQLite", async () => {
  const temp = tempStore();
  return { store: temp.store, dispose: temp.dispose };
});
