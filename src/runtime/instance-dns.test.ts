// The DNS server inside an instance's namespace: known names, NXDOMAIN for the rest, and arbitrary bytes never crash it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { answerDnsQuery, type DnsRecord } from "./instance-dns.js";

const RECORDS: DnsRecord[] = [
  { name: "metadata.google.internal", address: "169.254.169.254" },
  { name: "*.googleapis.com", address: "199.36.153.4" },
  { name: "*.run.app", address: "199.36.153.4" },
];

function query(name: string, type: number, id = 0x1234): Buffer {
  const labels = name.split(".").map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)]));
  const header = Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, ...labels, Buffer.from([0, type >> 8, type & 0xff, 0, 1])]);
}

const rcodeOf = (answer: Buffer) => (answer[3] ?? 0) & 0x0f;
const answersOf = (answer: Buffer) => answer.readUInt16BE(6);

describe("the instance's DNS server", () => {
  it("answers A for known names (any case, wildcards), with the query's id and question", () => {
    const answer = answerDnsQuery(RECORDS, query("Metadata.Google.Internal", 1))!;
    assert.equal(answer.readUInt16BE(0), 0x1234);
    assert.equal(rcodeOf(answer), 0);
    assert.equal(answersOf(answer), 1);
    assert.deepEqual([...answer.subarray(-4)], [169, 254, 169, 254]);
    const api = answerDnsQuery(RECORDS, query("secretmanager.googleapis.com", 1))!;
    assert.deepEqual([...api.subarray(-4)], [199, 36, 153, 4]);
  });

  it("AAAA for a known name: NOERROR, no records; unknown names: NXDOMAIN", () => {
    const aaaa = answerDnsQuery(RECORDS, query("svc-abc.a.run.app", 28))!;
    assert.deepEqual([rcodeOf(aaaa), answersOf(aaaa)], [0, 0]);
    for (const name of ["www.example.com", "googleapis.com.evil", "run.app", "xgoogleapis.com"]) {
      const answer = answerDnsQuery(RECORDS, query(name, 1))!;
      assert.deepEqual([rcodeOf(answer), answersOf(answer)], [3, 0], name);
    }
  });

  it("never throws on arbitrary bytes; answers what has a header and never a response", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const answer = answerDnsQuery(RECORDS, Buffer.from(bytes));
        if (bytes.length < 12 || (bytes[2]! & 0x80) !== 0) assert.equal(answer, undefined);
        else assert.ok(answer && answer.length >= 12);
      }),
      { numRuns: 2000 },
    );
    const compressed = Buffer.concat([
      query("a.googleapis.com", 1).subarray(0, 12),
      Buffer.from([0xc0, 0x0c, 0, 1, 0, 1]),
    ]);
    assert.equal(rcodeOf(answerDnsQuery(RECORDS, compressed)!), 1);
  });
});
