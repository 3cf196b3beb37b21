#!/usr/bin/env -S node --v8-pool-size=1 --max-semi-space-size=4
// One V8 helper thread and semi-spaces of at most 4 MB (see the README's benchmarks): on a small machine, parallel
// garbage collection on four helper threads took the other core while the front end was paused, and scavenges of
// a 16 MB young generation paused it for 0.6 to 1 ms instead of 0.1 to 0.3 ms; both lengthened its latency tail.
import { main } from "../dist/src/cli/main.js";

await main(process.argv);
