/**
 * Persistent storage through the real kubectl, as the seeds show it: static PV/PVC binding and the
 * upstream columns (seed 000), reclaim (Recycle scrubs, Retain keeps, Delete of provisioned
 * volumes), the default class `standard` of k8ts.io/local-path and dynamic provisioning,
 * protection (Terminating while used), expansion, StorageClass immutability, seed 001's class that
 * does not exist, seed 002's NFS subdir provisioner on an export stand-in, seed 003's PV capacity
 * edit and reclaim policy patch; then on runc the data paths: a pod writing into a hostPath PV,
 * a local-path volume, seed 002's test-pod writing SUCCESS into the export, seed 003's writer and
 * reader sharing a ReadWriteOnce+ReadOnlyMany claim.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runcAvailability } from "../../src/kubelet/runtime/runc/availability.js";
import { startCluster, type TestCluster } from "./harness.js";
import { FIXTURES, kubectlOk, kubectlSkip, simCluster, until } from "./support.js";

const seed = (f: string) => readFileSync(join(FIXTURES, "seeds", f), "utf8");

/** Seed 000 names resources/pv_hostpath.yaml and resources/pvc.yaml and shows what they make. */
const pvHostPath = (path: string) => `apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-hostpath
spec:
  storageClassName: standard
  capacity:
    storage: 10Gi
  accessModes:
    - ReadWriteMany
  persistentVolumeReclaimPolicy: Recycle
  hostPath:
    path: ${path}
`;
const PVC = `kind: PersistentVolumeClaim
apiVersion: v1
metadata:
  name: myclaim
spec:
  accessModes:
    - ReadWriteMany
  resources:
    requests:
      storage: 8Gi
`;
const podWithPvc = (image: string) => `apiVersion: v1
kind: Pod
metadata:
  name: pod-with-pvc
spec:
  containers:
  - name: web
    image: ${image}
    volumeMounts:
    - name: www
      mountPath: /var/www/html
  volumes:
  - name: www
    persistentVolumeClaim:
      claimName: myclaim
`;

/** A busybox pod with the claim mounted at /data; `spec` adds lines to its spec. */
const podUsing = (name: string, claim: string, spec = "") => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
${spec}  containers:
  - name: c
    image: busybox
    volumeMounts:
    - name: d
      mountPath: /data
  volumes:
  - name: d
    persistentVolumeClaim:
      claimName: ${claim}
`;

const NFS_SERVER = "172.20.70.205";
const NFS_EXPORT = "/data/nfs/k8s";

describe("storage with kubectl (a simulated node)", { skip: kubectlSkip() }, () => {
  let c: TestCluster;
  const scratch = mkdtempSync(join(tmpdir(), "k8ts-e2e-storage-"));
  const exportDir = join(scratch, "export");
  before(async () => {
    mkdirSync(exportDir, { recursive: true });
    writeFileSync(join(exportDir, "nfs_test.txt"), "nfs test\n");
    c = await simCluster({ nfsExports: [{ server: NFS_SERVER, path: NFS_EXPORT, root: exportDir }] });
  });
  after(async () => {
    await c?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });
  const k = kubectlOk(() => c);
  const create = async (yaml: string, ...args: string[]) => {
    const r = await c.kubectl(["create", ...args, "-f", "-"], { stdin: yaml });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const rowOf = async (what: string, name: string, ...args: string[]) =>
    (await k("get", what, ...args, "--no-headers")).split("\n").find((l) => l.startsWith(`${name} `)) ?? "";
  const waitRow = (what: string, name: string, re: RegExp, ...args: string[]) =>
    until(`${what} ${name} ${re}`, async () => {
      const r = await rowOf(what, name, ...args);
      return re.test(r) ? r : undefined;
    });

  it("kubectl get storageclass: standard (default), k8ts.io/local-path, as seed 000 shows minikube's", async () => {
    const out = await k("get", "storageclass");
    assert.match(out, /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE\n/);
    assert.match(out, /\nstandard \(default\)\s+k8ts\.io\/local-path\s+Delete\s+Immediate\s+true\s+\d+s\n/);
    const yaml = await k("get", "storageclass", "standard", "-o", "yaml");
    assert.match(yaml, /storageclass\.kubernetes\.io\/is-default-class: "true"/);
    assert.match(yaml, /\nreclaimPolicy: Delete\n/);
    assert.match(yaml, /\nvolumeBindingMode: Immediate\n/);
  });

  it("seed 000: the hostPath PV is Available, myclaim binds to it; the upstream columns", async () => {
    const data1 = join(scratch, "data1");
    mkdirSync(data1);
    assert.equal(await create(pvHostPath(data1)), "persistentvolume/pv-hostpath created\n");
    const header = await k("get", "pv");
    assert.match(
      header,
      /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE\n/,
    );
    await waitRow("pv", "pv-hostpath", /^pv-hostpath\s+10Gi\s+RWX\s+Recycle\s+Available\s+standard\s+<unset>\s+\d+s$/);
    assert.equal(await create(PVC), "persistentvolumeclaim/myclaim created\n");
    await waitRow(
      "pv",
      "pv-hostpath",
      /^pv-hostpath\s+10Gi\s+RWX\s+Recycle\s+Bound\s+default\/myclaim\s+standard\s+<unset>\s+\d+s$/,
    );
    await waitRow("pvc", "myclaim", /^myclaim\s+Bound\s+pv-hostpath\s+10Gi\s+RWX\s+standard\s+<unset>\s+\d+s$/);
    const d = await k("describe", "pvc", "myclaim");
    assert.match(
      d,
      /Annotations:\s+pv\.kubernetes\.io\/bind-completed: yes\n\s+pv\.kubernetes\.io\/bound-by-controller: yes\n/,
    );
    assert.match(d, /Finalizers:\s+\[kubernetes\.io\/pvc-protection\]/);
  });

  it("a claim used by a pod stays Terminating until the pod goes (pvc-protection)", async () => {
    assert.equal(await create(podWithPvc("nginx")), "pod/pod-with-pvc created\n");
    await until("pod-with-pvc Running", async () =>
      /\sRunning\s/.test(await rowOf("pods", "pod-with-pvc")) ? true : undefined,
    );
    assert.match(await k("describe", "pvc", "myclaim"), /Used By:\s+pod-with-pvc\n/);
    writeFileSync(join(scratch, "data1", "index.html"), "hello");
    const del = await c.kubectl(["delete", "pvc", "myclaim", "--wait=false"]);
    assert.equal(del.stdout, 'persistentvolumeclaim "myclaim" deleted\n', del.stderr);
    await waitRow("pvc", "myclaim", /^myclaim\s+Terminating\s+pv-hostpath\s+10Gi\s+RWX\s+standard\s/);
    await new Promise((r) => setTimeout(r, 500));
    assert.match(await rowOf("pvc", "myclaim"), /Terminating/);
    await k("delete", "pod", "pod-with-pvc", "--grace-period=0", "--force");
    await until("myclaim gone", async () => ((await rowOf("pvc", "myclaim")) === "" ? true : undefined));
  });

  it("Recycle: the released PV is scrubbed and Available again (seed 000's Released, then reclaimed)", async () => {
    await waitRow("pv", "pv-hostpath", /^pv-hostpath\s+10Gi\s+RWX\s+Recycle\s+Available\s/);
    assert.deepEqual(readdirSync(join(scratch, "data1")), []);
    assert.match(
      await k("describe", "pv", "pv-hostpath"),
      /Normal\s+VolumeRecycled\s+\S+\s+persistentvolume-controller\s+Volume recycled/,
    );
    assert.equal(await k("delete", "pv", "pv-hostpath"), 'persistentvolume "pv-hostpath" deleted\n');
  });

  it("seed 000's claim-standard: a pvc-<uid> PV of class standard is made and bound; deleting the claim deletes it", async () => {
    assert.equal(await create(seed("000-pvc-claim-standard.yaml")), "persistentvolumeclaim/claim-standard created\n");
    const pvc = await waitRow(
      "pvc",
      "claim-standard",
      /^claim-standard\s+Bound\s+pvc-[0-9a-f-]{36}\s+8Gi\s+RWO\s+standard\s/,
    );
    const pvName = pvc.split(/\s+/)[2]!;
    const uid = await k("get", "pvc", "claim-standard", "-o", "jsonpath={.metadata.uid}");
    assert.equal(pvName, `pvc-${uid}`);
    await waitRow("pv", pvName, /\s8Gi\s+RWO\s+Delete\s+Bound\s+default\/claim-standard\s+standard\s/);
    const d = await k("describe", "pvc", "claim-standard");
    assert.match(d, /Normal\s+ProvisioningSucceeded\s+.*Successfully provisioned volume pvc-/);
    const pv = await k("describe", "pv", pvName);
    assert.match(pv, /pv\.kubernetes\.io\/provisioned-by: k8ts\.io\/local-path/);
    assert.match(pv, /Type:\s+LocalVolume/);
    assert.match(pv, /Term 0:\s+kubernetes\.io\/hostname in \[k8ts-node\]/);
    await k("delete", "pvc", "claim-standard");
    await until("the PV gone", async () => ((await rowOf("pv", pvName)) === "" ? true : undefined));
  });

  it("expansion: local-path grows online; a class without allowVolumeExpansion is refused as upstream", async () => {
    await create(`apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`);
    await waitRow("pvc", "data", /^data\s+Bound\s+\S+\s+1Gi\s/);
    assert.equal(
      await k("patch", "pvc", "data", "-p", '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}'),
      "persistentvolumeclaim/data patched\n",
    );
    await waitRow("pvc", "data", /^data\s+Bound\s+\S+\s+2Gi\s/);
    const pvName = await k("get", "pvc", "data", "-o", "jsonpath={.spec.volumeName}");
    assert.equal(await k("get", "pv", pvName, "-o", "jsonpath={.spec.capacity.storage}"), "2Gi");
    const shrink = await c.kubectl([
      "patch",
      "pvc",
      "data",
      "-p",
      '{"spec":{"resources":{"requests":{"storage":"1Gi"}}}}',
    ]);
    assert.notEqual(shrink.code, 0);
    assert.match(
      shrink.stderr,
      /spec\.resources\.requests\.storage: Forbidden: field can not be less than status\.capacity/,
    );
    // a static volume (no class that allows expansion)
    await create(`apiVersion: v1
kind: PersistentVolume
metadata:
  name: fixed
spec:
  storageClassName: manual
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  hostPath:
    path: ${join(scratch, "fixed")}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: fixed
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`);
    await waitRow("pvc", "fixed", /^fixed\s+Bound\s/);
    const grow = await c.kubectl([
      "patch",
      "pvc",
      "fixed",
      "-p",
      '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}',
    ]);
    assert.equal(
      grow.stderr.trim(),
      'Error from server (Forbidden): persistentvolumeclaims "fixed" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    );
  });

  it("seed 003: an administrator's PV capacity edit shows in the claim; patching the reclaim policy to Retain keeps the volume", async () => {
    assert.equal(
      await k("patch", "pv", "fixed", "-p", '{"spec":{"capacity":{"storage":"3Gi"}}}'),
      "persistentvolume/fixed patched\n",
    );
    await waitRow("pvc", "fixed", /^fixed\s+Bound\s+fixed\s+3Gi\s/);
    const pvName = await k("get", "pvc", "data", "-o", "jsonpath={.spec.volumeName}");
    assert.equal(
      await k("patch", "pv", pvName, "-p", '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'),
      `persistentvolume/${pvName} patched\n`,
    );
    await k("delete", "pvc", "data");
    await waitRow("pv", pvName, /\s2Gi\s+RWO\s+Retain\s+Released\s+default\/data\s+standard\s/);
  });

  it("StorageClass parameters and provisioner cannot change (upstream's message)", async () => {
    const r = await c.kubectl(["patch", "sc", "standard", "-p", '{"parameters":{"a":"b"}}']);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /The StorageClass "standard" is invalid: parameters: Forbidden: updates to parameters are forbidden\./,
    );
  });

  it("seed 001: a claim of a class that does not exist stays Pending and says why", async () => {
    await create(seed("001-pvc-myclaim.yaml"));
    await waitRow("pvc", "myclaim", /^myclaim\s+Pending\s+slow\s/);
    const d = await until("ProvisioningFailed", async () => {
      const out = await k("describe", "pvc", "myclaim");
      return /ProvisioningFailed/.test(out) ? out : undefined;
    });
    assert.match(
      d,
      /Warning\s+ProvisioningFailed\s+\S+\s+persistentvolume-controller\s+storageclass\.storage\.k8s\.io "slow" not found/,
    );
    await k("delete", "pvc", "myclaim");
  });

  it("WaitForFirstConsumer: the claim waits for its pod; the scheduler picks the node, the volume is made there", async () => {
    await create(`apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-late
provisioner: k8ts.io/local-path
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: late
spec:
  storageClassName: local-late
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`);
    await waitRow("pvc", "late", /^late\s+Pending\s+local-late\s/);
    const waiting = await until("WaitForFirstConsumer", async () => {
      const out = await k("describe", "pvc", "late");
      return /WaitForFirstConsumer/.test(out) ? out : undefined;
    });
    assert.match(
      waiting,
      /Normal\s+WaitForFirstConsumer\s+\S+\s+persistentvolume-controller\s+waiting for first consumer to be created before binding/,
    );
    await create(podUsing("late-user", "late"));
    await waitRow("pvc", "late", /^late\s+Bound\s+pvc-[0-9a-f-]{36}\s+1Gi\s+RWO\s+local-late\s/);
    assert.equal(
      await k("get", "pvc", "late", "-o", "jsonpath={.metadata.annotations.volume\\.kubernetes\\.io/selected-node}"),
      "k8ts-node",
    );
    await until("late-user Running", async () =>
      /\sRunning\s/.test(await rowOf("pods", "late-user")) ? true : undefined,
    );
    await k("delete", "pod", "late-user", "--grace-period=0", "--force");
    await k("delete", "pvc", "late");
  });

  it("a pod placed on the node with an unbound claim waits (FailedMount) and starts once the claim binds", async () => {
    await create(`apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: later
spec:
  storageClassName: manual-later
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`);
    await create(podUsing("early", "later", "  nodeName: k8ts-node\n"));
    const d = await until("FailedMount", async () => {
      const out = await k("describe", "pod", "early");
      return /FailedMount/.test(out) ? out : undefined;
    });
    assert.match(d, /Warning\s+FailedMount\s+.*error processing PVC default\/later: PVC is not bound/);
    assert.match(await rowOf("pods", "early"), /^early\s+0\/1\s+ContainerCreating\s/);
    await create(`apiVersion: v1
kind: PersistentVolume
metadata:
  name: later
spec:
  storageClassName: manual-later
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  hostPath:
    path: ${join(scratch, "later")}
`);
    await until(
      "early Running",
      async () => (/\sRunning\s/.test(await rowOf("pods", "early")) ? true : undefined),
      60_000,
    );
    await k("delete", "pod", "early", "--grace-period=0", "--force");
  });

  it("seed 002: the NFS subdir provisioner makes default/ in the export for test-claim; deleting the claim removes it", async () => {
    const sc = await create(seed("002-storageclass-managed-nfs-storage.yaml"));
    assert.equal(sc, "storageclass.storage.k8s.io/managed-nfs-storage created\n");
    assert.match(
      await k("get", "sc", "managed-nfs-storage"),
      /\nmanaged-nfs-storage\s+k8s-sigs\.io\/nfs-subdir-external-provisioner\s+Delete\s+Immediate\s+false\s+\d+s\n/,
    );
    await create(seed("002-test-claim.yaml"));
    const pvc = await waitRow(
      "pvc",
      "test-claim",
      /^test-claim\s+Bound\s+pvc-[0-9a-f-]{36}\s+1Mi\s+RWX\s+managed-nfs-storage\s/,
    );
    const pvName = pvc.split(/\s+/)[2]!;
    await waitRow("pv", pvName, /\s1Mi\s+RWX\s+Delete\s+Bound\s+default\/test-claim\s+managed-nfs-storage\s/);
    assert.equal(
      await k("get", "pv", pvName, "-o", "jsonpath={.spec.nfs.server} {.spec.nfs.path}"),
      `${NFS_SERVER} ${NFS_EXPORT}/default`,
    );
    assert.ok(existsSync(join(exportDir, "default")), "the export has default/");
    writeFileSync(join(exportDir, "default", "SUCCESS"), "");
    await k("delete", "pvc", "test-claim");
    await until("the PV gone", async () => ((await rowOf("pv", pvName)) === "" ? true : undefined));
    assert.ok(!existsSync(join(exportDir, "default")), "onDelete: delete removed the directory");
    assert.deepEqual(readdirSync(exportDir), ["nfs_test.txt"]);
  });
});

const runc = runcAvailability();

describe("storage data paths on runc", {
  skip: kubectlSkip() || (runc.ok ? false : `runc cannot run here: ${runc.reason}`),
}, () => {
  let c: TestCluster;
  const scratch = mkdtempSync(join(tmpdir(), "k8ts-e2e-storage-runc-"));
  const exportDir = join(scratch, "export");
  before(async () => {
    mkdirSync(exportDir, { recursive: true });
    c = await startCluster({ agent: "runc", nfsExports: [{ server: NFS_SERVER, path: NFS_EXPORT, root: exportDir }] });
  });
  after(async () => {
    await c?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });
  const k = kubectlOk(() => c);
  const create = async (yaml: string) => {
    const r = await c.kubectl(["create", "-f", "-"], { stdin: yaml });
    assert.equal(r.code, 0, r.stderr);
  };
  const phase = (pod: string) => k("get", "pod", pod, "-o", "jsonpath={.status.phase}").catch(() => "");
  const running = (pod: string) =>
    until(`${pod} Running`, async () => ((await phase(pod)) === "Running" ? true : undefined), 90_000);

  it("seed 000: kubectl exec pod-with-pvc -- touch /var/www/html/index.html lands in the PV's hostPath", async () => {
    const data1 = join(scratch, "data1");
    await create(pvHostPath(data1));
    await create(PVC);
    await create(podWithPvc("nginx"));
    await running("pod-with-pvc");
    const ex = await c.kubectl(["exec", "pod-with-pvc", "--", "touch", "/var/www/html/index.html"]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.ok(existsSync(join(data1, "index.html")), "ls /tmp/data1/ shows index.html");
    await k("delete", "pod", "pod-with-pvc", "--grace-period=1");
    assert.match(await k("get", "pvc", "myclaim", "--no-headers"), /^myclaim\s+Bound\s+pv-hostpath\s/);
  });

  it("a local-path volume: the pod's file is in <data-dir>/storage/pvc-<uid>_default_<claim>", async () => {
    await create(`apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: local
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: v1
kind: Pod
metadata:
  name: writer
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "echo hello > /data/hello"]
    volumeMounts:
    - name: d
      mountPath: /data
  volumes:
  - name: d
    persistentVolumeClaim:
      claimName: local
`);
    await until("writer Succeeded", async () => ((await phase("writer")) === "Succeeded" ? true : undefined), 90_000);
    const pvName = await k("get", "pvc", "local", "-o", "jsonpath={.spec.volumeName}");
    const dir = join(c.dataDir, "storage", `${pvName}_default_local`);
    assert.equal(readFileSync(join(dir, "hello"), "utf8"), "hello\n");
    await k("delete", "pod", "writer");
    await k("delete", "pvc", "local");
    await until("the directory removed with the volume", async () => (existsSync(dir) ? undefined : true), 30_000);
  });

  it("seed 002's provisioner Deployment mounts the export with its own nfs volume", async () => {
    writeFileSync(join(exportDir, "nfs_test.txt"), "nfs test\n");
    await k("create", "serviceaccount", "nfs-client-provisioner");
    await create(seed("002-nfs-client-provisioner.yaml"));
    const pod = await until(
      "the provisioner pod Running",
      async () => {
        const out = await k("get", "pods", "-l", "app=nfs-client-provisioner", "--no-headers");
        return /\s1\/1\s+Running\s/.test(out) ? out.split(/\s+/)[0] : undefined;
      },
      90_000,
    );
    const cat = await c.kubectl(["exec", pod, "--", "cat", "/persistentvolumes/nfs_test.txt"]);
    assert.equal(cat.stdout, "nfs test\n", cat.stderr);
    await k("delete", "deployment", "nfs-client-provisioner");
  });

  it("seed 002: test-pod touches /mnt/SUCCESS: it is <export>/default/SUCCESS", async () => {
    await create(seed("002-storageclass-managed-nfs-storage.yaml"));
    await create(seed("002-test-claim.yaml"));
    await create(seed("002-test-pod.yaml"));
    await until(
      "test-pod Succeeded",
      async () => ((await phase("test-pod")) === "Succeeded" ? true : undefined),
      90_000,
    );
    assert.ok(existsSync(join(exportDir, "default", "SUCCESS")));
    const del = await c.kubectl(["delete", "-f", "-"], {
      stdin: `${seed("002-test-pod.yaml")}\n---\n${seed("002-test-claim.yaml")}`,
    });
    assert.equal(del.stdout, 'pod "test-pod" deleted\npersistentvolumeclaim "test-claim" deleted\n', del.stderr);
    await until("default/ removed", async () => (existsSync(join(exportDir, "default")) ? undefined : true), 30_000);
  });

  it("seed 003: one writer and one read-only reader share a ReadWriteOnce+ReadOnlyMany claim", async () => {
    const shared = join(scratch, "shared");
    await create(`apiVersion: v1
kind: PersistentVolume
metadata:
  name: shared
spec:
  storageClassName: tenx
  capacity:
    storage: 3Gi
  accessModes: [ReadWriteOnce, ReadOnlyMany]
  hostPath:
    path: ${shared}
    type: DirectoryOrCreate
`);
    const claim = seed("003-pvc-task-pv-claim-multi-access.yaml").replace(
      "storageClassName: tenx-rbd",
      "storageClassName: tenx",
    );
    await create(claim);
    await create(seed("003-pod-task-pv-pod-rw.yaml"));
    await create(seed("003-pod-task-pv-pod-readonly.yaml"));
    await running("task-pv-pod-rw");
    await running("task-pv-pod-readonly");
    const w = await c.kubectl([
      "exec",
      "task-pv-pod-rw",
      "--",
      "sh",
      "-c",
      "echo shared > /usr/share/nginx/html/index.html",
    ]);
    assert.equal(w.code, 0, w.stderr);
    const r = await c.kubectl(["exec", "task-pv-pod-readonly", "--", "cat", "/usr/share/nginx/html/index.html"]);
    assert.equal(r.stdout, "shared\n", r.stderr);
    const ro = await c.kubectl(["exec", "task-pv-pod-readonly", "--", "sh", "-c", "echo x > /usr/share/nginx/html/x"]);
    assert.notEqual(ro.code, 0, "the reader's mount is read-only");
    // the volume's usage, from the node: stats/summary and the kubelet's gauges
    const summary = JSON.parse(await k("get", "--raw", "/api/v1/nodes/k8ts-node/proxy/stats/summary")) as {
      pods: Array<{ podRef: { name: string }; volume?: Array<{ pvcRef?: { name: string }; usedBytes?: number }> }>;
    };
    const rw = summary.pods.find((p) => p.podRef.name === "task-pv-pod-rw");
    const vol = rw?.volume?.find((v) => v.pvcRef?.name === "task-pv-claim");
    assert.ok(vol && typeof vol.usedBytes === "number", JSON.stringify(rw?.volume));
    const metrics = await k("get", "--raw", "/api/v1/nodes/k8ts-node/proxy/metrics");
    assert.match(
      metrics,
      /\nkubelet_volume_stats_used_bytes\{namespace="default",persistentvolumeclaim="task-pv-claim"\} \d+\n/,
    );
  });
});

describe("provisioning across a server restart", { skip: kubectlSkip() }, () => {
  let c: TestCluster | undefined;
  after(async () => {
    await c?.stop();
  });

  it("claims created just before a stop are provisioned after it: one volume each, none left over", async () => {
    c = await simCluster({ store: "sqlite" });
    const claims = Array.from(
      { length: 30 },
      (_, i) => `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: c${i}
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`,
    ).join("---\n");
    const r = await c.kubectl(["create", "-f", "-"], { stdin: claims });
    assert.equal(r.code, 0, r.stderr);
    // stop at once: some claims are bound, some provisioned but not bound, some not yet looked at
    const dataDir = c.dataDir;
    await c.stop({ keepData: true });
    c = await simCluster({ store: "sqlite", dataDir });
    const k = kubectlOk(() => c!);
    await until(
      "30 claims Bound",
      async () => {
        const out = await k("get", "pvc", "--no-headers");
        return out
          .trim()
          .split("\n")
          .filter((l) => /\sBound\s/.test(l)).length === 30
          ? true
          : undefined;
      },
      60_000,
    );
    const uids = (await k("get", "pvc", "-o", "jsonpath={.items[*].metadata.uid}")).split(" ").sort();
    const pvs = (await k("get", "pv", "-o", "jsonpath={.items[*].metadata.name}")).split(" ").sort();
    assert.deepEqual(pvs, uids.map((u) => `pvc-${u}`).sort(), "exactly one volume per claim, named after it");
    await k("delete", "pvc", "--all");
    await until("no volume left", async () =>
      (await k("get", "pv", "--no-headers")).trim() === "" ? true : undefined,
    );
  });
});
