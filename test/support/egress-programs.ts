/**
 * The programs of the egress tests, in both languages. Each takes `cfg` in its input and returns
 * what it saw in `out`. The "reach" ones use the clients as a workflow would (requests, httpx,
 * urllib, fetch, a LangChain tool); the "probe" ones speak to the proxy by hand, as an attacker
 * would, and try sockets that bypass it.
 */

const PY_GRAPH = `
g = StateGraph(State)
g.add_node("work", work)
g.add_edge(START, "work")
g.add_edge("work", END)
app = g.compile()
`;

export const PY_REACH = `import os, ssl, urllib.request
from typing import TypedDict
import httpx
import requests
from langchain_core.tools import tool
from langgraph.graph import StateGraph, START, END


class State(TypedDict, total=False):
    cfg: dict
    out: dict


@tool
def get_page(url: str) -> str:
    """Fetches a web page and returns its text."""
    return requests.get(url, timeout=10).text


def work(state):
    cfg = state["cfg"]
    ca = os.path.join(os.getcwd(), "upstream-ca.pem")
    with open(ca, "w") as f:
        f.write(cfg["ca"])
    http, https = cfg["http"], cfg["https"]
    out = {
        "proxy": os.environ.get("HTTPS_PROXY", "").split("@")[-1],
        "requests": requests.get(http + "/hello?via=requests", timeout=10).text,
        "httpx": httpx.get(http + "/hello?via=httpx", timeout=10).text,
        "urllib": urllib.request.urlopen(http + "/hello?via=urllib", timeout=10).read().decode(),
        "https_requests": requests.get(https + "/hello?via=requests", verify=ca, timeout=10).text,
        "https_httpx": httpx.get(https + "/hello?via=httpx", verify=ssl.create_default_context(cafile=ca), timeout=10).text,
        "tool": get_page.invoke({"url": http + "/hello?via=tool"}),
        "upload": requests.post(http + "/echo", data=b"x" * 5000, timeout=10).text,
    }
    r = requests.get(http + "/redirect?to=" + cfg["refused"], timeout=10)
    out["redirect"] = [r.status_code, r.text]
    if cfg.get("big"):
        out["big"] = len(requests.get(http + "/big?n=" + str(cfg["big"]), timeout=30).content)
    return {"out": out}
${PY_GRAPH}`;

export const PY_PROBE = `import base64, http.client, os, socket, time, urllib.parse
from typing import TypedDict
from langgraph.graph import StateGraph, START, END


class State(TypedDict, total=False):
    cfg: dict
    out: dict


def work(state):
    cfg = state["cfg"]
    if "HTTP_PROXY" not in os.environ:
        return {"out": {"proxy": None}}
    p = urllib.parse.urlsplit(os.environ["HTTP_PROXY"])
    auth = "Basic " + base64.b64encode(f"{p.username}:{p.password}".encode()).decode()
    out = {"proxy": p.hostname, "get": [], "connect": [], "direct": [], "held": []}
    for url in cfg.get("targets", []):
        c = http.client.HTTPConnection(p.hostname, p.port, timeout=10)
        c.request("GET", url, headers={"Proxy-Authorization": auth})
        r = c.getresponse()
        out["get"].append([url, r.status, r.read().decode()])
        c.close()
    for authority in cfg.get("connects", []):
        c = http.client.HTTPConnection(p.hostname, p.port, timeout=10)
        c.request("CONNECT", authority, headers={"Proxy-Authorization": auth})
        r = c.getresponse()
        out["connect"].append([authority, r.status, r.read().decode() if r.status != 200 else ""])
        c.close()
    held = []
    for authority in cfg.get("hold", []):
        s = socket.create_connection((p.hostname, p.port), timeout=10)
        s.sendall(f"CONNECT {authority} HTTP/1.1\\r\\nHost: {authority}\\r\\nProxy-Authorization: {auth}\\r\\n\\r\\n".encode())
        head = s.recv(4096).decode(errors="replace")
        out["held"].append(int(head.split(" ")[1]))
        held.append(s)
    for s in held:
        s.close()
    for host, port in cfg.get("direct", []):
        try:
            s = socket.create_connection((host, port), timeout=3)
            s.close()
            out["direct"].append([host, port, "connected"])
        except OSError as e:
            out["direct"].append([host, port, type(e).__name__ + ": " + str(e)])
    return {"out": out}
${PY_GRAPH}`;

const TS_HEAD = `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";
import { tool } from "@langchain/core/tools";
import { z } from "zod";
import { request } from "node:http";
import { connect as tlsConnect } from "node:tls";
import { connect as netConnect } from "node:net";

const State = Annotation.Root({ cfg: Annotation<any>(), out: Annotation<any>() });

function proxy() {
  const p = new URL(process.env.HTTPS_PROXY ?? "");
  const auth = "Basic " + Buffer.from(decodeURIComponent(p.username) + ":" + decodeURIComponent(p.password)).toString("base64");
  return { host: p.hostname, port: Number(p.port), auth };
}

/** A GET in absolute form, sent to the proxy by hand. */
function viaProxy(url: string): Promise<[string, number, string]> {
  const p = proxy();
  return new Promise((resolve, reject) => {
    const req = request({ host: p.host, port: p.port, path: url, headers: { "proxy-authorization": p.auth } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve([url, res.statusCode ?? 0, body]));
    });
    req.on("error", reject);
    req.end();
  });
}

/** An HTTPS GET through a CONNECT tunnel, the server's certificate checked against \`ca\`. */
function throughTunnel(authority: string, ca: string): Promise<string> {
  const p = proxy();
  return new Promise((resolve, reject) => {
    const req = request({ host: p.host, port: p.port, method: "CONNECT", path: authority, headers: { "proxy-authorization": p.auth } });
    req.on("connect", (res, socket) => {
      if (res.statusCode !== 200) return reject(new Error("CONNECT answered " + res.statusCode));
      const tls = tlsConnect({ socket, ca, servername: "localhost" }, () => {
        tls.write("GET /hello?via=tunnel HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n");
      });
      let data = "";
      tls.on("data", (d) => (data += d));
      tls.on("end", () => resolve(data.split("\\r\\n\\r\\n")[1] ?? ""));
      tls.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

function direct(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = netConnect({ host, port });
    s.setTimeout(3000, () => { s.destroy(); resolve("timeout"); });
    s.on("connect", () => { s.destroy(); resolve("connected"); });
    s.on("error", (e: NodeJS.ErrnoException) => resolve(String(e.code)));
  });
}
`;

const TS_GRAPH = `
export const app = new StateGraph(State).addNode("work", work).addEdge(START, "work").addEdge("work", END).compile();
`;

export const TS_REACH = `${TS_HEAD}
const getPage = tool(async ({ url }: { url: string }) => (await fetch(url)).text(), {
  name: "get_page",
  description: "Fetches a web page and returns its text.",
  schema: z.object({ url: z.string() }),
});

async function work(state: typeof State.State) {
  const cfg = state.cfg;
  const out: Record<string, unknown> = { proxy: (process.env.HTTPS_PROXY ?? "").split("@").pop() };
  out.fetch = await (await fetch(cfg.http + "/hello?via=fetch")).text();
  out.tool = await getPage.invoke({ url: cfg.http + "/hello?via=tool" });
  out.upload = await (await fetch(cfg.http + "/echo", { method: "POST", body: "y".repeat(3000) })).text();
  out.tunnel = await throughTunnel(cfg.httpsAuthority, cfg.ca);
  try {
    const r = await fetch(cfg.http + "/redirect?to=" + encodeURIComponent(cfg.refused));
    out.redirect = [r.status, await r.text()];
  } catch (err: any) {
    out.redirect = ["failed", String(err?.cause?.message ?? err)];
  }
  if (cfg.big) out.big = (await (await fetch(cfg.http + "/big?n=" + cfg.big)).arrayBuffer()).byteLength;
  return { out };
}
${TS_GRAPH}`;

export const TS_PROBE = `${TS_HEAD}
async function work(state: typeof State.State) {
  const cfg = state.cfg;
  if (!process.env.HTTPS_PROXY) return { out: { proxy: null } };
  const out: Record<string, unknown[]> = { get: [], direct: [] };
  for (const url of cfg.targets ?? []) out.get.push(await viaProxy(url));
  for (const [host, port] of cfg.direct ?? []) out.direct.push([host, port, await direct(host, port)]);
  return { out: { proxy: proxy().host, ...out } };
}
${TS_GRAPH}`;

/** An LLM call and an egress request in one run: the gateway stays reachable with egress on. */
export const PY_LLM_AND_EGRESS = `import os
from typing import TypedDict
import requests
from langchain_openai import ChatOpenAI
from langgraph.graph import StateGraph, START, END


class State(TypedDict, total=False):
    cfg: dict
    out: dict


def work(state):
    cfg = state["cfg"]
    reply = ChatOpenAI(model="gpt-4o-mini").invoke("hi there").content
    # requests ignores NO_PROXY's host:port entries for an IP host: this goes through the proxy,
    # which hands the gateway's own port to the gateway.
    models = requests.get(
        os.environ["OPENAI_BASE_URL"] + "/models",
        headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]},
        timeout=10,
    )
    hello = requests.get(cfg["http"] + "/hello?via=requests", timeout=10).text
    return {"out": {"reply": reply, "models": models.status_code, "hello": hello}}
${PY_GRAPH}`;

export const TS_LLM_AND_EGRESS = `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";
import { ChatOpenAI } from "@langchain/openai";

const State = Annotation.Root({ cfg: Annotation<any>(), out: Annotation<any>() });

async function work(state: typeof State.State) {
  const reply = (await new ChatOpenAI({ model: "gpt-4o-mini" }).invoke("hi there")).content;
  const hello = await (await fetch(state.cfg.http + "/hello?via=fetch")).text();
  return { out: { reply, hello } };
}
${TS_GRAPH}`;
