/**
 * The outside world a program reaches through the egress proxy, on loopback: an HTTP server and an
 * HTTPS one with a self-signed certificate made at test time (openssl), whose PEM the programs
 * are given to trust. Each counts the requests it answered.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Upstream {
  httpUrl: string;
  httpsUrl: string;
  httpPort: number;
  httpsPort: number;
  /** The HTTPS server's certificate (self-signed: its own CA). */
  caPem: string;
  /** Request paths answered, in order (both servers). */
  seen: string[];
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 (and localhost), valid a day. */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "graphbox-egress-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `/hello` answers `hello <scheme> <query>`; `/redirect?to=<url>` a 302 there; `/big?n=<bytes>`
 * that many bytes; `/echo` the size of the body it received.
 */
function answer(scheme: string, seen: string[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://upstream");
    seen.push(`${scheme} ${url.pathname}${url.search}`);
    if (url.pathname === "/redirect") {
      res.writeHead(302, { location: url.searchParams.get("to") ?? "/" });
      res.end();
    } else if (url.pathname === "/big") {
      const n = Number(url.searchParams.get("n") ?? "0");
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(n) });
      res.end(Buffer.alloc(n, 0x61));
    } else if (url.pathname === "/echo") {
      let size = 0;
      req.on("data", (chunk: Buffer) => (size += chunk.length));
      req.on("end", () => res.end(`received ${size}`));
    } else {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`hello ${scheme} ${url.searchParams.get("via") ?? ""}`.trim());
    }
  };
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));

export async function startUpstream(): Promise<Upstream> {
  const seen: string[] = [];
  const { key, cert } = selfSigned();
  const http = createServer(answer("http", seen));
  const https = createTlsServer({ key, cert }, answer("https", seen));
  const httpPort = await listen(http);
  const httpsPort = await listen(https);
  return {
    httpUrl: `http://127.0.0.1:${httpPort}`,
    httpsUrl: `https://127.0.0.1:${httpsPort}`,
    httpPort,
    httpsPort,
    caPem: cert,
    seen,
    async close() {
      for (const server of [http, https]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
