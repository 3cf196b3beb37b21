// Calls a service URL through runguard's front end the way a client outside Google would: the service URL's
// host in the Host header, sent to the front end's loopback address.
import { request } from "node:http";

export interface InvokeResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function invokeUrl(
  frontEndUrl: string,
  serviceUrl: string,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string | string[]>;
    body?: string;
    rawHeaders?: string[];
  } = {},
): Promise<InvokeResult> {
  const front = new URL(frontEndUrl);
  const target = new URL(serviceUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: front.hostname,
        port: front.port,
        method: options.method ?? "GET",
        path: options.path ?? "/",
        headers: options.rawHeaders ?? { host: target.host, ...(options.headers ?? {}) },
        setHost: options.rawHeaders === undefined,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}
