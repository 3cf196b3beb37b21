// IPv4 CIDR arithmetic for the virtual network model. runguard never connects to these addresses: they are
// names that map to loopback endpoints it owns.

export interface Cidr {
  base: number;
  prefix: number;
}

export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function parseCidr(text: string): Cidr | undefined {
  const [ip, bits] = text.split("/");
  const base = parseIpv4(ip ?? "");
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) return undefined;
  return { base, prefix };
}

export function contains(cidr: Cidr, ip: number): boolean {
  const size = 2 ** (32 - cidr.prefix);
  return ip >= cidr.base && ip < cidr.base + size;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b.base) || contains(b, a.base);
}

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"].map(
  (c) => parseCidr(c) as Cidr,
);

/** RFC 1918 and RFC 6598: what `private-ranges-only` sends through the VPC. */
export function isPrivateAddress(host: string): boolean {
  const ip = parseIpv4(host);
  return ip !== undefined && PRIVATE_RANGES.some((range) => contains(range, ip));
}
