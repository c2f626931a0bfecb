/**
 * StatefulSets through the real kubectl on a server with an embedded `sim` node: the seed 002
 * `web` set without volumeClaimTemplates (apply, ordered pods, get, scale, patch, set image,
 * rollout status/history/undo/restart, delete), and with its claim template, whose claim no PV
 * binds: web-0 stays Pending and web-1 is never made.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { TestCluster } from "./harness.js";
import { FIXTURES, kubectlOk, kubectlSkip, simCluster, until } from "./support.js";

const SEED = readFileSync(join(FIXTURES, "seeds", "002-statefulset-web.yaml"), "utf8");
/** The seed without its volumeClaimTemplates (and the mount of it): pods that can run without a PV. */
const WITHOUT_CLAIMS = SEED.split("  volumeClaimTemplates:")[0]!.replace(
  /\n {8}volumeMounts:\n {8}- name: www\n {10}mountPath: \/usr\/share\/nginx\/html/,
  "",
);

describe("StatefulSets with kubectl", { skip: kubectlSkip() }, () => {
  let c: TestCluster;
  before(async () => {
    // no default StorageClass: seed 002's claims find no volume until one exists
    c = await simCluster({ defaultStorageClass: false });
  });
  after(async () => {
    await c?.stop();
  });

  const k = kubectlOk(() => c);
  /** The messages of the StatefulSets' events. */
  const setEvents = () =>
    k("get", "events", "--field-selector", "involvedObject.kind=StatefulSet", "-o", "jsonpath={.items[*].message}");
  /** name → phase of the pods with a name prefix, in a namespace. */
  const pods = async (ns: string) => {
    const out = await k(
      "get",
      "pods",
      "-n",
      ns,
      "-o",
      'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.metadata.deletionTimestamp}{"\\n"}{end}',
    );
    return out
      .trim()
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split(" "))
      .filter(([, , deleting]) => !deleting)
      .map(([name, phase]) => `${name}=${phase}`)
      .sort();
  };
  const podsAre = (ns: string, want: string[]) =>
    until(`pods to be ${JSON.stringify(want)}`, async () => {
      const got = await pods(ns);
      return JSON.stringify(got) === JSON.stringify(want) ? got : undefined;
    });

  it("apply the seed without claims: web-0 then web-1 Running; get sts shows 2/2", async () => {
    const applied = await c.kubectl(["apply", "-f", "-"], { stdin: WITHOUT_CLAIMS });
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stdout, "service/nginx created\nstatefulset.apps/web created\n");
    await podsAre("default", ["web-0=Running", "web-1=Running"]);
    const sts = await until("web 2/2", async () => {
      const out = await k("get", "sts", "web");
      return /\nweb\s+2\/2\s/.test(out) ? out : undefined;
    });
    assert.match(sts, /^NAME\s+READY\s+AGE\nweb\s+2\/2\s+\d+s\n$/);
    const hostname = await k("get", "pod", "web-1", "-o", "jsonpath={.spec.hostname}.{.spec.subdomain}");
    assert.equal(hostname, "web-1.nginx");
    const labels = JSON.parse(await k("get", "pod", "web-1", "-o", "jsonpath={.metadata.labels}")) as Record<
      string,
      string
    >;
    assert.equal(labels["statefulset.kubernetes.io/pod-name"], "web-1");
    assert.equal(labels["apps.kubernetes.io/pod-index"], "1");
    assert.match(labels["controller-revision-hash"] ?? "", /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    const events = await setEvents();
    assert.match(events, /create Pod web-0 in StatefulSet web successful/);
    assert.match(events, /create Pod web-1 in StatefulSet web successful/);
  });

  it("scale to 3 makes web-2; patch to 1 removes web-2 and web-1", async () => {
    assert.equal(await k("scale", "statefulsets/web", "--replicas=3"), "statefulset.apps/web scaled\n");
    await podsAre("default", ["web-0=Running", "web-1=Running", "web-2=Running"]);
    assert.equal(await k("patch", "sts", "web", "-p", '{"spec":{"replicas":1}}'), "statefulset.apps/web patched\n");
    await podsAre("default", ["web-0=Running"]);
    await until("web 1/1", async () => (/\nweb\s+1\/1\s/.test(await k("get", "sts", "web")) ? true : undefined));
    const events = await setEvents();
    assert.match(events, /delete Pod web-2 in StatefulSet web successful/);
    assert.match(events, /delete Pod web-1 in StatefulSet web successful/);
  });

  it("set image → rollout status complete at the new revision; history lists both revisions", async () => {
    const before = await k("get", "sts", "web", "-o", "jsonpath={.status.updateRevision}");
    assert.equal(await k("set", "image", "sts/web", "nginx=nginx:1.9"), "statefulset.apps/web image updated\n");
    const status = await k("rollout", "status", "sts/web", "--timeout=60s");
    // the defaulted RollingUpdate has a partition (0): kubectl's StatefulSetStatusViewer says so
    assert.match(status, /partitioned roll out complete: 1 new pods have been updated\.\.\.\n$/);
    const revs = await until("the rollout at a new revision", async () => {
      const s = JSON.parse(await k("get", "sts", "web", "-o", "jsonpath={.status}")) as Record<string, unknown>;
      return s["currentRevision"] === s["updateRevision"] && s["updateRevision"] !== before ? s : undefined;
    });
    assert.equal(
      await k("get", "pod", "web-0", "-o", "jsonpath={.metadata.labels.controller-revision-hash}"),
      revs["updateRevision"],
    );
    assert.equal(await k("get", "pod", "web-0", "-o", "jsonpath={.spec.containers[0].image}"), "nginx:1.9");
    const history = await k("rollout", "history", "sts/web");
    assert.match(history, /^statefulset\.apps\/web \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    assert.match(await k("rollout", "history", "sts/web", "--revision=2"), /Image:\s+nginx:1\.9/);
    const crs = await k("get", "controllerrevisions", "--no-headers");
    assert.match(crs, new RegExp(`^${before}\\s+statefulset\\.apps/web\\s+1\\s`, "m"));
    assert.match(crs, new RegExp(`^${String(revs["updateRevision"])}\\s+statefulset\\.apps/web\\s+2\\s`, "m"));
  });

  it("rollout undo puts nginx:1.8 back (revision 1 renumbered 3); rollout restart rolls a 4th", async () => {
    assert.equal(await k("rollout", "undo", "sts/web"), "statefulset.apps/web rolled back\n");
    assert.match(await k("rollout", "status", "sts/web", "--timeout=60s"), /partitioned roll out complete/);
    assert.equal(await k("get", "sts", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"), "nginx:1.8");
    await until("web-0 back on nginx:1.8", async () =>
      (await k("get", "pod", "web-0", "-o", "jsonpath={.spec.containers[0].image}")) === "nginx:1.8" ? true : undefined,
    );
    assert.match(await k("rollout", "history", "sts/web"), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);
    const uid = await k("get", "pod", "web-0", "-o", "jsonpath={.metadata.uid}");
    assert.equal(await k("rollout", "restart", "sts/web"), "statefulset.apps/web restarted\n");
    assert.match(await k("rollout", "status", "sts/web", "--timeout=60s"), /partitioned roll out complete/);
    await until("web-0 restarted and Running", async () => {
      const now = await c.kubectl(["get", "pod", "web-0", "-o", "jsonpath={.metadata.uid} {.status.phase}"]);
      return now.code === 0 && !now.stdout.startsWith(uid) && now.stdout.endsWith(" Running") ? true : undefined;
    });
    assert.match(await k("rollout", "history", "sts/web"), /\n4\s+<none>\n/);
  });

  it("delete sts takes its pods along", async () => {
    assert.equal(await k("delete", "sts", "web"), 'statefulset.apps "web" deleted\n');
    await podsAre("default", []);
    await k("delete", "service", "nginx");
  });

  it("the seed with its claim template: www-web-0 Pending, web-0 Pending, no web-1, get sts shows 0/2", async () => {
    await k("create", "namespace", "claims");
    const applied = await c.kubectl(["apply", "-n", "claims", "-f", "-"], { stdin: SEED });
    assert.equal(applied.code, 0, applied.stderr);
    await podsAre("claims", ["web-0=Pending"]);
    const pvc = await until("www-web-0 Pending", async () => {
      const out = await k("get", "pvc", "-n", "claims");
      return /\nwww-web-0\s+Pending\s/.test(out) ? out : undefined;
    });
    assert.match(
      pvc,
      /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE\n/,
    );
    assert.equal(pvc.trim().split("\n").length, 2);
    const describe = await until("web-0's FailedScheduling event", async () => {
      const out = await k("describe", "pod", "web-0", "-n", "claims");
      // as seed 002 shows: the scheduler's VolumeBinding keeps it off every node
      return /Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/1 nodes are available: pod has unbound immediate PersistentVolumeClaims/.test(
        out,
      )
        ? out
        : undefined;
    });
    assert.match(describe, /ClaimName:\s+www-web-0/);
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(await pods("claims"), ["web-0=Pending"]);
    assert.match(await k("get", "sts", "web", "-n", "claims"), /\nweb\s+0\/2\s+\d+s\n$/);
    const events = await k(
      "get",
      "events",
      "-n",
      "claims",
      "--field-selector",
      "involvedObject.kind=StatefulSet",
      "-o",
      "jsonpath={.items[*].message}",
    );
    assert.match(events, /create Claim www-web-0 Pod web-0 in StatefulSet web success/);
  });

  it("once a default class exists the claims get it (retroactively), volumes are provisioned, web-0 then web-1 run", async () => {
    const sc = await c.kubectl(["create", "-f", "-"], {
      stdin: `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: k8ts.io/local-path
reclaimPolicy: Delete
`,
    });
    assert.equal(sc.stdout.trim(), "storageclass.storage.k8s.io/standard created", sc.stderr);
    await podsAre("claims", ["web-0=Running", "web-1=Running"]);
    const pvcs = await k("get", "pvc", "-n", "claims", "--no-headers");
    assert.match(pvcs, /^www-web-0\s+Bound\s+pvc-[0-9a-f-]{36}\s+1Gi\s+RWO\s+standard\s/m);
    assert.match(pvcs, /^www-web-1\s+Bound\s+pvc-[0-9a-f-]{36}\s+1Gi\s+RWO\s+standard\s/m);
    // the claims stay (Retain) when the set goes
    await k("delete", "sts", "web", "-n", "claims");
    await podsAre("claims", []);
    assert.match(await k("get", "pvc", "-n", "claims", "--no-headers"), /^www-web-0\s+Bound\s/);
  });
});
