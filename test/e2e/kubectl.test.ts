/**
 * The control-plane user stories, told with the real kubectl against one server: namespaces,
 * create/get/describe/apply/patch/label/annotate/scale/delete, output formats, wait, explain,
 * watch, server-side dry run, and the errors kubectl users see, compared with upstream's wording.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { headerOf, startCluster, type TestCluster } from "./harness.js";
import { FIXTURES, HEADERS, kubectlSkip, objectsOf, parseYaml, show, spawnKubectl } from "./support.js";

const NS = "tutorial";
const seed = (file: string) => join(FIXTURES, "seeds", file);

const deployment = (replicas: number, image = "nginx:1.25") => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${NS}
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: ${image}
`;

const configMap = (name: string, data: Record<string, string>, manager = "") => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: ${NS}${manager}
data: ${JSON.stringify(data)}
`;

const daemonSet = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: busybox}]
`;

const pv = (name: string) => `apiVersion: v1
kind: PersistentVolume
metadata: {name: ${name}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/${name}}
`;

const skip = kubectlSkip();

describe("kubectl user stories", { skip }, () => {
  let cluster: TestCluster;
  /** Runs kubectl and asserts it succeeded; returns stdout. */
  const ok = async (args: string[], stdin?: string): Promise<string> => {
    const r = await cluster.kubectl(args, { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}\n${show(r)}`);
    return r.stdout;
  };
  /** Runs kubectl and asserts it failed; returns stderr. */
  const fails = async (args: string[], stdin?: string): Promise<string> => {
    const r = await cluster.kubectl(args, { stdin });
    assert.notEqual(r.code, 0, `kubectl ${args.join(" ")} should fail\n${show(r)}`);
    return r.stderr;
  };

  before(async () => {
    cluster = await startCluster();
  });
  after(async () => {
    await cluster?.stop();
  });

  describe("namespaces", () => {
    it("get ns lists the four system namespaces, all Active", async () => {
      const out = await ok(["get", "ns"]);
      assert.deepEqual(headerOf(out), HEADERS["Namespace"]);
      const rows = out.trim().split("\n").slice(1);
      const status = new Map(rows.map((r) => r.split(/\s+/) as [string, string]));
      for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
        assert.equal(status.get(ns), "Active", out);
      }
    });

    it("create namespace prints namespace/<name> created and the namespace is Active", async () => {
      assert.equal(await ok(["create", "namespace", NS]), `namespace/${NS} created\n`);
      assert.match(await ok(["get", "ns", NS]), new RegExp(`^${NS}\\s+Active\\s+\\d+s$`, "m"));
    });
  });

  describe("create, get, describe", () => {
    it("create -f of a deployment prints deployment.apps/web created and get shows the deployment header", async () => {
      assert.equal(await ok(["create", "-f", "-"], deployment(1)), "deployment.apps/web created\n");
      const out = await ok(["get", "deploy", "web", "-n", NS]);
      assert.deepEqual(headerOf(out), HEADERS["Deployment"]);
      assert.match(out, /^web\s+0\/1\s+/m);
    });

    it("describe deployment prints Name:, Namespace:, Replicas: and Events: as kubectl does", async () => {
      const out = await ok(["describe", "deployment", "web", "-n", NS]);
      assert.match(out, /^Name:\s+web$/m);
      assert.match(out, /^Namespace:\s+tutorial$/m);
      assert.match(out, /^Replicas:\s+1 desired \| \d+ updated \| \d+ total \| \d+ available \| \d+ unavailable$/m);
      assert.match(out, /^Events:/m);
    });

    it("describe pod prints Name:, Namespace:, Status: and Events:", async () => {
      await ok(["create", "-n", NS, "-f", seed("003-pod-mypod.yaml")]);
      const out = await ok(["describe", "pod", "mypod", "-n", NS]);
      assert.match(out, /^Name:\s+mypod$/m);
      assert.match(out, /^Namespace:\s+tutorial$/m);
      assert.match(out, /^Status:\s+Pending$/m);
      assert.match(out, /^\s+ClaimName:\s+myclaim$/m);
      assert.match(out, /^Events:/m);
    });

    it("describe pv prints Name:, StorageClass:, Reclaim Policy:, Capacity: and Events:", async () => {
      await ok(["create", "-f", seed("001-pv-pv1.yaml")]);
      const out = await ok(["describe", "pv", "pv1"]);
      assert.match(out, /^Name:\s+pv1$/m);
      assert.match(out, /^StorageClass:\s+slow$/m);
      assert.match(out, /^Reclaim Policy:\s+Recycle$/m);
      assert.match(out, /^Capacity:\s+5Gi$/m);
      assert.match(out, /^Events:/m);
    });

    it("describe quota prints Name:, Namespace: and the Resource/Used/Hard table", async () => {
      assert.equal(
        await ok(["create", "quota", "tutorial-quota", "-n", NS, "--hard=requests.cpu=1,requests.memory=1Gi"]),
        "resourcequota/tutorial-quota created\n",
      );
      const out = await ok(["describe", "quota", "-n", NS]);
      assert.match(out, /^Name:\s+tutorial-quota$/m);
      assert.match(out, /^Namespace:\s+tutorial$/m);
      assert.match(out, /^Resource\s+Used\s+Hard$/m);
    });

    it("describe quota lists each hard resource with its usage", async () => {
      const out = await ok(["describe", "quota", "tutorial-quota", "-n", NS]);
      assert.match(out, /^requests\.cpu\s+0\s+1$/m, out);
      assert.match(out, /^requests\.memory\s+0\s+1Gi$/m, out);
    });
  });

  describe("apply", () => {
    it("client-side apply says created, then configured after a change, then unchanged", async () => {
      assert.equal(await ok(["apply", "-f", "-"], configMap("settings", { a: "1" })), "configmap/settings created\n");
      assert.equal(
        await ok(["apply", "-f", "-"], configMap("settings", { a: "2" })),
        "configmap/settings configured\n",
      );
      assert.equal(await ok(["apply", "-f", "-"], configMap("settings", { a: "2" })), "configmap/settings unchanged\n");
      assert.equal(await ok(["get", "cm", "settings", "-n", NS, "-o", "jsonpath={.data.a}"]), "2");
    });

    it("server-side apply conflicts with another manager unless --force-conflicts", async () => {
      assert.equal(
        await ok(["apply", "--server-side", "-f", "-"], configMap("ssa", { a: "1" })),
        "configmap/ssa serverside-applied\n",
      );
      const other = ["apply", "--server-side", "--field-manager=other", "-f", "-"];
      const err = await fails(other, configMap("ssa", { a: "2" }));
      assert.match(err, /^error: Apply failed with 1 conflict: conflict with "kubectl": \.data\.a$/m);
      assert.equal(
        await ok([...other, "--force-conflicts"], configMap("ssa", { a: "2" })),
        "configmap/ssa serverside-applied\n",
      );
      const cm = parseYaml(await ok(["get", "cm", "ssa", "-n", NS, "-o", "yaml", "--show-managed-fields"]));
      assert.deepEqual(cm["data"], { a: "2" });
      const managers = JSON.stringify((cm["metadata"] as Record<string, unknown>)["managedFields"]);
      assert.match(managers, /"manager":"other"/);
    });
  });

  describe("patch, label, annotate, scale", () => {
    it("patch with --type=strategic, merge and json each print patched and take effect", async () => {
      const target = ["patch", "deployment", "web", "-n", NS];
      const strategic = '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}}';
      assert.equal(await ok([...target, "--type=strategic", "-p", strategic]), "deployment.apps/web patched\n");
      assert.equal(
        await ok([...target, "--type=merge", "-p", '{"metadata":{"labels":{"tier":"front"}}}']),
        "deployment.apps/web patched\n",
      );
      assert.equal(
        await ok([...target, "--type=json", "-p", '[{"op":"replace","path":"/spec/replicas","value":2}]']),
        "deployment.apps/web patched\n",
      );
      const got = await ok([
        "get",
        "deployment",
        "web",
        "-n",
        NS,
        "-o",
        "jsonpath={.spec.replicas} {.metadata.labels.tier} {.spec.template.spec.containers[*].name}={.spec.template.spec.containers[0].image}",
      ]);
      assert.equal(got, "2 front nginx=nginx:1.26");
    });

    it("a patch that changes nothing says (no change)", async () => {
      assert.equal(
        await ok([
          "patch",
          "deployment",
          "web",
          "-n",
          NS,
          "--type=merge",
          "-p",
          '{"metadata":{"labels":{"tier":"front"}}}',
        ]),
        "deployment.apps/web patched (no change)\n",
      );
    });

    it("label and annotate refuse to overwrite without --overwrite, and overwrite with it", async () => {
      const labelErr = await fails(["label", "deployment", "web", "-n", NS, "tier=back"]);
      assert.match(labelErr, /^error: 'tier' already has a value \(front\), and --overwrite is false$/m);
      assert.equal(
        await ok(["label", "deployment", "web", "-n", NS, "tier=back", "--overwrite"]),
        "deployment.apps/web labeled\n",
      );
      assert.equal(await ok(["annotate", "deployment", "web", "-n", NS, "note=a"]), "deployment.apps/web annotated\n");
      const annErr = await fails(["annotate", "deployment", "web", "-n", NS, "note=b"]);
      assert.match(annErr, /'note' already has a value \(a\)/);
      await ok(["annotate", "deployment", "web", "-n", NS, "note=b", "--overwrite"]);
      await ok(["label", "deployment", "web", "-n", NS, "tier-"]);
      const meta = await ok([
        "get",
        "deployment",
        "web",
        "-n",
        NS,
        "-o",
        "jsonpath={.metadata.labels.tier}|{.metadata.annotations.note}",
      ]);
      assert.equal(meta, "|b");
    });

    it("scale sets the replicas of a deployment and of a statefulset, and get shows them", async () => {
      assert.equal(await ok(["scale", "deployment", "web", "-n", NS, "--replicas=4"]), "deployment.apps/web scaled\n");
      assert.equal(await ok(["get", "deployment", "web", "-n", NS, "-o", "jsonpath={.spec.replicas}"]), "4");
      assert.match(await ok(["get", "deployment", "web", "-n", NS]), /^web\s+\d+\/4\s+/m);

      await ok(["create", "-n", NS, "-f", seed("002-statefulset-web.yaml")]);
      assert.equal(
        await ok(["scale", "statefulset", "web", "-n", NS, "--replicas=3"]),
        "statefulset.apps/web scaled\n",
      );
      assert.equal(await ok(["get", "statefulset", "web", "-n", NS, "-o", "jsonpath={.spec.replicas}"]), "3");
      assert.match(await ok(["get", "sts", "web", "-n", NS]), /^web\s+\d+\/3\s+/m);
    });
  });

  describe("output formats", () => {
    before(async () => {
      for (const name of ["out-a", "out-b"]) {
        await ok(["create", "configmap", name, "-n", NS, "--from-literal=k=v"]);
        await ok(["label", "configmap", name, "-n", NS, "e2e=out"]);
      }
    });
    const list = ["get", "configmaps", "-n", NS, "-l", "e2e=out"];

    it("-o json prints a List of the selected objects", async () => {
      const items = objectsOf(await ok([...list, "-o", "json"]));
      assert.deepEqual(
        items.map((i) => [i["kind"], (i["metadata"] as Record<string, unknown>)["name"]]),
        [
          ["ConfigMap", "out-a"],
          ["ConfigMap", "out-b"],
        ],
      );
    });

    it("-o yaml prints a List with apiVersion v1 and the items", async () => {
      const doc = parseYaml(await ok([...list, "-o", "yaml"]));
      assert.equal(doc["kind"], "List");
      assert.equal(doc["apiVersion"], "v1");
      assert.equal((doc["items"] as unknown[]).length, 2);
    });

    it("-o jsonpath='{.items[*].metadata.name}' prints the names separated by spaces", async () => {
      assert.equal(await ok([...list, "-o", "jsonpath={.items[*].metadata.name}"]), "out-a out-b");
    });

    it("-o custom-columns=NAME:.metadata.name prints a NAME column", async () => {
      assert.equal(await ok([...list, "-o", "custom-columns=NAME:.metadata.name"]), "NAME\nout-a\nout-b\n");
    });

    it("-o name prints kind/name", async () => {
      assert.equal(await ok([...list, "-o", "name"]), "configmap/out-a\nconfigmap/out-b\n");
    });
  });

  describe("wait, explain", () => {
    it("wait --for=delete returns once the object is deleted", async () => {
      await ok(["create", "configmap", "doomed", "-n", NS]);
      // -v=6 logs the requests, so the delete is sent only once kubectl is watching.
      const waiting = spawnKubectl(cluster, [
        "wait",
        "--for=delete",
        "configmap/doomed",
        "-n",
        NS,
        "--timeout=20s",
        "-v=6",
      ]);
      try {
        await waiting.waitFor(/watch=true/);
        assert.equal(await ok(["delete", "configmap", "doomed", "-n", NS]), 'configmap "doomed" deleted\n');
        await waiting.waitFor(/^configmap\/doomed condition met$/m);
      } finally {
        waiting.stop();
      }
    });

    it("explain job.spec describes JobSpec of batch/v1", async () => {
      const out = await ok(["explain", "job.spec"]);
      assert.match(out, /^GROUP:\s+batch$/m);
      assert.match(out, /^KIND:\s+Job$/m);
      assert.match(out, /^VERSION:\s+v1$/m);
      assert.match(out, /^FIELD: spec <JobSpec>$/m);
      assert.match(out, /^ {2}backoffLimit\t<integer>$/m);
    });

    it("explain cronjob.spec --api-version=batch/v1beta1 describes the legacy version", async () => {
      const out = await ok(["explain", "cronjob.spec", "--api-version=batch/v1beta1"]);
      assert.match(out, /^KIND:\s+CronJob$/m);
      assert.match(out, /^VERSION:\s+v1beta1$/m);
      assert.match(out, /^FIELD: spec <CronJobSpec>$/m);
      assert.match(out, /^ {2}schedule\t<string> -required-$/m);
    });
  });

  describe("get several kinds at once", () => {
    before(async () => {
      await ok(["create", "job", "pi", "-n", NS, "--image=perl"]);
      await ok(["create", "cronjob", "hello", "-n", NS, "--image=busybox", "--schedule=*/1 * * * *"]);
      await ok(["create", "-n", NS, "-f", seed("004-pvc-mypvc.yaml")]);
      await ok(["create", "-f", seed("002-storageclass-managed-nfs-storage.yaml")]);
      await ok(["autoscale", "deployment", "web", "-n", NS, "--min=1", "--max=5", "--cpu-percent=50"]);
      await ok(["create", "-f", "-"], daemonSet);
    });

    it("get jobs,pv,pvc,sc,quota,hpa,ds,sts,deploy,cronjob -A prints one table per kind with its upstream header", async () => {
      const out = await ok(["get", "jobs,pv,pvc,sc,quota,hpa,ds,sts,deploy,cronjob", "-A"]);
      const tables = out.trim().split(/\n\n+/);
      const byKind = new Map<string, string[]>();
      for (const t of tables) {
        const [header, first] = t.split("\n");
        const cells = (first ?? "").split(/\s+/);
        // An empty NAMESPACE cell leaves "" first, so the NAME cell is second either way.
        const ref = header?.startsWith("NAMESPACE") ? cells[1] : cells[0];
        byKind.set(ref?.split("/")[0] ?? "", headerOf(t));
      }
      const expected: [string, string][] = [
        ["job.batch", "Job"],
        ["persistentvolume", "PersistentVolume"],
        ["persistentvolumeclaim", "PersistentVolumeClaim"],
        ["storageclass.storage.k8s.io", "StorageClass"],
        ["resourcequota", "ResourceQuota"],
        ["horizontalpodautoscaler.autoscaling", "HorizontalPodAutoscaler"],
        ["daemonset.apps", "DaemonSet"],
        ["statefulset.apps", "StatefulSet"],
        ["deployment.apps", "Deployment"],
        ["cronjob.batch", "CronJob"],
      ];
      // kubectl shares one HumanReadableFlags between the per-kind printers, so once a namespaced kind
      // (jobs, first here) turned the NAMESPACE column on, the cluster-scoped tables print it too (empty).
      for (const [ref, kind] of expected) {
        const want = ["NAMESPACE", ...(HEADERS[kind] ?? [])];
        assert.deepEqual(byKind.get(ref), want, `${kind} table in:\n${out}`);
      }
      assert.equal(tables.length, expected.length, out);
    });
  });

  describe("watch and dry run", () => {
    it("get pv -w prints a line for a PV created while watching", async () => {
      const watch = spawnKubectl(cluster, ["get", "pv", "-w"]);
      try {
        await watch.waitFor(/^pv1\s+5Gi/m);
        await ok(["create", "-f", "-"], pv("watched"));
        const out = await watch.waitFor(/^watched\s+1Gi\s+RWO\s+Retain\s+/m);
        assert.deepEqual(headerOf(out), HEADERS["PersistentVolume"]);
      } finally {
        watch.stop();
      }
    });

    it("create --dry-run=server answers as a create would and stores nothing", async () => {
      assert.equal(
        await ok(["create", "--dry-run=server", "-f", "-"], pv("dry")),
        "persistentvolume/dry created (server dry run)\n",
      );
      const err = await fails(["get", "pv", "dry"]);
      assert.equal(err, 'Error from server (NotFound): persistentvolumes "dry" not found\n');
    });

    it("apply --dry-run=server on an existing object changes nothing", async () => {
      await ok(["apply", "--dry-run=server", "-f", "-"], configMap("settings", { a: "dry" }));
      assert.equal(await ok(["get", "cm", "settings", "-n", NS, "-o", "jsonpath={.data.a}"]), "2");
    });
  });

  describe("errors as upstream words them", () => {
    it("replace with a stale resourceVersion is a Conflict", async () => {
      const stale = await ok(["get", "configmap", "settings", "-n", NS, "-o", "yaml"]);
      await ok(["label", "configmap", "settings", "-n", NS, "touched=yes"]);
      const err = await fails(["replace", "-f", "-"], stale);
      assert.equal(
        err,
        'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "settings": ' +
          "the object has been modified; please apply your changes to the latest version and try again\n",
      );
    });

    it("an invalid namespace name is reported with the field, the value and the rule", async () => {
      const err = await fails(["create", "namespace", "Bad_Name"]);
      assert.match(
        err,
        /^The Namespace "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character/m,
      );
    });

    it("getting a missing pod is NotFound", async () => {
      assert.equal(await fails(["get", "pods", "nope"]), 'Error from server (NotFound): pods "nope" not found\n');
    });

    it("creating in a missing namespace is NotFound on the namespace", async () => {
      const err = await fails(
        ["create", "-f", "-"],
        configMap("orphan", {}).replace(`namespace: ${NS}`, "namespace: missing"),
      );
      assert.equal(err, 'Error from server (NotFound): error when creating "STDIN": namespaces "missing" not found\n');
    });

    it("creating an object that exists is AlreadyExists", async () => {
      const err = await fails(["create", "namespace", NS]);
      assert.equal(err, `Error from server (AlreadyExists): namespaces "${NS}" already exists\n`);
    });
  });

  describe("delete", () => {
    it("delete removes objects and get no longer finds them", async () => {
      assert.equal(await ok(["delete", "deployment", "web", "-n", NS]), 'deployment.apps "web" deleted\n');
      assert.equal(
        await ok(["delete", "pv", "pv1", "watched"]),
        'persistentvolume "pv1" deleted\npersistentvolume "watched" deleted\n',
      );
      assert.equal(await ok(["get", "deployment", "-n", NS, "--ignore-not-found", "-o", "name"]), "");
    });

    it("delete -f of a manifest deletes every object in it", async () => {
      const out = await ok(["delete", "-n", NS, "-f", seed("002-statefulset-web.yaml")]);
      assert.equal(out, 'service "nginx" deleted\nstatefulset.apps "web" deleted\n');
    });

    it("delete namespace removes the namespace and what is in it", async () => {
      assert.equal(await ok(["delete", "namespace", NS, "--timeout=10s"]), `namespace "${NS}" deleted\n`);
      assert.equal(await fails(["get", "ns", NS]), `Error from server (NotFound): namespaces "${NS}" not found\n`);
    });
  });
});
