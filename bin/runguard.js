#!/usr/bin/env node
// `runguard up` applies its own Node settings (src/app/node-flags.ts).
import { main } from "../dist/src/cli/main.js";

await main(process.argv);
