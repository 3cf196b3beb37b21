// Starts runguard like the front-end benchmark does and prints the wrk command lines for scenarios (c), (d);
// run it under `node --cpu-prof` to profile the front end. Stops on SIGINT/SIGTERM.
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
let session: import("node:inspector").Session | undefined;
if (process.env["ALLOC_PROFILE"]) {
  const inspector = await import("node:inspector");
  session = new inspector.Session();
  session.connect();
  session.post("HeapProfiler.enable");
  session.post("HeapProfiler.startSampling", {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
// CPU_PROFILE=file: the first SIGUSR2 starts V8's CPU profiler, the second writes the profile (steady state only).
if (process.env["CPU_PROFILE"]) {
  const inspector = await import("node:inspector");
  const cpu = new inspector.Session();
  cpu.connect();
  cpu.post("Profiler.enable");
  let profiling = false;
  process.on("SIGUSR2", () => {
    if (!profiling) {
      profiling = true;
      cpu.post("Profiler.start");
      return;
    }
    profiling = false;
    cpu.post("Profiler.stop", async (error, result) => {
      const { writeFileSync } = await import("node:fs");
      if (!error) writeFileSync(process.env["CPU_PROFILE"] ?? "", JSON.stringify(result.profile));
    });
  });
}
const stop = async () => {
  if (session) {
    const { writeFileSync } = await import("node:fs");
    await new Promise<void>((resolve) =>
      session?.post("HeapProfiler.stopSampling", (error, result) => {
        if (!error) writeFileSync(process.env["ALLOC_PROFILE"] ?? "", JSON.stringify(result.profile));
        resolve();
      }),
    );
  }
  await rg.stop();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
