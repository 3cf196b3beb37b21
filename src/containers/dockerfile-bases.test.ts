// Which images a Dockerfile reads from the store: the pre-check that names every missing base before podman runs.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { baseImagesOf } from "./dockerfile-bases.js";

const images = (text: string, args?: Record<string, string>) => baseImagesOf(text, args).map((use) => use.image);

describe("baseImagesOf", () => {
  it("names FROM images with their lines, skipping scratch and earlier stages", () => {
    const uses = baseImagesOf(
      ["# syntax comment", "FROM docker.io/library/node:20 AS build", "RUN true", "FROM scratch", "FROM build"].join(
        "\n",
      ),
    );
    assert.deepEqual(uses, [{ image: "docker.io/library/node:20", line: 2 }]);
  });

  it("treats stage names case-insensitively, and skips --platform", () => {
    assert.deepEqual(images("FROM --platform=linux/amd64 base:1 as Builder\nFROM builder\nFROM BUILDER\n"), ["base:1"]);
  });

  it("substitutes global ARGs, their defaults and build arguments; skips what stays unresolved", () => {
    const text = "ARG BASE=node:20\nARG TAG\nFROM ${BASE}\nFROM other:${TAG:-1}\nFROM $UNSET\n";
    assert.deepEqual(images(text), ["node:20", "other:1"]);
    assert.deepEqual(images(text, { BASE: "localhost/mine:2", TAG: "7" }), ["localhost/mine:2", "other:7"]);
  });

  it("names images of COPY --from, not stage indexes or names", () => {
    assert.deepEqual(
      images("FROM a:1 AS one\nCOPY --from=0 /x /x\nCOPY --from=one /y /y\nCOPY --from=tools:3 /z /z\n"),
      ["a:1", "tools:3"],
    );
  });

  it("joins continuation lines and honours the escape directive", () => {
    assert.deepEqual(images("FROM \\\n  joined:1\n"), ["joined:1"]);
    assert.deepEqual(images("# escape=`\nFROM `\n  tick:1\n"), ["tick:1"]);
  });

  it("lists an image once", () => {
    assert.deepEqual(images("FROM a:1\nFROM a:1\n"), ["a:1"]);
  });
});
