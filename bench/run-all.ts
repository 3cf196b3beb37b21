// `npm run bench`: every benchmark in one run.
import { runIamDecisionBench } from "./iam-decisions.js";

const iam = runIamDecisionBench();
console.log("IAM decisions (10k bindings, 1k principals, 100 groups):");
console.log(
  `  ${iam.decisionsPerSecond.toLocaleString("en-US")} decisions/s warm; p50 ${iam.p50Us.toFixed(2)} µs, p99 ${iam.p99Us.toFixed(2)} µs (target > 1,000,000/s, p99 < 5 µs)`,
);
