/** The Deployment controller on a live registry, with the ReplicaSet controller and pods made ready by a driver. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { DeploymentController } from "../../src/controllers/deployment/index.js";
import { GarbageCollector } from "../../src/controllers/garbagecollector/index.js";
import { controllerOf } from "../../src/controllers/refmanager.js";
import { ReplicaSetController } from "../../src/controllers/replicaset/index.js";
import { liveRegistry, readyPods, until } from "./support.js";

type Rec = Record<string, unknown>;

describe("DeploymentController on a registry", () => {
  const live = liveRegistry({ admission: true });
  const client = live.client;
  const controllers = [
    new ReplicaSetController(client),
    new DeploymentController(client),
    new GarbageCollector(client),
  ];
  // pods whose image ends in ":broken" never become ready
  let stopPods: () => void = () => undefined;
  const deploys = () => client.resource("apps", "v1", "deployments");
  const rss = () => client.resource("apps", "v1", "replicasets");
  const pods = () => client.resource("", "v1", "pods");

  before(async () => {
    await live.ready();
    for (const c of controllers) c.start();
    stopPods = readyPods(client, (p) => {
      const containers = (p["spec"] as { containers: Array<{ image: string }> }).containers;
      return !containers.some((c) => c.image.endsWith(":broken"));
    });
  });
  after(() => {
    stopPods();
    for (const c of controllers) c.stop();
    live.close();
  });

  const get = (name: string) => client.get(deploys(), "default", name)!;
  const status = (name: string) => (get(name)["status"] ?? {}) as Rec;
  const cond = (name: string, type: string) =>
    ((status(name)["conditions"] ?? []) as Rec[]).find((c) => c["type"] === type);
  const setsOf = async (name: string) => {
    const uid = get(name).metadata.uid;
    return (await client.list(rss(), "default"))
      .map((c) => c.obj)
      .filter((rs) => controllerOf(rs)?.uid === uid)
      .sort(
        (a, b) =>
          Number(a.metadata.annotations?.["deployment.kubernetes.io/revision"]) -
          Number(b.metadata.annotations?.["deployment.kubernetes.io/revision"]),
      );
  };
  const podsOf = async (rs: KObject) =>
    (await client.list(pods(), "default"))
      .map((c) => c.obj)
      .filter((p) => controllerOf(p)?.uid === rs.metadata.uid && !p.metadata.deletionTimestamp);
  const replicas = (o: KObject) => (o["spec"] as Rec)["replicas"];
  const deployment = (name: string, spec: Rec = {}): KObject => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
      ...spec,
    },
  });
  const setImage = async (name: string, image: string) => {
    await client.update(deploys(), "default", name, "", (o) => {
      const t = ((o["spec"] as Rec)["template"] as Rec)["spec"] as { containers: Array<Rec> };
      t.containers[0]!["image"] = image;
      return o;
    });
  };
  const patchSpec = async (name: string, fn: (spec: Rec) => void) => {
    await client.update(deploys(), "default", name, "", (o) => {
      fn(o["spec"] as Rec);
      return o;
    });
  };
  const complete = (name: string) =>
    until(`${name} complete`, () => {
      const d = get(name);
      const s = status(name);
      return s["observedGeneration"] === d.metadata.generation &&
        s["updatedReplicas"] === replicas(d) &&
        s["replicas"] === replicas(d) &&
        s["availableReplicas"] === replicas(d) &&
        cond(name, "Progressing")?.["reason"] === "NewReplicaSetAvailable"
        ? s
        : undefined;
    });

  it("a new Deployment gets <name>-<hash> with its replicas, revision 1 and the upstream conditions", async () => {
    await client.ensure(deploys(), deployment("web"));
    const s = await complete("web");
    assert.deepEqual(
      { ...s, conditions: undefined },
      {
        observedGeneration: 1,
        replicas: 3,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
        conditions: undefined,
      },
    );
    const [rs] = await setsOf("web");
    const hash = rs!.metadata.labels?.["pod-template-hash"] ?? "";
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.equal(rs!.metadata.name, `web-${hash}`);
    assert.deepEqual((rs!["spec"] as Rec)["selector"], { matchLabels: { app: "web", "pod-template-hash": hash } });
    assert.equal(rs!.metadata.annotations?.["deployment.kubernetes.io/revision"], "1");
    assert.equal(rs!.metadata.annotations?.["deployment.kubernetes.io/desired-replicas"], "3");
    assert.equal(rs!.metadata.annotations?.["deployment.kubernetes.io/max-replicas"], "4");
    assert.equal(get("web").metadata.annotations?.["deployment.kubernetes.io/revision"], "1");
    const ps = await podsOf(rs!);
    assert.equal(ps.length, 3);
    assert.ok(
      ps.every((p) => p.metadata.name?.startsWith(`web-${hash}-`) && p.metadata.labels?.["pod-template-hash"] === hash),
    );
    assert.deepEqual(
      ((status("web")["conditions"] ?? []) as Rec[]).map((c) => [c["type"], c["status"], c["reason"], c["message"]]),
      [
        ["Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."],
        ["Progressing", "True", "NewReplicaSetAvailable", `ReplicaSet "web-${hash}" has successfully progressed.`],
      ],
    );
    const events = (await client.list(client.resource("", "v1", "events"), "default")).map((e) => e.obj);
    assert.ok(
      events.some(
        (e) => e["reason"] === "ScalingReplicaSet" && e["message"] === `Scaled up replica set web-${hash} to 3`,
      ),
    );
  });

  it("a new image rolls out within maxSurge/maxUnavailable; the old set is kept at 0; rollback reuses it", async () => {
    // 25%/25% of 3: one pod over, none unavailable
    let maxPods = 0;
    let minReady = 3;
    const watcher = setInterval(async () => {
      const all = (await client.list(pods(), "default"))
        .map((c) => c.obj)
        .filter((p) => p.metadata.labels?.["app"] === "web");
      maxPods = Math.max(maxPods, all.length);
      const ready = all.filter((p) =>
        ((p["status"] as Rec)["conditions"] as Rec[] | undefined)?.some(
          (c) => c["type"] === "Ready" && c["status"] === "True",
        ),
      );
      minReady = Math.min(minReady, ready.length);
    }, 5);
    await setImage("web", "nginx:1.25");
    await until("rollout to nginx:1.25", async () => {
      const sets = await setsOf("web");
      return sets.length === 2 &&
        replicas(sets[0]!) === 0 &&
        replicas(sets[1]!) === 3 &&
        status("web")["updatedReplicas"] === 3
        ? true
        : undefined;
    });
    await complete("web");
    clearInterval(watcher);
    assert.ok(maxPods <= 4, `at most replicas + maxSurge pods, saw ${maxPods}`);
    assert.equal(minReady, 3, "maxUnavailable 0: never fewer than 3 ready");
    const [first, second] = await setsOf("web");
    assert.equal(second!.metadata.annotations?.["deployment.kubernetes.io/revision"], "2");
    assert.equal(get("web").metadata.annotations?.["deployment.kubernetes.io/revision"], "2");
    const events = (await client.list(client.resource("", "v1", "events"), "default"))
      .map((e) => e.obj)
      .filter((e) => e["reason"] === "ScalingReplicaSet")
      .map((e) => String(e["message"]));
    assert.ok(events.includes(`Scaled up replica set ${second!.metadata.name} to 1`), events.join("\n"));
    assert.ok(events.includes(`Scaled down replica set ${first!.metadata.name} to 2 from 3`), events.join("\n"));
    // the first template back (as kubectl rollout undo does): the first set grows again, as revision 3
    await setImage("web", "nginx");
    await until("rolled back", async () => {
      const sets = await setsOf("web");
      return sets.length === 2 &&
        sets[1]!.metadata.name === first!.metadata.name &&
        replicas(sets[1]!) === 3 &&
        replicas(sets[0]!) === 0
        ? true
        : undefined;
    });
    const back = (await setsOf("web"))[1]!;
    assert.equal(back.metadata.annotations?.["deployment.kubernetes.io/revision"], "3");
    assert.equal(back.metadata.annotations?.["deployment.kubernetes.io/revision-history"], "1");
    await complete("web");
  });

  it("scaling passes the new size to the set; revisionHistoryLimit removes the oldest empty sets", async () => {
    await patchSpec("web", (s) => {
      s["replicas"] = 5;
      s["revisionHistoryLimit"] = 1;
    });
    await complete("web");
    assert.equal(status("web")["replicas"], 5);
    await setImage("web", "nginx:1.26");
    await complete("web");
    const sets = await until("one old set kept", async () => {
      const s = await setsOf("web");
      return s.length === 2 ? s : undefined;
    });
    assert.equal(sets[1]!.metadata.annotations?.["deployment.kubernetes.io/revision"], "4");
    assert.equal(replicas(sets[0]!), 0);
  });

  it("Recreate: every old pod is gone before the new set is made", async () => {
    await client.ensure(deploys(), deployment("rec", { replicas: 2, strategy: { type: "Recreate" } }));
    await complete("rec");
    const [old] = await setsOf("rec");
    let newSeenWhileOld = false;
    const watcher = setInterval(async () => {
      const sets = await setsOf("rec");
      if (sets.length > 1 && (await podsOf(old!)).length > 0) newSeenWhileOld = true;
    }, 2);
    await setImage("rec", "nginx:2");
    await until("recreated", async () => {
      const sets = await setsOf("rec");
      return sets.length === 2 && replicas(sets[1]!) === 2 && (await podsOf(sets[1]!)).length === 2 ? true : undefined;
    });
    clearInterval(watcher);
    assert.equal(newSeenWhileOld, false);
    assert.equal((await podsOf(old!)).length, 0);
    await complete("rec");
  });

  it("no progress for progressDeadlineSeconds: Progressing False ProgressDeadlineExceeded, old pods kept", async () => {
    await client.ensure(deploys(), deployment("stuck", { replicas: 2, progressDeadlineSeconds: 1 }));
    await complete("stuck");
    await setImage("stuck", "nginx:broken");
    const c = await until(
      "timed out",
      () => {
        const p = cond("stuck", "Progressing");
        return p?.["reason"] === "ProgressDeadlineExceeded" ? p : undefined;
      },
      15_000,
    );
    const sets = await setsOf("stuck");
    assert.equal(c["status"], "False");
    assert.equal(c["message"], `ReplicaSet "${sets[1]!.metadata.name}" has timed out progressing.`);
    // 25% of 2: surge 1, none unavailable → the old pods all stay
    assert.equal(replicas(sets[0]!), 2);
    assert.equal(replicas(sets[1]!), 1);
    assert.equal(cond("stuck", "Available")?.["status"], "True");
  });

  it("paused: a template change makes no set until resumed; Progressing says so", async () => {
    await client.ensure(deploys(), deployment("held", { replicas: 1 }));
    await complete("held");
    await patchSpec("held", (s) => {
      s["paused"] = true;
    });
    await until("paused condition", () =>
      cond("held", "Progressing")?.["reason"] === "DeploymentPaused" ? true : undefined,
    );
    assert.equal(cond("held", "Progressing")?.["status"], "Unknown");
    await setImage("held", "nginx:3");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await setsOf("held")).length, 1);
    await patchSpec("held", (s) => {
      s["paused"] = false;
    });
    await complete("held");
    assert.equal((await setsOf("held")).length, 2);
  });

  it("a scale mid-rollout is shared in proportion (10 → 15 with maxSurge 3: 3 to the old set, 2 to the new)", async () => {
    await client.ensure(
      deploys(),
      deployment("prop", {
        replicas: 10,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } },
      }),
    );
    await complete("prop");
    await setImage("prop", "nginx:broken");
    // new pods never ready: the rollout stops at old 8, new 5
    await until("rollout stalled at 8/5", async () => {
      const sets = await setsOf("prop");
      return sets.length === 2 &&
        replicas(sets[0]!) === 8 &&
        replicas(sets[1]!) === 5 &&
        status("prop")["replicas"] === 13
        ? true
        : undefined;
    });
    await patchSpec("prop", (s) => {
      s["replicas"] = 15;
    });
    const sets = await until("proportional", async () => {
      const s = await setsOf("prop");
      return replicas(s[0]!) === 11 && replicas(s[1]!) === 7 ? s : undefined;
    });
    assert.equal(sets[1]!.metadata.annotations?.["deployment.kubernetes.io/desired-replicas"], "15");
    assert.equal(sets[1]!.metadata.annotations?.["deployment.kubernetes.io/max-replicas"], "18");
  });

  it("adopts a matching orphan ReplicaSet and releases one whose labels no longer match", async () => {
    await client.ensure(rss(), {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "stray", namespace: "default", labels: { app: "held" } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "held", x: "y" } },
        template: {
          metadata: { labels: { app: "held", x: "y" } },
          spec: { containers: [{ name: "c", image: "busybox" }] },
        },
      },
    });
    await until("adopted", () =>
      controllerOf(client.get(rss(), "default", "stray")!)?.uid === get("held").metadata.uid ? true : undefined,
    );
    await client.update(rss(), "default", "stray", "", (o) => {
      o.metadata.labels = { app: "other" };
      return o;
    });
    await until("released", () => (controllerOf(client.get(rss(), "default", "stray")!) ? undefined : true));
  });
});
