// Debian's PostgreSQL for tests, started on a free loopback port (as nobody: it refuses to run as root), standing
// for a database in a VPC network (a Cloud SQL private IP) once mapped with `runguard vpc add-address`.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const NOBODY = 65534;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

/** Debian's PostgreSQL, as nobody (it refuses to run as root), on a free loopback port with trust auth. */
export async function startPostgres(): Promise<{ port: number; stop(): Promise<void> }> {
  const versions = existsSync("/usr/lib/postgresql") ? readdirSync("/usr/lib/postgresql").sort() : [];
  const binDir = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((dir) => existsSync(join(dir, "initdb")));
  if (!binDir) throw new Error("PostgreSQL is not installed: scripts/setup.sh installs it");
  const dir = mkdtempSync(join(tmpdir(), "rg-pg-"));
  chownSync(dir, NOBODY, NOBODY);
  const asNobody = ["--reuid", String(NOBODY), "--regid", String(NOBODY), "--clear-groups"];
  const data = join(dir, "data");
  execFileSync("setpriv", [...asNobody, join(binDir, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-N"], {
    stdio: "ignore",
  });
  const port = await freePort();
  const server: ChildProcess = spawn(
    "setpriv",
    [
      ...asNobody,
      join(binDir, "postgres"),
      "-D",
      data,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `unix_socket_directories=${dir}`,
      "-c",
      "fsync=off",
    ],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  for (let i = 0; i < 200 && !(await accepts(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return {
    port,
    async stop() {
      server.kill("SIGINT");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
