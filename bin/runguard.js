#!/usr/bin/env -S node --v8-pool-size=1
// One V8 helper thread (see the README's benchmarks): on a small machine, parallel garbage collection on four
// helper threads took the other core while the front end was paused, lengthening its latency tail.
import { main } from "../dist/src/cli/main.js";

await main(process.argv);
