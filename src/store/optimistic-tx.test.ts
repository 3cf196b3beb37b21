// The helpers both backends rely on to agree with SQLite: name order, prefix bounds, JSON-only values.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compareNames, prefixUpperBound, toJson } from "./optimistic-tx.js";

describe("store helpers", () => {
  it("orders names by code point, as SQLite orders UTF-8", () => {
    const names = ["b", "a\u{1F600}", "a\uFF01", "a", "a%", "a_", "ab", ""];
    assert.deepEqual(names.sort(compareNames), ["", "a", "a%", "a_", "ab", "a\uFF01", "a\u{1F600}", "b"]);
    assert.equal(compareNames("x\u{1F600}", "x\u{1F600}"), 0);
    assert.ok(compareNames("x\u{1F600}", "x\u{1F601}") < 0);
  });

  it("bounds a prefix range exactly, carrying past the last code point", () => {
    assert.equal(prefixUpperBound("projects/p/"), "projects/p0");
    assert.equal(prefixUpperBound("a%"), "a&");
    assert.equal(prefixUpperBound("a\uD7FF"), "a\uE000");
    assert.equal(prefixUpperBound("a\u{10FFFF}"), "b");
    assert.equal(prefixUpperBound("\u{10FFFF}\u{10FFFF}"), undefined);
    assert.equal(prefixUpperBound(""), undefined);
    for (const name of ["projects/p/", "projects/p/x", "projects/p/\u{10FFFF}z"]) {
      assert.ok(compareNames(name, prefixUpperBound("projects/p/") ?? "") < 0, name);
    }
  });

  it("serializes JSON values and refuses everything else", () => {
    assert.equal(toJson({ a: [1, "x", null, true] }), '{"a":[1,"x",null,true]}');
    assert.equal(toJson(null), "null");
    assert.throws(() => toJson(undefined), /undefined/);
    assert.throws(() => toJson(() => 1), /must be JSON/);
    assert.throws(() => toJson(Symbol("s")), /must be JSON/);
    assert.throws(() => toJson(1n), TypeError);
  });
});
