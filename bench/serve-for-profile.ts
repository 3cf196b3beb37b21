// Starts runguard like the front-end benchmark does and prints the wrk command lines for scenarios (c), (d);
// run it under `node --cpu-prof` to profile the front end. Stops on SIGINT/SIGTERM.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { startBenchServices } from "./bench-services.js";

const { rg, publicUrl, privateUrl, token } = await startBenchServices();
const front = rg.endpoints.frontEnd;
console.log(`wrk -t1 -c2 -d5s --latency -H 'Host: ${new URL(publicUrl).host}' ${front}/`);
console.log(
  `wrk -t1 -c2 -d5s --latency -H 'Host: ${new URL(privateUrl).host}' -H 'authorization: Bearer ${token}' ${front}/`,
);
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
setInterval(() => {
  if (process.env["SHOW_DELAY"])
    console.log(
      `event loop delay p50 ${(delay.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(2)} ms, max ${(delay.max / 1e6).toFixed(2)} ms`,
    );
  delay.reset();
}, 5000).unref();
const allocProfile = process.env["ALLOC_PROFILE"];
const cpuProfile = process.env["CPU_PROFILE"];
// One inspector session serves both profilers.
const session = allocProfile || cpuProfile ? new Session() : undefined;
session?.connect();
if (allocProfile) {
  session?.post("HeapProfiler.enable");
  session?.post("HeapProfiler.startSampling", {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
// CPU_PROFILE=file: the first SIGUSR2 starts V8's CPU profiler, the second writes the profile (steady state only).
if (cpuProfile) {
  session?.post("Profiler.enable");
  // V8 samples every 1000 µs by default; CPU_PROFILE_INTERVAL (µs) resolves shorter stalls.
  const interval = Number(process.env["CPU_PROFILE_INTERVAL"] ?? 0);
  if (interval > 0) session?.post("Profiler.setSamplingInterval", { interval });
  let profiling = false;
  process.on("SIGUSR2", () => {
    profiling = !profiling;
    if (profiling) session?.post("Profiler.start");
    else
      session?.post("Profiler.stop", (error, result) => {
        if (!error) writeFileSync(cpuProfile, JSON.stringify(result.profile));
      });
  });
}
const stop = async () => {
  if (allocProfile) {
    await new Promise<void>((resolve) =>
      session?.post("HeapProfiler.stopSampling", (error, result) => {
        if (!error) writeFileSync(allocProfile, JSON.stringify(result.profile));
        resolve();
      }),
    );
  }
  await rg.stop();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
