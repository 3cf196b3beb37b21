// `npm run bench`: every benchmark in one run.
import { runIamDecisionBench } from "./iam-decisions.js";
import { formatFrontEndReport, runFrontEndBench } from "./front-end.js";
import { runAnalyzerBench } from "./analyzer.js";
import { formatGrpcReport, runGrpcBench } from "./grpc.js";
import { formatStartupReport, runStartupBench } from "./startup.js";
import { containerBenchSkipReason, formatContainerReport, runContainerBench } from "./containers.js";

console.log('runguard up readiness (warm data directory, to the "front end:" line):');
console.log(formatStartupReport(await runStartupBench(Number(process.env["BENCH_UP_STARTS"] ?? 5))));
const iam = runIamDecisionBench();
console.log("IAM decisions (10k bindings, 1k principals, 100 groups):");
console.log(
  `  ${iam.decisionsPerSecond.toLocaleString("en-US")} decisions/s warm; p50 ${iam.p50Us.toFixed(2)} µs, p99 ${iam.p99Us.toFixed(2)} µs (target > 1,000,000/s, p99 < 5 µs)`,
);
const audit = runAnalyzerBench();
console.log(
  `Analyzer: ${audit.services} services, ${audit.bindings} bindings, ${audit.secrets} secrets → ${audit.findings} findings in ${audit.ms.toFixed(0)} ms (target < 2000 ms)`,
);
console.log("Front end (wrk, hello backend):");
console.log(formatFrontEndReport(await runFrontEndBench(Number(process.env["BENCH_ROUNDS"] ?? 5))));
console.log("Secret Manager access from @google-cloud/secret-manager (gRPC vs REST fallback):");
console.log(formatGrpcReport(await runGrpcBench(Number(process.env["BENCH_GRPC_CALLS"] ?? 500))));
const skipContainers = containerBenchSkipReason();
console.log("Containers (hello.mjs in an image, run under runc):");
if (skipContainers) console.log(`  skipped: ${skipContainers}`);
else
  console.log(
    formatContainerReport(
      await runContainerBench({
        starts: Number(process.env["BENCH_STARTS"] ?? 5),
        rounds: Number(process.env["BENCH_ROUNDS"] ?? 5),
      }),
    ),
  );
