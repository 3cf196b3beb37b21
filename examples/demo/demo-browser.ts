// The demo's browser: what a browser does to get through IAP's sign-in (follow the redirect to the sign-in page,
// post the form, carry the XSRF and session cookies), done with plain HTTP so the demo needs no browser.
import { request } from "node:http";

interface Answer {
  status: number;
  location: string;
  cookies: string[];
}

function call(
  base: string,
  options: { host?: string; method?: string; path: string; cookie?: string; form?: URLSearchParams },
): Promise<Answer> {
  const url = new URL(base);
  const body = options.form?.toString();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? "GET",
        path: options.path,
        headers: {
          ...(options.host ? { host: options.host } : {}),
          ...(options.cookie ? { cookie: options.cookie } : {}),
          ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            location: String(res.headers.location ?? ""),
            cookies: (res.headers["set-cookie"] ?? []).map((c) => c.split(";")[0] ?? ""),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Opens `/` of `domain` through the load balancer, signs in on runguard's page, and returns the final status. */
export async function signInThroughIap(
  loadBalancer: string,
  domain: string,
  email: string,
  password: string,
): Promise<number> {
  const first = await call(loadBalancer, { host: domain, path: "/" });
  if (first.status !== 302) return first.status;
  const signInUrl = new URL(first.location);
  const form = new URLSearchParams(signInUrl.searchParams);
  form.set("email", email);
  form.set("password", password);
  const posted = await call(signInUrl.origin, { method: "POST", path: signInUrl.pathname, form });
  if (posted.status !== 302) return posted.status;
  const callback = new URL(posted.location);
  const back = await call(loadBalancer, {
    host: domain,
    path: `${callback.pathname}${callback.search}`,
    cookie: first.cookies.join("; "),
  });
  if (back.status !== 302) return back.status;
  const session = back.cookies.filter((c) => c.includes("GCP_IAP_AUTH_TOKEN") && !c.endsWith("=")).join("; ");
  return (await call(loadBalancer, { host: domain, path: back.location, cookie: session })).status;
}
