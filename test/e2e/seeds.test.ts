/**
 * Every manifest of the seed tutorials, driven through the real kubectl: create, get (the upstream
 * column header), get -o yaml (what was sent comes back), delete.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { headerOf, startCluster, type TestCluster } from "./harness.js";
import { at, FIXTURES, HEADERS, kubectlSkip, missingFrom, objectsOf, parseYaml, show } from "./support.js";

interface SeedCase {
  file: string;
  /** The objects use a removed apiVersion, which the server serves with a deprecation warning. */
  legacy?: boolean;
  /**
   * The file is `kubectl get -o yaml` output pasted into the tutorial: it carries server-owned
   * fields (uid, creationTimestamp, ...), which a user drops before creating it again.
   */
  pastedOutput?: boolean;
}

const SEEDS: SeedCase[] = [
  { file: "000-storageclass-standard.yaml", pastedOutput: true },
  { file: "000-pvc-claim-standard.yaml" },
  { file: "000-storageclass-gluster-class.yaml" },
  { file: "001-pv-pv1.yaml" },
  { file: "001-pvc-myclaim.yaml" },
  { file: "001-storageclass-standard.yaml" },
  { file: "001-glusterfs-daemonset.yaml", legacy: true },
  { file: "001-heketi-service-account.yaml" },
  { file: "001-heketi-deployment-svc.yaml", legacy: true },
  { file: "001-storageclass-gluster-heketi.yaml" },
  { file: "001-pvc-gluster-heketi.yaml" },
  { file: "001-pod-use-pvc.yaml" },
  { file: "002-statefulset-web.yaml" },
  { file: "002-nfs-client-provisioner.yaml" },
  { file: "002-nfs-client-provisioner-nfs-server.yaml" },
  { file: "002-storageclass-managed-nfs-storage.yaml" },
  { file: "002-test-claim.yaml" },
  { file: "002-test-pod.yaml" },
  { file: "003-pod-mypod.yaml" },
  { file: "003-pv-task-pv-volume.yaml" },
  { file: "003-pvc-task-pv-claim.yaml" },
  { file: "003-pod-task-pv-pod.yaml" },
  { file: "003-secret-ceph-secret.yaml" },
  { file: "003-storageclass-tenx-rbd.yaml" },
  { file: "003-mysqltest-statefulset.yaml", legacy: true },
  { file: "003-pvc-task-pv-claim-tenx-rbd.yaml" },
  { file: "003-pod-task-pv-pod-tenx-rbd.yaml" },
  { file: "003-pvc-task-pv-claim-multi-access.yaml" },
  { file: "003-pod-task-pv-pod-rw.yaml" },
  { file: "003-pod-task-pv-pod-readonly.yaml" },
  { file: "003-pv-resize.yaml", pastedOutput: true },
  { file: "004-pv-mypv.yaml" },
  { file: "004-pvc-mypvc.yaml" },
  { file: "004-pod-test-app.yaml" },
];

/** Namespaces the seeds create (or name) before using them. */
const NAMESPACES = ["tutorial", "test", "test-pvc"];

/** Removed group-versions and the version the server stores and answers `kubectl get` with. */
const PREFERRED: Record<string, string> = {
  "extensions/v1beta1": "apps/v1",
  "apps/v1beta1": "apps/v1",
};

/** What a client may not send on create (a pasted `kubectl get -o yaml`): stripped for the retry. */
function withoutServerFields(obj: Record<string, unknown>): Record<string, unknown> {
  const meta = { ...(obj["metadata"] as Record<string, unknown>) };
  for (const k of ["resourceVersion", "uid", "selfLink", "creationTimestamp", "generation", "managedFields"]) {
    delete meta[k];
  }
  const { status: _status, ...rest } = obj;
  return { ...rest, metadata: meta };
}

/** The part of a manifest the server must keep: everything but apiVersion, kind, status and system metadata. */
function userContent(obj: Record<string, unknown>): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, status: _s, metadata, ...rest } = obj;
  const out: Record<string, unknown> = { ...rest };
  const m: Record<string, unknown> = {};
  for (const k of ["name", "namespace", "labels", "annotations"]) {
    const v = at(metadata, k);
    if (v !== undefined) m[k] = v;
  }
  out["metadata"] = m;
  return out;
}

const skip = kubectlSkip();

describe("seed manifests through kubectl", { skip }, () => {
  let cluster: TestCluster;

  before(async () => {
    // the seeds make their own `standard` classes (minikube's, AWS's): no default class of ours in the way
    cluster = await startCluster({ defaultStorageClass: false });
    for (const ns of NAMESPACES) {
      const r = await cluster.kubectl(["create", "namespace", ns]);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, `namespace/${ns} created\n`);
    }
  });

  after(async () => {
    await cluster?.stop();
  });

  for (const seed of SEEDS) {
    it(`${seed.file}: create, get, get -o yaml and delete behave as upstream`, async () => {
      const path = join(FIXTURES, "seeds", seed.file);
      const parsed = await cluster.kubectl(["create", "--dry-run=client", "-o", "json", "-f", path]);
      assert.equal(parsed.code, 0, show(parsed));
      let objects = objectsOf(parsed.stdout);
      assert.ok(objects.length > 0, "kubectl read no object from the file");

      let source: string[] = ["-f", path];
      let stdin: string | undefined;
      if (seed.pastedOutput) {
        // As a user would: drop what the server owns and create the rest.
        objects = objects.map(withoutServerFields);
        stdin = JSON.stringify({ apiVersion: "v1", kind: "List", items: objects });
        source = ["-f", "-"];
      }

      const created = await cluster.kubectl(["create", ...source], { stdin });
      assert.equal(created.code, 0, show(created));
      for (const obj of objects) {
        assert.match(created.stdout, new RegExp(`/${String(at(obj, "metadata", "name"))} created$`, "m"));
      }
      if (seed.legacy) assert.match(created.stderr, /^Warning: .*deprecated/m, show(created));

      for (const obj of objects) {
        const kind = String(obj["kind"]);
        const name = String(at(obj, "metadata", "name"));
        const ns = at(obj, "metadata", "namespace");
        const nsArgs = typeof ns === "string" ? ["-n", ns] : [];
        const expectedHeader = HEADERS[kind];
        assert.ok(expectedHeader, `no expected header for ${kind}`);

        const table = await cluster.kubectl(["get", kind.toLowerCase(), name, ...nsArgs]);
        assert.equal(table.code, 0, show(table));
        assert.deepEqual(headerOf(table.stdout), expectedHeader, table.stdout);
        assert.equal(table.stdout.split("\n")[1]?.split(/\s+/)[0], name, table.stdout);

        const yaml = await cluster.kubectl(["get", kind.toLowerCase(), name, ...nsArgs, "-o", "yaml"]);
        assert.equal(yaml.code, 0, show(yaml));
        const got = parseYaml(yaml.stdout);
        const sentVersion = String(obj["apiVersion"]);
        assert.equal(got["apiVersion"], PREFERRED[sentVersion] ?? sentVersion);
        assert.equal(got["kind"], kind);
        assert.equal(at(got, "metadata", "namespace"), typeof ns === "string" ? ns : namespacedDefault(kind));
        assert.equal(typeof at(got, "metadata", "uid"), "string");
        assert.equal(typeof at(got, "metadata", "resourceVersion"), "string");
        assert.deepEqual(missingFrom(got, userContent(obj)), [], yaml.stdout);
      }

      const deleted = await cluster.kubectl(["delete", ...source], { stdin, timeoutMs: 20_000 });
      assert.equal(deleted.code, 0, show(deleted));
      for (const obj of objects) {
        assert.match(deleted.stdout, new RegExp(`"${String(at(obj, "metadata", "name"))}" deleted`));
      }
      const gone = await cluster.kubectl(["get", ...source, "--ignore-not-found", "-o", "name"], { stdin });
      assert.equal(gone.code, 0, show(gone));
      assert.equal(gone.stdout, "", "objects still there after kubectl delete");
    });
  }
});

const CLUSTER_SCOPED = new Set(["PersistentVolume", "StorageClass", "Namespace"]);

/** The namespace kubectl puts a namespaced object without one in (the kubeconfig context's: default). */
function namespacedDefault(kind: string): string | undefined {
  return CLUSTER_SCOPED.has(kind) ? undefined : "default";
}
