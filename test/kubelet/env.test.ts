import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import {
  ContainerConfigError,
  containerArgv,
  containerEnv,
  type EnvSources,
  expand,
  fieldRefValue,
  goQuote,
  resourceFieldValue,
  serviceEnv,
} from "../../src/kubelet/env.js";

type Rec = Record<string, unknown>;

function svc(namespace: string, name: string, clusterIP: string, ports: Rec[]): KObject {
  return { apiVersion: "v1", kind: "Service", metadata: { namespace, name }, spec: { clusterIP, ports } };
}

const kubernetesSvc = svc("default", "kubernetes", "10.96.0.1", [{ name: "https", port: 443, protocol: "TCP" }]);

function pod(spec: Rec, meta: Partial<KObject["metadata"]> = {}): KObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: "shop", name: "web-0", uid: "uid-1", ...meta },
    spec: { nodeName: "node-a", serviceAccountName: "builder", ...spec },
  };
}

function sources(opts: { services?: KObject[]; configMaps?: KObject[]; secrets?: KObject[] } = {}): EnvSources {
  const find = (list: KObject[] | undefined, ns: string, name: string) =>
    list?.find((o) => o.metadata.namespace === ns && o.metadata.name === name);
  return {
    configMap: async (ns, name) => find(opts.configMaps, ns, name),
    secret: async (ns, name) => find(opts.secrets, ns, name),
    // as the kubelet gives them: the namespace's services and default/kubernetes
    services: (ns) =>
      (opts.services ?? [kubernetesSvc]).filter(
        (s) => s.metadata.namespace === ns || (s.metadata.namespace === "default" && s.metadata.name === "kubernetes"),
      ),
    nodeAllocatable: { cpuMilli: 4000, memoryBytes: 8 * 1024 ** 3, ephemeralBytes: 100 * 1024 ** 3 },
    hostIP: "192.168.1.10",
    podIP: "10.244.0.7",
  };
}

const cm = (name: string, data: Record<string, string>, extra: Rec = {}): KObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { namespace: "shop", name },
  data,
  ...extra,
});
const secret = (name: string, data: Record<string, string>): KObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { namespace: "shop", name },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
});

async function envOf(container: Rec, p: KObject = pod({}), src: EnvSources = sources()): Promise<Map<string, string>> {
  return new Map((await containerEnv(p, container, src)).map((e) => [e.name, e.value]));
}

async function envError(container: Rec, src: EnvSources = sources(), p: KObject = pod({})): Promise<string> {
  try {
    await containerEnv(p, container, src);
  } catch (err) {
    assert.ok(err instanceof ContainerConfigError, `a ContainerConfigError, not ${String(err)}`);
    return err.message;
  }
  assert.fail("expected a ContainerConfigError");
}

describe("$(VAR) expansion (upstream third_party/forked/golang/expansion)", () => {
  const vars: Record<string, string> = { A: "alpha", B: "beta", EMPTY: "" };
  const lookup = (n: string) => vars[n];
  const cases: Array<[string, string, string]> = [
    ["a defined reference is replaced", "$(A)", "alpha"],
    ["references inside text are replaced", "x-$(A)-$(B)-y", "x-alpha-beta-y"],
    ["a reference to an empty variable is replaced by nothing", "[$(EMPTY)]", "[]"],
    ["an undefined reference stays as written", "$(NOPE)/$(A)", "$(NOPE)/alpha"],
    ["$$ is an escaped $", "$$(A)", "$(A)"],
    ["$$$ before a reference escapes one $ and expands the rest", "$$$(A)", "$alpha"],
    ["an unterminated $( is kept", "$(A", "$(A"],
    ["scanning goes on after an unterminated $(", "$(A $$ end", "$(A $ end"],
    ["a $ before anything else is kept", "$A and 100$", "$A and 100$"],
    ["a lone $ at the end is kept", "cost$", "cost$"],
    ["an empty name is looked up as empty", "$()", "$()"],
    ["the reference ends at the first )", "$(A))", "alpha)"],
  ];
  for (const [name, input, want] of cases) it(name, () => assert.equal(expand(input, lookup), want));
});

describe("env order", () => {
  it("a later entry of the same name wins", async () => {
    const env = await envOf({
      env: [
        { name: "X", value: "1" },
        { name: "X", value: "2" },
      ],
    });
    assert.equal(env.get("X"), "2");
  });

  it("values refer to variables defined before them, not after", async () => {
    const env = await envOf({
      env: [
        { name: "HOST", value: "db" },
        { name: "URL", value: "postgres://$(HOST):$(PORT)/app" },
        { name: "PORT", value: "5432" },
      ],
    });
    assert.equal(env.get("URL"), "postgres://db:$(PORT)/app");
  });

  it("values refer to envFrom and service link variables", async () => {
    const env = await envOf(
      {
        envFrom: [{ configMapRef: { name: "cfg" } }],
        env: [{ name: "API", value: "https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)/$(MODE)" }],
      },
      pod({}),
      sources({ configMaps: [cm("cfg", { MODE: "prod" })] }),
    );
    assert.equal(env.get("API"), "https://10.96.0.1:443/prod");
  });

  it("env overrides envFrom, and the container's own variables override service links", async () => {
    const env = await envOf(
      {
        envFrom: [{ configMapRef: { name: "cfg" } }],
        env: [
          { name: "MODE", value: "dev" },
          { name: "KUBERNETES_SERVICE_HOST", value: "override" },
        ],
      },
      pod({}),
      sources({ configMaps: [cm("cfg", { MODE: "prod", OTHER: "o" })] }),
    );
    assert.equal(env.get("MODE"), "dev");
    assert.equal(env.get("OTHER"), "o");
    assert.equal(env.get("KUBERNETES_SERVICE_HOST"), "override");
    const names = (
      await containerEnv(pod({}), { env: [{ name: "KUBERNETES_SERVICE_HOST", value: "x" }] }, sources())
    ).map((e) => e.name);
    assert.equal(names.filter((n) => n === "KUBERNETES_SERVICE_HOST").length, 1, "no duplicate names");
  });

  it("an entry without value or source is the empty string", async () => {
    const env = await envOf({ env: [{ name: "BLANK" }] });
    assert.equal(env.get("BLANK"), "");
  });
});

describe("service link variables (upstream envvars.FromServices)", () => {
  it("names and values of a service with named ports, exactly as upstream", () => {
    const vars = serviceEnv([
      svc("shop", "redis-master", "10.0.0.11", [
        { name: "redis", port: 6379, protocol: "TCP" },
        { name: "metrics-port", port: 9121, protocol: "UDP" },
      ]),
    ]);
    assert.deepEqual(vars, [
      { name: "REDIS_MASTER_SERVICE_HOST", value: "10.0.0.11" },
      { name: "REDIS_MASTER_SERVICE_PORT", value: "6379" },
      { name: "REDIS_MASTER_SERVICE_PORT_REDIS", value: "6379" },
      { name: "REDIS_MASTER_SERVICE_PORT_METRICS_PORT", value: "9121" },
      { name: "REDIS_MASTER_PORT", value: "tcp://10.0.0.11:6379" },
      { name: "REDIS_MASTER_PORT_6379_TCP", value: "tcp://10.0.0.11:6379" },
      { name: "REDIS_MASTER_PORT_6379_TCP_PROTO", value: "tcp" },
      { name: "REDIS_MASTER_PORT_6379_TCP_PORT", value: "6379" },
      { name: "REDIS_MASTER_PORT_6379_TCP_ADDR", value: "10.0.0.11" },
      { name: "REDIS_MASTER_PORT_9121_UDP", value: "udp://10.0.0.11:9121" },
      { name: "REDIS_MASTER_PORT_9121_UDP_PROTO", value: "udp" },
      { name: "REDIS_MASTER_PORT_9121_UDP_PORT", value: "9121" },
      { name: "REDIS_MASTER_PORT_9121_UDP_ADDR", value: "10.0.0.11" },
    ]);
  });

  it("an unnamed port without protocol is TCP: FOO_SERVICE_HOST, FOO_PORT_80_TCP_ADDR", () => {
    const vars = new Map(serviceEnv([svc("shop", "foo", "10.0.0.5", [{ port: 80 }])]).map((e) => [e.name, e.value]));
    assert.equal(vars.get("FOO_SERVICE_HOST"), "10.0.0.5");
    assert.equal(vars.get("FOO_SERVICE_PORT"), "80");
    assert.equal(vars.get("FOO_PORT"), "tcp://10.0.0.5:80");
    assert.equal(vars.get("FOO_PORT_80_TCP_ADDR"), "10.0.0.5");
    assert.equal([...vars.keys()].filter((k) => k.startsWith("FOO_SERVICE_PORT_")).length, 0);
  });

  it("an IPv6 cluster IP is bracketed in the URLs, bare in _HOST and _ADDR", () => {
    const vars = new Map(serviceEnv([svc("shop", "v6", "fd00::10", [{ port: 443 }])]).map((e) => [e.name, e.value]));
    assert.equal(vars.get("V6_SERVICE_HOST"), "fd00::10");
    assert.equal(vars.get("V6_PORT"), "tcp://[fd00::10]:443");
    assert.equal(vars.get("V6_PORT_443_TCP"), "tcp://[fd00::10]:443");
    assert.equal(vars.get("V6_PORT_443_TCP_ADDR"), "fd00::10");
  });

  it("headless services and services without a cluster IP have none", () => {
    assert.deepEqual(
      serviceEnv([svc("shop", "headless", "None", [{ port: 80 }]), svc("shop", "pending", "", [{ port: 80 }])]),
      [],
    );
  });

  it("a pod sees its namespace's services and the kubernetes service, not other namespaces'", async () => {
    const services = [
      kubernetesSvc,
      svc("shop", "cart", "10.0.0.2", [{ port: 80 }]),
      svc("blog", "db", "10.0.0.3", [{ port: 5432 }]),
    ];
    const env = await envOf({}, pod({}), sources({ services }));
    assert.equal(env.get("KUBERNETES_SERVICE_HOST"), "10.96.0.1");
    assert.equal(env.get("KUBERNETES_SERVICE_PORT_HTTPS"), "443");
    assert.equal(env.get("CART_SERVICE_HOST"), "10.0.0.2");
    assert.equal(env.has("DB_SERVICE_HOST"), false);
  });

  it("enableServiceLinks=false keeps only the kubernetes service of default", async () => {
    const services = [
      kubernetesSvc,
      svc("shop", "cart", "10.0.0.2", [{ port: 80 }]),
      // a namespace's own service named kubernetes is no master service
      svc("shop", "kubernetes", "10.0.0.99", [{ port: 8443 }]),
    ];
    const env = await envOf({}, pod({ enableServiceLinks: false }), sources({ services }));
    assert.equal(env.get("KUBERNETES_SERVICE_HOST"), "10.96.0.1");
    assert.equal(env.get("KUBERNETES_SERVICE_PORT"), "443");
    assert.equal(env.has("CART_SERVICE_HOST"), false);
  });

  it("with service links, a namespace's own kubernetes service wins over the master one", async () => {
    const services = [kubernetesSvc, svc("shop", "kubernetes", "10.0.0.99", [{ port: 8443 }])];
    const env = await envOf({}, pod({}), sources({ services }));
    assert.equal(env.get("KUBERNETES_SERVICE_HOST"), "10.0.0.99");
  });
});

describe("envFrom", () => {
  it("imports a ConfigMap's data with the prefix", async () => {
    const env = await envOf(
      { envFrom: [{ prefix: "APP_", configMapRef: { name: "cfg" } }] },
      pod({}),
      sources({ configMaps: [cm("cfg", { MODE: "prod", "log.level": "debug" })] }),
    );
    assert.equal(env.get("APP_MODE"), "prod");
    assert.equal(env.get("APP_log.level"), "debug");
    assert.equal(env.has("MODE"), false);
  });

  it("imports a Secret's data decoded", async () => {
    const env = await envOf(
      { envFrom: [{ secretRef: { name: "creds" } }] },
      pod({}),
      sources({ secrets: [secret("creds", { PASSWORD: "s3cr=t\u00e9" })] }),
    );
    assert.equal(env.get("PASSWORD"), "s3cr=t\u00e9");
  });

  it("a ConfigMap's binaryData is not imported", async () => {
    const env = await envOf(
      { envFrom: [{ configMapRef: { name: "cfg" } }] },
      pod({}),
      sources({ configMaps: [cm("cfg", { A: "a" }, { binaryData: { BIN: Buffer.from("x").toString("base64") } })] }),
    );
    assert.equal(env.get("A"), "a");
    assert.equal(env.has("BIN"), false);
  });

  it("an optional missing source is skipped", async () => {
    const env = await envOf({
      envFrom: [{ configMapRef: { name: "nope", optional: true } }, { secretRef: { name: "nope", optional: true } }],
      env: [{ name: "OK", value: "1" }],
    });
    assert.equal(env.get("OK"), "1");
  });

  const missing: Array<[string, Rec, string]> = [
    [
      "a missing ConfigMap fails as upstream",
      { envFrom: [{ configMapRef: { name: "cfg" } }] },
      'configmap "cfg" not found',
    ],
    ["a missing Secret fails as upstream", { envFrom: [{ secretRef: { name: "creds" } }] }, 'secret "creds" not found'],
  ];
  for (const [name, container, want] of missing) it(name, async () => assert.equal(await envError(container), want));
});

describe("configMapKeyRef and secretKeyRef", () => {
  const src = sources({ configMaps: [cm("cfg", { mode: "prod" })], secrets: [secret("creds", { pw: "hunter2" })] });
  const ref = (kind: "configMapKeyRef" | "secretKeyRef", name: string, key: string, optional?: boolean): Rec => ({
    env: [{ name: "V", valueFrom: { [kind]: { name, key, ...(optional === undefined ? {} : { optional }) } } }],
  });

  it("reads the key of a ConfigMap and of a Secret", async () => {
    assert.equal((await envOf(ref("configMapKeyRef", "cfg", "mode"), pod({}), src)).get("V"), "prod");
    assert.equal((await envOf(ref("secretKeyRef", "creds", "pw"), pod({}), src)).get("V"), "hunter2");
  });

  const errors: Array<[string, Rec, string]> = [
    ["a missing ConfigMap", ref("configMapKeyRef", "nope", "mode"), 'configmap "nope" not found'],
    ["a missing Secret", ref("secretKeyRef", "nope", "pw"), 'secret "nope" not found'],
    [
      "a missing ConfigMap key",
      ref("configMapKeyRef", "cfg", "level"),
      "couldn't find key level in ConfigMap shop/cfg",
    ],
    ["a missing Secret key", ref("secretKeyRef", "creds", "user"), "couldn't find key user in Secret shop/creds"],
  ];
  for (const [name, container, want] of errors) {
    it(`${name} fails with upstream's message`, async () => assert.equal(await envError(container, src), want));
  }

  const optional: Array<[string, Rec]> = [
    ["an optional missing ConfigMap", ref("configMapKeyRef", "nope", "mode", true)],
    ["an optional missing Secret", ref("secretKeyRef", "nope", "pw", true)],
    ["an optional missing ConfigMap key", ref("configMapKeyRef", "cfg", "level", true)],
    ["an optional missing Secret key", ref("secretKeyRef", "creds", "user", true)],
  ];
  for (const [name, container] of optional) {
    it(`${name} leaves the variable unset`, async () =>
      assert.equal((await envOf(container, pod({}), src)).has("V"), false));
  }

  it("a key only in binaryData is missing", async () => {
    const bin = sources({ configMaps: [cm("cfg", {}, { binaryData: { mode: Buffer.from("x").toString("base64") } })] });
    assert.equal(
      await envError(ref("configMapKeyRef", "cfg", "mode"), bin),
      "couldn't find key mode in ConfigMap shop/cfg",
    );
  });
});

describe("fieldRef (downward API in env)", () => {
  const p = pod(
    {},
    {
      labels: { app: "web", "app.kubernetes.io/tier": "front" },
      annotations: { "example.com/owner": 'team "a"', note: "x" },
    },
  );
  const cases: Array<[string, string]> = [
    ["metadata.name", "web-0"],
    ["metadata.namespace", "shop"],
    ["metadata.uid", "uid-1"],
    ["metadata.labels['app']", "web"],
    ["metadata.labels['app.kubernetes.io/tier']", "front"],
    ["metadata.labels['missing']", ""],
    ["metadata.annotations['example.com/owner']", 'team "a"'],
    ["metadata.labels", 'app="web"\napp.kubernetes.io/tier="front"'],
    ["metadata.annotations", 'example.com/owner="team \\"a\\""\nnote="x"'],
    ["spec.nodeName", "node-a"],
    ["spec.serviceAccountName", "builder"],
    ["status.hostIP", "192.168.1.10"],
    ["status.hostIPs", "192.168.1.10"],
    ["status.podIP", "10.244.0.7"],
    ["status.podIPs", "10.244.0.7"],
  ];
  for (const [path, want] of cases) {
    it(`${path} reads ${JSON.stringify(want)}`, () =>
      assert.equal(fieldRefValue(p, path, "192.168.1.10", "10.244.0.7"), want));
  }

  const bad: Array<[string, string]> = [
    ["spec.foo", "field label not supported: spec.foo"],
    ["spec.nodeName['x']", "field label does not support subscript: spec.nodeName['x']"],
    ["status.phase", "unsupported fieldPath: status.phase"],
  ];
  for (const [path, want] of bad) {
    it(`${path} fails: ${want}`, () =>
      assert.throws(
        () => fieldRefValue(p, path, "h", "p"),
        (e: unknown) => e instanceof ContainerConfigError && e.message === want,
      ));
  }

  it("a fieldRef env var resolves through containerEnv", async () => {
    const env = await envOf({ env: [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }] }, p);
    assert.equal(env.get("POD_IP"), "10.244.0.7");
  });

  it("quotes like Go's %q", () => {
    assert.equal(goQuote('a"b\\c\n\t\u0001\u007f\u00e9'), '"a\\"b\\\\c\\n\\t\\x01\\x7f\u00e9"');
  });
});

describe("resourceFieldRef", () => {
  const alloc = { cpuMilli: 4000, memoryBytes: 8 * 1024 ** 3, ephemeralBytes: 100 * 1024 ** 3 };
  const c = (resources: Rec): Rec => ({ name: "app", resources });
  const cases: Array<[string, Rec, string, string | undefined, string]> = [
    ["limits.cpu 250m with divisor 1 rounds up to 1", c({ limits: { cpu: "250m" } }), "limits.cpu", undefined, "1"],
    ["limits.cpu 1.5 with divisor 1 rounds up to 2", c({ limits: { cpu: "1.5" } }), "limits.cpu", "1", "2"],
    ["limits.cpu 250m with divisor 1m is 250", c({ limits: { cpu: "250m" } }), "limits.cpu", "1m", "250"],
    ["limits.cpu as a number", c({ limits: { cpu: 2 } }), "limits.cpu", "1m", "2000"],
    ["limits.memory 64Mi with divisor 1Mi is 64", c({ limits: { memory: "64Mi" } }), "limits.memory", "1Mi", "64"],
    [
      "limits.memory 100M with divisor 1Mi rounds up to 96",
      c({ limits: { memory: "100M" } }),
      "limits.memory",
      "1Mi",
      "96",
    ],
    [
      "limits.memory in bytes without divisor",
      c({ limits: { memory: "1Gi" } }),
      "limits.memory",
      undefined,
      "1073741824",
    ],
    ["a zero divisor means 1", c({ limits: { memory: "1Ki" } }), "limits.memory", "0", "1024"],
    [
      "requests.cpu reads the request",
      c({ requests: { cpu: "100m" }, limits: { cpu: "1" } }),
      "requests.cpu",
      "1m",
      "100",
    ],
    ["a missing request defaults to the limit", c({ limits: { memory: "32Mi" } }), "requests.memory", "1Mi", "32"],
    ["a request with neither request nor limit is 0", c({}), "requests.cpu", "1m", "0"],
    ["no cpu limit reads the node's allocatable", c({}), "limits.cpu", "1m", "4000"],
    ["no memory limit reads the node's allocatable", c({}), "limits.memory", "1Gi", "8"],
    ["a zero limit reads the node's allocatable", c({ limits: { cpu: "0" } }), "limits.cpu", undefined, "4"],
    ["no ephemeral-storage limit reads the node's allocatable", c({}), "limits.ephemeral-storage", "1Gi", "100"],
    [
      "requests.ephemeral-storage",
      c({ requests: { "ephemeral-storage": "2Gi" } }),
      "requests.ephemeral-storage",
      "1Mi",
      "2048",
    ],
    ["limits.hugepages-2Mi", c({ limits: { "hugepages-2Mi": "4Mi" } }), "limits.hugepages-2Mi", "1Mi", "4"],
    ["a missing hugepages limit is 0, not the node's", c({}), "limits.hugepages-2Mi", undefined, "0"],
  ];
  for (const [name, container, resource, divisor, want] of cases) {
    it(name, () => assert.equal(resourceFieldValue(container, resource, divisor, alloc), want));
  }

  it("an unsupported resource fails with upstream's message", () =>
    assert.throws(
      () => resourceFieldValue(c({}), "limits.nvidia.com/gpu", undefined, alloc),
      (e: unknown) =>
        e instanceof ContainerConfigError && e.message === "unsupported container resource : limits.nvidia.com/gpu",
    ));

  it("containerName reads another container's resources", async () => {
    const p = pod({
      containers: [
        { name: "app", resources: { limits: { memory: "64Mi" } } },
        { name: "proxy", resources: { limits: { memory: "16Mi" } } },
      ],
    });
    const env = await envOf(
      {
        name: "app",
        env: [
          { name: "MINE", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
          {
            name: "PROXY",
            valueFrom: { resourceFieldRef: { containerName: "proxy", resource: "limits.memory", divisor: "1Mi" } },
          },
        ],
        resources: { limits: { memory: "64Mi" } },
      },
      p,
    );
    assert.equal(env.get("MINE"), "64");
    assert.equal(env.get("PROXY"), "16");
  });

  it("an unknown containerName fails", async () => {
    assert.equal(
      await envError({
        env: [{ name: "X", valueFrom: { resourceFieldRef: { containerName: "ghost", resource: "limits.cpu" } } }],
      }),
      "container ghost not found",
    );
  });
});

describe("command and args", () => {
  const env = [
    { name: "GREETING", value: "hello" },
    { name: "NAME", value: "world" },
  ];
  it("expands references in command and args, in that order", () => {
    assert.deepEqual(
      containerArgv({ command: ["sh", "-c", "echo $(GREETING)"], args: ["$(NAME)", "$$(NAME)", "$(UNSET)"] }, env),
      ["sh", "-c", "echo hello", "world", "$(NAME)", "$(UNSET)"],
    );
  });
  it("is empty when neither is set (the image's default)", () => assert.deepEqual(containerArgv({}, env), []));
  it("args alone are the argv", () =>
    assert.deepEqual(containerArgv({ args: ["-v", "$(NAME)"] }, env), ["-v", "world"]));
});
