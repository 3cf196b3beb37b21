// runguard's key material at rest: the signing keys, the local CA's key and the IAP session key exist in the
// data directory only sealed under the key-encryption key. With the KEK kept outside, a copy of the directory
// (every file, the database and its WAL included) holds none of them; a restart with the same KEK keeps tokens
// valid; a wrong or missing KEK is refused with a clear message; clear keys left by an older runguard are sealed.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey, randomBytes } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/core/config.js";
import { createLogger } from "../../src/app/logger.js";
import { StartupError } from "../../src/core/errors.js";
import { startRunguard, type Runguard } from "../../src/app/runguard.js";
import { ensureUser } from "../../src/accounts/users.js";
import { openSealedFile } from "../../src/secrets/sealed-file.js";
import { openIapSessionKey } from "../../src/iap/iap-session.js";
import type { StoredSigningKey } from "../../src/tokens/key-ring.js";
import { spawnUp, whenUp } from "../helpers/up-process.js";

const AUDIENCE = "https://hello-123456789012.us-central1.run.app";
const temporaryDirs: string[] = [];
const temporaryDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
};
after(() => temporaryDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function newKekFile(): string {
  const file = join(temporaryDir("rg-kek-"), "runguard.kek");
  writeFileSync(file, randomBytes(32).toString("base64"), { mode: 0o600 });
  return file;
}

const start = (dataDir: string, extra: Record<string, unknown> = {}) =>
  startRunguard(parseConfig({ dataDir, apiPort: 0, frontEndPort: 0, lbPort: 0, lbHttpsPort: 0, ...extra }), {
    logger: createLogger({ level: "silent" }),
  });

async function idToken(runguard: Runguard, email: string): Promise<string> {
  const { uniqueId } = await ensureUser(runguard.platform, email);
  return runguard.platform.tokens.signIdToken({
    principal: { kind: "user", email },
    uniqueId,
    audience: AUDIENCE,
    includeEmail: true,
  });
}

const verifies = async (runguard: Runguard, token: string) =>
  (await runguard.platform.tokens.verifyIdToken(token, (aud) => aud === AUDIENCE)).ok;

/** What a copy of the data directory must not contain, in every encoding runguard could have written it in. */
interface KeyMaterial {
  /** name → byte strings that would reveal it */
  needles: Map<string, Buffer[]>;
  signingJwks: Record<string, string>[];
  caKeyPem: string;
  sessionKey: Buffer;
}

const encodings = (raw: Buffer) => [raw, Buffer.from(raw.toString("base64")), Buffer.from(raw.toString("base64url"))];

async function keyMaterialOf(runguard: Runguard, dataDir: string, kek?: Buffer): Promise<KeyMaterial> {
  const { envelope, store } = runguard.platform;
  const needles = new Map<string, Buffer[]>();
  const signingJwks: Record<string, string>[] = [];
  for (const key of await store.list<StoredSigningKey>("signingKey")) {
    assert.ok(key.sealedPrivateJwk, `signing key ${key.kid} is sealed`);
    assert.equal(key.privateJwk, undefined, `signing key ${key.kid} has no clear private key`);
    const jwk = JSON.parse(envelope.open(key.sealedPrivateJwk, `signingKeys/${key.kid}`).toString()) as Record<
      string,
      string
    >;
    signingJwks.push(jwk);
    for (const field of ["d", "p", "q", "dp", "dq", "qi"] as const) {
      const value = jwk[field] ?? "";
      assert.ok(value.length > 40, `JWK ${field}`);
      needles.set(`signing key ${key.kid} ${field}`, [
        Buffer.from(value),
        ...encodings(Buffer.from(value, "base64url")).slice(0, 2),
      ]);
    }
  }
  assert.ok(signingJwks.length > 0, "a signing key exists");
  const caKeyPem = (
    await openSealedFile(envelope, join(dataDir, "ca", "ca-key.sealed"), {
      create: () => assert.fail("the CA key exists"),
    })
  ).toString();
  const pemLines = caKeyPem.split("\n").filter((line) => line && !line.startsWith("-----"));
  const der = Buffer.from(pemLines.join(""), "base64");
  const caScalar = createPrivateKey(caKeyPem).export({ format: "jwk" }).d ?? "";
  needles.set("CA key PEM body", [Buffer.from(pemLines[0] ?? "x"), Buffer.from(pemLines[1] ?? "x"), der]);
  needles.set("CA key scalar", [Buffer.from(caScalar), ...encodings(Buffer.from(caScalar, "base64url"))]);
  const sessionKey = Buffer.from(await openIapSessionKey(dataDir, envelope));
  needles.set("IAP session key", [...encodings(sessionKey), Buffer.from(sessionKey.toString("hex"))]);
  if (kek) needles.set("key-encryption key", encodings(kek));
  return { needles, signingJwks, caKeyPem, sessionKey };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

/** Every (file, key) pair where a copy of `dir` reveals key material. */
function revealed(dir: string, material: KeyMaterial): string[] {
  const found: string[] = [];
  const files = filesUnder(dir);
  assert.ok(
    files.some((file) => file.endsWith("runguard.db")),
    "the database is among the files searched",
  );
  for (const file of files) {
    const content = readFileSync(file);
    for (const [name, needles] of material.needles)
      if (needles.some((needle) => content.includes(needle))) found.push(`${file}: ${name}`);
  }
  return found;
}

describe("key material at rest", () => {
  it("with the KEK outside, a copy of the data directory reveals no key; a restart with that KEK keeps tokens valid", async () => {
    const dataDir = temporaryDir("rg-keys-");
    const kekFile = newKekFile();
    const kek = Buffer.from(readFileSync(kekFile, "utf8"), "base64");
    const first = await start(dataDir, { kekFile });
    const token = await idToken(first, "alice@example.com");
    const material = await keyMaterialOf(first, dataDir, kek);
    assert.equal(await verifies(first, token), true);
    await first.close();

    assert.equal(existsSync(join(dataDir, "keys", "secrets.kek")), false, "no KEK written into the data directory");
    assert.equal(existsSync(join(dataDir, "ca", "ca-key.pem")), false);
    assert.equal(existsSync(join(dataDir, "iap-session.key")), false);
    const copy = temporaryDir("rg-keys-copy-");
    cpSync(dataDir, copy, { recursive: true });
    assert.deepEqual(revealed(copy, material), []);

    const again = await start(dataDir, { kekFile });
    try {
      assert.equal(await verifies(again, token), true, "an ID token issued before the restart still verifies");
      const reopened = await keyMaterialOf(again, dataDir);
      assert.deepEqual(reopened.signingJwks, material.signingJwks);
      assert.equal(reopened.caKeyPem, material.caKeyPem);
      assert.ok(reopened.sessionKey.equals(material.sessionKey));
    } finally {
      await again.close();
    }
  });

  it("a wrong or missing KEK is refused before anything is read with it", async () => {
    const dataDir = temporaryDir("rg-keys-");
    const kekFile = newKekFile();
    await (await start(dataDir, { kekFile })).close();
    await assert.rejects(
      start(dataDir, { kekFile: newKekFile() }),
      (error) =>
        error instanceof StartupError &&
        /is not the one the keys in .* are encrypted with/.test(error.message) &&
        !error.message.includes(readFileSync(kekFile, "utf8")),
    );
    await assert.rejects(
      start(dataDir),
      (error) => error instanceof StartupError && /kept outside it: supply it with --kek-file/.test(error.message),
    );
    assert.equal(existsSync(join(dataDir, "keys", "secrets.kek")), false, "a start without the KEK made none");
  });

  it("`runguard up` with a wrong KEK exits non-zero with the reason and no stack trace; the right one starts", async () => {
    const dataDir = temporaryDir("rg-keys-up-");
    const kek = randomBytes(32).toString("base64");
    const first = spawnUp(dataDir, [], { env: { RUNGUARD_KEK: kek } });
    await whenUp(first);
    assert.equal(await first.stop(), 0);
    assert.equal(existsSync(join(dataDir, "keys", "secrets.kek")), false);

    const wrong = spawnUp(dataDir, [], { env: { RUNGUARD_KEK: randomBytes(32).toString("base64") } });
    assert.equal(await wrong.exited, 1);
    assert.match(
      wrong.stderr(),
      /^ERROR: The key-encryption key supplied is not the one the keys in .* are encrypted with/,
    );
    assert.doesNotMatch(wrong.stderr(), /\n\s+at /, "no stack trace");
    assert.doesNotMatch(wrong.stderr() + wrong.stdout(), new RegExp(kek.replace(/[+/]/g, "\\$&")));

    const missing = spawnUp(dataDir, [], { env: { RUNGUARD_KEK: "", RUNGUARD_KEK_FILE: "" } });
    assert.equal(await missing.exited, 1);
    assert.match(
      missing.stderr(),
      /kept outside it: supply it with --kek-file PATH, RUNGUARD_KEK_FILE or RUNGUARD_KEK/,
    );

    const kekFile = join(temporaryDir("rg-kek-"), "kek");
    writeFileSync(kekFile, kek, { mode: 0o600 });
    const right = spawnUp(dataDir, [], { globalArgs: ["--kek-file", kekFile], env: { RUNGUARD_KEK: "" } });
    await whenUp(right);
    assert.equal(await right.stop(), 0);
  });

  it("clear keys left by an older runguard are sealed on first start, and no copy of them is left", async () => {
    const dataDir = temporaryDir("rg-keys-old-");
    const first = await start(dataDir);
    const token = await idToken(first, "bob@example.com");
    const material = await keyMaterialOf(first, dataDir);
    // Put the data directory back in the shape an older runguard left: every key in clear, no kek-check.
    await first.platform.store.transact(async (tx) => {
      for (const { sealedPrivateJwk: _sealed, ...key } of await tx.list<StoredSigningKey>("signingKey"))
        tx.put("signingKey", `signingKeys/${key.kid}`, {
          ...key,
          privateJwk: material.signingJwks.find((jwk) => jwk["n"] === key.publicJwk["n"]),
        });
    });
    await first.close();
    writeFileSync(join(dataDir, "ca", "ca-key.pem"), material.caKeyPem, { mode: 0o600 });
    rmSync(join(dataDir, "ca", "ca-key.sealed"));
    writeFileSync(join(dataDir, "iap-session.key"), material.sessionKey, { mode: 0o600 });
    rmSync(join(dataDir, "iap-session.key.sealed"));
    rmSync(join(dataDir, "keys", "kek-check"));
    const clearDatabase = Buffer.concat(
      ["runguard.db", "runguard.db-wal"]
        .filter((name) => existsSync(join(dataDir, name)))
        .map((name) => readFileSync(join(dataDir, name))),
    );
    assert.ok(
      clearDatabase.includes(Buffer.from(material.signingJwks[0]?.["d"] ?? "x")),
      "the clear signing key is in the old store",
    );
    // The upgrade: the KEK moves out of the data directory and is supplied.
    const kekFile = join(temporaryDir("rg-kek-"), "kek");
    renameSync(join(dataDir, "keys", "secrets.kek"), kekFile);
    const kek = Buffer.from(readFileSync(kekFile, "utf8"), "base64");

    const upgraded = await start(dataDir, { kekFile });
    try {
      assert.equal(await verifies(upgraded, token), true, "a token signed before the upgrade still verifies");
      const sealed = await keyMaterialOf(upgraded, dataDir);
      assert.deepEqual(sealed.signingJwks, material.signingJwks);
      assert.equal(sealed.caKeyPem, material.caKeyPem);
      assert.ok(sealed.sessionKey.equals(material.sessionKey));
    } finally {
      await upgraded.close();
    }
    assert.equal(existsSync(join(dataDir, "ca", "ca-key.pem")), false);
    assert.equal(existsSync(join(dataDir, "iap-session.key")), false);
    assert.equal(statSync(join(dataDir, "ca", "ca-key.sealed")).mode & 0o777, 0o600);
    material.needles.set("key-encryption key", encodings(kek));
    assert.deepEqual(revealed(dataDir, material), []);
  });
});
