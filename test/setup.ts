// Preloaded by bunfig.toml for every test file: tests that start servers and
// child processes get room on a loaded 2-core machine (bunfig has no timeout key).
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(30_000);
