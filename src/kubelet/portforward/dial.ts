/**
 * Where a port-forward connects: localhost:<port> in the pod's network namespace, as the CRI
 * runtimes do. A pod on the node's network is dialled directly; a pod with a network namespace of
 * its own is dialled from inside it, by a small relay process started in that namespace
 * (`nsenter --net=<netns>`, util-linux) whose stdin/stdout carry the connection — a process of
 * the node cannot enter a namespace itself.
 */
import { spawn } from "node:child_process";
import { connect } from "node:net";
import type { Duplex } from "node:stream";

/** Thrown when nothing could be reached; the message is what the client is told. */
export class PortForwardError extends Error {}

/** Pipes `stream` to 127.0.0.1:`port` of the node until either side ends. */
export function forwardLocal(port: number, stream: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port });
    let connected = false;
    sock.once("connect", () => {
      connected = true;
      stream.pipe(sock);
      sock.pipe(stream);
    });
    sock.once("error", (err) => {
      if (!connected) reject(new PortForwardError(`failed to connect to localhost:${port}: ${err.message}`));
      else resolve();
    });
    sock.once("close", () => resolve());
    stream.once("close", () => sock.destroy());
    stream.on("error", () => sock.destroy());
  });
}

// The relay: connects, says "ok" on stderr's first line (or why not), then copies both ways.
const RELAY = `
const net = require("node:net");
const port = Number(process.argv[1]);
const s = net.connect({ host: "127.0.0.1", port });
s.once("connect", () => {
  process.stderr.write("ok\\n");
  process.stdin.pipe(s);
  s.pipe(process.stdout);
});
s.once("error", (e) => {
  process.stderr.write(e.message + "\\n");
  process.exit(1);
});
s.once("close", () => process.exit(0));
process.stdin.once("end", () => s.end());
`;

/** Pipes `stream` to localhost:`port` inside the network namespace at `netnsPath`. */
export function forwardInNetns(netnsPath: string, port: number, stream: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("nsenter", [`--net=${netnsPath}`, "--", process.execPath, "-e", RELAY, String(port)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let ready = false;
    let err = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      if (ready) return;
      err += d;
      const nl = err.indexOf("\n");
      if (nl < 0) return;
      if (err.slice(0, nl) === "ok") {
        ready = true;
        stream.pipe(child.stdin);
        child.stdout.pipe(stream);
      }
    });
    child.once("error", (e) =>
      reject(new PortForwardError(`cannot enter the pod's network namespace (nsenter): ${e.message}`)),
    );
    child.once("close", (code) => {
      if (!ready) {
        const why = err.trim() || `the relay exited with code ${code}`;
        reject(
          new PortForwardError(`failed to connect to localhost:${port} inside the pod's network namespace: ${why}`),
        );
      } else resolve();
    });
    stream.once("close", () => child.kill("SIGKILL"));
    stream.on("error", () => child.kill("SIGKILL"));
    child.stdin.on("error", () => undefined);
    child.stdout.on("error", () => undefined);
  });
}
