// The DNS server inside an instance's network namespace (127.0.0.1:53, UDP and TCP), run by the launcher. It
// knows a handful of names (the metadata server, Google's APIs, Cloud Run) and answers NXDOMAIN for every other:
// there is no internet. Known names have IPv4 addresses only: an AAAA question gets an empty NOERROR answer, so
// resolvers fall back to the A record at once. The parser never throws: what it cannot read gets FORMERR, or no
// answer at all when not even the header is there.
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/** An exact name, or `*.suffix` for every name under suffix, and the IPv4 address it resolves to. */
export interface DnsRecord {
  name: string;
  address: string;
}

const TYPE_A = 1;
const CLASS_IN = 1;
const RCODE = { noError: 0, formErr: 1, notImp: 4, nxDomain: 3 } as const;
const TTL_SECONDS = 60;

interface Question {
  name: string;
  type: number;
  klass: number;
  /** The question's bytes as they were sent (name, type, class), echoed in the answer. */
  wire: Buffer;
}

/** The first question of a query, or undefined when it cannot be read (compression, truncation, bad labels). */
function readQuestion(message: Buffer): Question | undefined {
  const labels: string[] = [];
  let offset = 12;
  for (;;) {
    const length = message[offset];
    if (length === undefined || length > 63) return undefined; // out of bounds, or a compression pointer
    offset += 1;
    if (length === 0) break;
    if (offset + length > message.length) return undefined;
    labels.push(message.subarray(offset, offset + length).toString("latin1"));
    offset += length;
    if (offset - 12 > 255) return undefined;
  }
  if (offset + 4 > message.length) return undefined;
  return {
    name: labels.join(".").toLowerCase(),
    type: message.readUInt16BE(offset),
    klass: message.readUInt16BE(offset + 2),
    wire: message.subarray(12, offset + 4),
  };
}

export function resolveName(records: DnsRecord[], name: string): string | undefined {
  const wanted = name.toLowerCase().replace(/\.$/, "");
  for (const record of records) {
    if (record.name.startsWith("*.")) {
      if (wanted.endsWith(record.name.slice(1)) && wanted.length > record.name.length - 1) return record.address;
    } else if (record.name === wanted) return record.address;
  }
  return undefined;
}

function header(query: Buffer, rcode: number, questions: number, answers: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(query.readUInt16BE(0), 0);
  const opcode = (query[2] ?? 0) & 0x78;
  const recursionDesired = (query[2] ?? 0) & 0x01;
  // QR, the query's opcode, AA, RD as asked; RA; the response code.
  out[2] = 0x80 | opcode | 0x04 | recursionDesired;
  out[3] = 0x80 | rcode;
  out.writeUInt16BE(questions, 4);
  out.writeUInt16BE(answers, 6);
  return out;
}

/** The answer to one DNS query message, or undefined when it is not a query one can answer (or too short). */
export function answerDnsQuery(records: DnsRecord[], query: Buffer): Buffer | undefined {
  if (query.length < 12) return undefined;
  if (((query[2] ?? 0) & 0x80) !== 0) return undefined; // a response, not a query: never answered
  const opcode = ((query[2] ?? 0) >> 3) & 0x0f;
  if (opcode !== 0) return header(query, RCODE.notImp, 0, 0);
  const question = query.readUInt16BE(4) === 1 ? readQuestion(query) : undefined;
  if (!question) return header(query, RCODE.formErr, 0, 0);
  const address = question.klass === CLASS_IN ? resolveName(records, question.name) : undefined;
  if (address === undefined) return Buffer.concat([header(query, RCODE.nxDomain, 1, 0), question.wire]);
  if (question.type !== TYPE_A) return Buffer.concat([header(query, RCODE.noError, 1, 0), question.wire]);
  const answer = Buffer.alloc(16);
  answer.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
  answer.writeUInt16BE(TYPE_A, 2);
  answer.writeUInt16BE(CLASS_IN, 4);
  answer.writeUInt32BE(TTL_SECONDS, 6);
  answer.writeUInt16BE(4, 10);
  address.split(".").forEach((octet, index) => answer.writeUInt8(Number(octet) & 0xff, 12 + index));
  return Buffer.concat([header(query, RCODE.noError, 1, 1), question.wire, answer]);
}

/** Serves `records` on host:53 over UDP and TCP (two-byte length prefix) until the process ends. */
export async function serveDns(records: DnsRecord[], host = "127.0.0.1", port = 53): Promise<void> {
  const udp = createSocket("udp4");
  udp.on("message", (message, peer) => {
    const reply = answerDnsQuery(records, message);
    if (reply) udp.send(reply, peer.port, peer.address);
  });
  udp.on("error", () => {});
  const tcp = createServer((socket) => {
    let pending = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const reply = answerDnsQuery(records, pending.subarray(2, 2 + length));
        pending = pending.subarray(2 + length);
        if (!reply) return void socket.destroy();
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(reply.length, 0);
        socket.write(Buffer.concat([prefix, reply]));
      }
    });
  });
  await Promise.all([
    new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(port, host, () => resolve());
    }),
    new Promise<void>((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen(port, host, () => resolve());
    }),
  ]);
}
