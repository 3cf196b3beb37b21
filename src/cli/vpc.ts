// `runguard vpc`: private addresses in a VPC network, and running a command as if from a VM in it.
import { spawn } from "node:child_process";
import type { Command } from "commander";
import { callApi, dataDirOf, defaultOwner, openLocal, signedIn } from "./local.js";

export function registerVpc(program: Command): void {
  const vpc = program.command("vpc").description("VPC networks: private resources and acting from inside a network");
  vpc
    .command("add-address")
    .description("make ADDRESS (e.g. 10.8.0.5:5432) in the network answer from a loopback endpoint")
    .requiredOption("--network <name>", "the VPC network")
    .requiredOption("--address <ip:port>", "the private address inside the network")
    .requiredOption("--to <host:port>", "the loopback endpoint that stands for it")
    .option("--description <text>")
    .action(
      async (options: { network: string; address: string; to: string; description?: string }, command: Command) => {
        const session = await openLocal(dataDirOf(command));
        try {
          const path = `/runguard/v1/projects/${session.endpoints.projectId}/global/networks/${options.network}/privateResources`;
          const body = {
            address: options.address,
            target: options.to,
            ...(options.description ? { description: options.description } : {}),
          };
          console.log(
            JSON.stringify(await callApi(session, signedIn(defaultOwner(session)), "POST", path, body), null, 2),
          );
        } finally {
          await session.close();
        }
      },
    );
  vpc
    .command("exec")
    .description("run COMMAND with its HTTP(S) traffic inside the network: calls to run.app URLs count as internal")
    .requiredOption("--network <name>", "the VPC network")
    .argument("<command...>", "the command (after --)")
    .action(async (argv: string[], options: { network: string }, command: Command) => {
      const session = await openLocal(dataDirOf(command));
      const owner = signedIn(defaultOwner(session));
      const base = `/runguard/v1/projects/${session.endpoints.projectId}/global/networks/${options.network}`;
      try {
        const egress = (await callApi(session, owner, "POST", `${base}:openEgress`, {})) as {
          proxyUrl: string;
          caBundlePath: string;
          caCertPath: string;
        };
        const env = {
          ...process.env,
          HTTP_PROXY: egress.proxyUrl,
          HTTPS_PROXY: egress.proxyUrl,
          http_proxy: egress.proxyUrl,
          https_proxy: egress.proxyUrl,
          NO_PROXY: "127.0.0.1,localhost,::1",
          no_proxy: "127.0.0.1,localhost,::1",
          NODE_EXTRA_CA_CERTS: egress.caCertPath,
          REQUESTS_CA_BUNDLE: egress.caBundlePath,
          SSL_CERT_FILE: egress.caBundlePath,
          CURL_CA_BUNDLE: egress.caBundlePath,
        };
        const [file, ...args] = argv;
        const code = await new Promise<number>((resolve) => {
          const child = spawn(file ?? "true", args, { env, stdio: "inherit" });
          child.on("error", () => resolve(127));
          child.on("exit", (exitCode) => resolve(exitCode ?? 1));
        });
        await callApi(session, owner, "POST", `${base}:closeEgress`, { proxyUrl: egress.proxyUrl });
        process.exitCode = code;
      } finally {
        await session.close();
      }
    });
}
