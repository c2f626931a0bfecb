import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { ApiError } from "../../src/apiserver/errors.js";
import {
  chooseContainer,
  isGlobalUnicast,
  kubeletAddress,
  kubeletErrorStatus,
  logStatusProblem,
  proxyRemainder,
  streamQuery,
} from "../../src/apiserver/proxy.js";

const pod = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "default" },
  spec,
  status,
});

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError);
    return `${e.code} ${e.message}`;
  }
  return "no error";
}

describe("which container a request is for (upstream validateContainer)", () => {
  const one = pod({ containers: [{ name: "a" }] });
  const two = pod({ initContainers: [{ name: "init" }], containers: [{ name: "a" }, { name: "b" }] });
  it("the only container is taken when none is named", () => assert.equal(chooseContainer(one, undefined), "a"));
  it("a named init container is valid", () => assert.equal(chooseContainer(two, "init"), "init"));
  it("several containers: all are listed, init containers first", () =>
    assert.equal(
      message(() => chooseContainer(two, undefined)),
      "400 a container name must be specified for pod p, choose one of: [init a b]",
    ));
  it("an unknown name is not valid", () =>
    assert.equal(
      message(() => chooseContainer(one, "x")),
      "400 container x is not valid for pod p",
    ));
  it("a pod without containers asks for a name", () =>
    assert.equal(
      message(() => chooseContainer(pod({}), undefined)),
      "400 a container name must be specified for pod p",
    ));
});

describe("whether a container has logs (the kubelet's validateContainerLogStatus)", () => {
  const withStatus = (cs: Record<string, unknown>) =>
    pod({ containers: [{ name: "c" }] }, { containerStatuses: [{ name: "c", ...cs }] });
  const cases: Array<[string, KObject, boolean, string | undefined]> = [
    ["running", withStatus({ state: { running: {} } }), false, undefined],
    [
      "waiting: creating",
      withStatus({ state: { waiting: { reason: "ContainerCreating" } } }),
      false,
      'container "c" in pod "p" is waiting to start: ContainerCreating',
    ],
    [
      "waiting: image pull",
      withStatus({ state: { waiting: { reason: "ErrImagePull" } } }),
      false,
      `container "c" in pod "p" is waiting to start: image can't be pulled`,
    ],
    [
      "back-off after a crash still has the last run's logs",
      withStatus({
        state: { waiting: { reason: "CrashLoopBackOff" } },
        lastState: { terminated: { containerID: "x://1" } },
      }),
      false,
      undefined,
    ],
    ["no status yet", pod({ containers: [{ name: "c" }] }), false, 'container "c" in pod "p" is not available'],
    [
      "previous without a terminated run",
      withStatus({ state: { running: {} } }),
      true,
      'previous terminated container "c" in pod "p" not found',
    ],
    [
      "previous with one",
      withStatus({ state: { running: {} }, lastState: { terminated: { containerID: "x://1" } } }),
      true,
      undefined,
    ],
    ["terminated", withStatus({ state: { terminated: { containerID: "x://2" } } }), false, undefined],
    ["unknown state", withStatus({ state: {} }), false, 'container "c" in pod "p" is waiting to start - no logs yet'],
  ];
  for (const [name, p, previous, want] of cases) {
    it(name, () => assert.equal(logStatusProblem(p, "c", previous), want));
  }
});

describe("where a node's kubelet listens", () => {
  const node = (status: Record<string, unknown>): KObject => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "n" },
    status,
  });
  it("InternalIP before Hostname, the kubelet endpoint's port", () =>
    assert.deepEqual(
      kubeletAddress(
        node({
          addresses: [
            { type: "Hostname", address: "n1" },
            { type: "InternalIP", address: "10.0.0.5" },
          ],
          daemonEndpoints: { kubeletEndpoint: { Port: 12345 } },
        }),
      ),
      { host: "10.0.0.5", port: 12345 },
    ));
  it("the default port 10250 when the node says none", () =>
    assert.deepEqual(kubeletAddress(node({ addresses: [{ type: "Hostname", address: "n1" }] })), {
      host: "n1",
      port: 10250,
    }));
  it("no address: upstream's plain error", () => {
    assert.equal(
      message(() => kubeletAddress(node({}))),
      "500 no preferred addresses found; known addresses: []",
    );
    assert.equal(
      message(() => kubeletAddress(node({ addresses: [{ type: "Weird", address: "x" }] }))),
      "500 no preferred addresses found; known addresses: [{Weird x}]",
    );
  });
});

describe("proxy helpers", () => {
  it("exec flags go to the kubelet as 1, then the command in order", () =>
    assert.equal(
      streamQuery(
        new URLSearchParams("command=sh&command=-c&command=echo%20hi&stdout=true&stderr=true&container=c"),
        true,
      ).toString(),
      "stdout=1&stderr=1&command=sh&command=-c&command=echo+hi",
    ));
  it("a flag that is not a boolean is refused", () =>
    assert.match(
      message(() => streamQuery(new URLSearchParams("stdin=maybe"), false)),
      /^400 strconv.ParseBool/,
    ));
  it("the path after proxy is kept raw", () => {
    assert.equal(proxyRemainder("/api/v1/nodes/n1/proxy/stats/summary"), "/stats/summary");
    assert.equal(proxyRemainder("/api/v1/nodes/n1/proxy"), "/");
    assert.equal(proxyRemainder("/api/v1/namespaces/d/pods/p:8080/proxy/a%20b/"), "/a%20b/");
  });
  it("kubelet errors become the Status upstream's response checker makes", () => {
    assert.equal(kubeletErrorStatus(400, "bad thing\n", "pods/log", "p").message, "bad thing");
    assert.equal(kubeletErrorStatus(500, "boom", "pods/log", "p").message, "Internal error occurred: boom");
    const nf = kubeletErrorStatus(404, "x", "pods/log", "p");
    assert.equal(nf.reason, "NotFound");
    assert.equal(nf.message, "the server could not find the requested resource ( pods/log p)");
  });
  it("pod IPs must be global unicast", () => {
    assert.equal(isGlobalUnicast("10.1.2.3"), true);
    assert.equal(isGlobalUnicast("127.0.0.1"), false);
    assert.equal(isGlobalUnicast("169.254.1.1"), false);
    assert.equal(isGlobalUnicast("fe80::1"), false);
    assert.equal(isGlobalUnicast("2001:db8::1"), true);
    assert.equal(isGlobalUnicast(""), false);
  });
});
