#!/usr/bin/env -S node --v8-pool-size=1 --max-semi-space-size=4
// The #! line gives Node runguard's settings (src/app/node-flags.ts's NODE_FLAGS), so `runguard up` serves in this
// process; started as `node bin/runguard.js`, `up` runs itself again once with them.
import { main } from "../dist/src/cli/main.js";

await main(process.argv);
