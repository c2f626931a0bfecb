import { MemoryStore } from "../../src/store/memory/index.js";
import { storeConformance } from "./conformance.js";

storeConformance("memory", { open: async () => new MemoryStore(), startsAtOne: true });
