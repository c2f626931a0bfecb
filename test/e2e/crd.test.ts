/**
 * CustomResourceDefinitions end to end, with the real kubectl and raw HTTPS: a namespaced CRD with
 * a schema, printer columns, a short name and the status and scale subresources is established,
 * served, printed, explained, scaled and patched like upstream's apiextensions-apiserver does, and
 * its resource leaves discovery when the CRD is deleted.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isRecord } from "../../src/api/types.js";
import { type Client, clientFor } from "./client.js";
import { headerOf, startCluster, type TestCluster } from "./harness.js";
import { at, kubectlSkip, show } from "./support.js";

const NS = "crd-test";
const CRD = "widgets.example.com";

const crdManifest = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${CRD}
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    listKind: WidgetList
    shortNames: [wd]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: WidgetSpec is the desired state of a widget.
            properties:
              size:
                type: string
                description: How big the widget is.
              replicas:
                type: integer
          status:
            type: object
            properties:
              replicas:
                type: integer
              labelSelector:
                type: string
    additionalPrinterColumns:
    - name: Size
      type: string
      jsonPath: .spec.size
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.labelSelector
`;

const widget = (name: string, size: string, replicas: number) => `apiVersion: example.com/v1
kind: Widget
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  size: ${size}
  replicas: ${replicas}
`;

const BASE = `/apis/example.com/v1/namespaces/${NS}/widgets`;
const MERGE = { "content-type": "application/merge-patch+json" };

function json(text: string): Record<string, unknown> {
  const v: unknown = JSON.parse(text);
  if (!isRecord(v)) throw new Error(`not an object: ${text}`);
  return v;
}

describe("CustomResourceDefinitions (kubectl + raw HTTPS)", { skip: kubectlSkip() }, () => {
  let cluster: TestCluster;
  let client: Client;

  const ok = async (args: string[], stdin?: string): Promise<string> => {
    const r = await cluster.kubectl(args, { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}\n${show(r)}`);
    return r.stdout;
  };
  const fails = async (args: string[], stdin?: string): Promise<string> => {
    const r = await cluster.kubectl(args, { stdin });
    assert.notEqual(r.code, 0, `kubectl ${args.join(" ")} should fail\n${show(r)}`);
    return r.stderr;
  };

  before(async () => {
    cluster = await startCluster({ store: "memory" });
    client = clientFor(cluster.kubeconfig);
  });
  after(async () => {
    client?.agent.destroy();
    await cluster?.stop();
  });

  it("kubectl create of the CRD, then wait --for condition=established, both succeed", async () => {
    assert.equal(
      await ok(["create", "-f", "-"], crdManifest),
      `customresourcedefinition.apiextensions.k8s.io/${CRD} created\n`,
    );
    assert.equal(
      await ok(["wait", "--for", "condition=established", `crd/${CRD}`, "--timeout=20s"]),
      `customresourcedefinition.apiextensions.k8s.io/${CRD} condition met\n`,
    );
    const crd = json(await ok(["get", "crd", CRD, "-o", "json"]));
    const conditions = at(crd, "status", "conditions");
    assert.ok(Array.isArray(conditions));
    const types = new Map(conditions.filter(isRecord).map((c) => [c["type"], c["status"]]));
    assert.equal(types.get("NamesAccepted"), "True");
    assert.equal(types.get("Established"), "True");
    assert.deepEqual(at(crd, "status", "acceptedNames", "shortNames"), ["wd"]);
  });

  it("the resource appears in discovery with its short name and subresources", async () => {
    const r = await client.call("GET", "/apis/example.com/v1");
    assert.equal(r.code, 200, r.body);
    const list = json(r.body);
    const resources = Array.isArray(list["resources"]) ? list["resources"].filter(isRecord) : [];
    const byName = new Map(resources.map((x) => [x["name"], x]));
    assert.deepEqual(at(byName.get("widgets"), "shortNames"), ["wd"]);
    assert.equal(at(byName.get("widgets"), "kind"), "Widget");
    assert.equal(at(byName.get("widgets"), "namespaced"), true);
    assert.ok(byName.has("widgets/status"), [...byName.keys()].join(" "));
    assert.ok(byName.has("widgets/scale"), [...byName.keys()].join(" "));
    assert.equal(at(byName.get("widgets/scale"), "kind"), "Scale");
    assert.equal(at(byName.get("widgets/scale"), "group"), "autoscaling");
  });

  it("kubectl create of a custom resource prints widget.example.com/<name> created", async () => {
    await ok(["create", "namespace", NS]);
    assert.equal(await ok(["create", "-f", "-"], widget("w1", "large", 2)), "widget.example.com/w1 created\n");
    assert.equal(await ok(["create", "-f", "-"], widget("w2", "small", 1)), "widget.example.com/w2 created\n");
  });

  it("kubectl get <plural> prints the additionalPrinterColumns", async () => {
    const out = await ok(["get", "widgets", "-n", NS]);
    assert.deepEqual(headerOf(out), ["NAME", "SIZE", "REPLICAS", "AGE"]);
    assert.match(out, /^w1\s+large\s+2\s+\d+s$/m);
    assert.match(out, /^w2\s+small\s+1\s+\d+s$/m);
  });

  it("kubectl get <shortname> and <kind>.<group> find the same objects", async () => {
    for (const name of ["wd", "widget", "widget.example.com", "widgets.v1.example.com"]) {
      const out = await ok(["get", name, "-n", NS, "-o", "name"]);
      assert.equal(out, "widget.example.com/w1\nwidget.example.com/w2\n", name);
    }
  });

  it("kubectl explain widget.spec shows the schema's fields and descriptions", async () => {
    const out = await ok(["explain", "widget.spec"]);
    assert.match(out, /^GROUP:\s+example\.com$/m);
    assert.match(out, /^KIND:\s+Widget$/m);
    assert.match(out, /^VERSION:\s+v1$/m);
    assert.match(out, /^FIELD: spec <Object>$/m);
    assert.match(out, /WidgetSpec is the desired state of a widget\./);
    assert.match(out, /^ {2}size\t<string>$/m);
    assert.match(out, /How big the widget is\./);
    assert.match(out, /^ {2}replicas\t<integer>$/m);
  });

  it("the status subresource: /status writes status only, the main endpoint ignores status", async () => {
    const patched = await client.call(
      "PATCH",
      `${BASE}/w1/status`,
      { spec: { size: "tiny" }, status: { replicas: 2, labelSelector: "app=w1" } },
      MERGE,
    );
    assert.equal(patched.code, 200, patched.body);
    assert.equal(at(json(patched.body), "status", "replicas"), 2);
    assert.equal(at(json(patched.body), "spec", "size"), "large", "spec is not written through /status");
    const main = await client.call("PATCH", `${BASE}/w1`, { status: { replicas: 9 } }, MERGE);
    assert.equal(main.code, 200, main.body);
    assert.equal(at(json(main.body), "status", "replicas"), 2, "status is not written through the main endpoint");
  });

  it("GET /scale is an autoscaling/v1 Scale built from the CRD's scale paths", async () => {
    const r = await client.call("GET", `${BASE}/w1/scale`);
    assert.equal(r.code, 200, r.body);
    const scale = json(r.body);
    assert.equal(scale["apiVersion"], "autoscaling/v1");
    assert.equal(scale["kind"], "Scale");
    assert.equal(at(scale, "metadata", "name"), "w1");
    assert.equal(at(scale, "spec", "replicas"), 2);
    assert.equal(at(scale, "status", "replicas"), 2);
    assert.equal(at(scale, "status", "selector"), "app=w1");
  });

  it("kubectl scale goes through the scale subresource and changes spec.replicas", async () => {
    assert.equal(await ok(["scale", "widget", "w1", "-n", NS, "--replicas=5"]), "widget.example.com/w1 scaled\n");
    assert.equal(await ok(["get", "widget", "w1", "-n", NS, "-o", "jsonpath={.spec.replicas}"]), "5");
    const generation = await ok(["get", "widget", "w1", "-n", NS, "-o", "jsonpath={.metadata.generation}"]);
    assert.equal(generation, "2", "a spec change bumps a custom resource's generation");
  });

  const SMP_REFUSED =
    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

  it("a strategic merge patch of a custom resource is refused with 415 UnsupportedMediaType", {}, async () => {
    const r = await client.call("PATCH", `${BASE}/w2`, JSON.stringify({ spec: { size: "huge" } }), {
      "content-type": "application/strategic-merge-patch+json",
    });
    assert.equal(r.code, 415, r.body);
    const status = json(r.body);
    assert.equal(status["reason"], "UnsupportedMediaType");
    assert.equal(status["message"], SMP_REFUSED);
  });

  it("kubectl patch --type=strategic of a custom resource fails with kubectl's wrapped 415 message", {}, async () => {
    const stderr = await fails([
      "patch",
      "widget",
      "w2",
      "-n",
      NS,
      "--type=strategic",
      "-p",
      '{"spec":{"size":"big"}}',
    ]);
    assert.equal(
      stderr,
      `error: application/strategic-merge-patch+json is not supported by example.com/v1, Kind=Widget: ${SMP_REFUSED}\n`,
    );
  });

  it("kubectl patch --type=merge of a custom resource works", async () => {
    assert.equal(
      await ok(["patch", "widget", "w1", "-n", NS, "--type=merge", "-p", '{"spec":{"size":"medium"}}']),
      "widget.example.com/w1 patched\n",
    );
    assert.equal(await ok(["get", "widget", "w1", "-n", NS, "-o", "jsonpath={.spec.size}"]), "medium");
  });

  it("kubectl patch --type=json of a custom resource works", async () => {
    const ops = JSON.stringify([{ op: "replace", path: "/spec/replicas", value: 3 }]);
    assert.equal(
      await ok(["patch", "widget", "w1", "-n", NS, "--type=json", "-p", ops]),
      "widget.example.com/w1 patched\n",
    );
    assert.equal(await ok(["get", "widget", "w1", "-n", NS, "-o", "jsonpath={.spec.replicas}"]), "3");
  });

  it("the structural schema prunes unknown fields of a custom resource", {}, async () => {
    const r = await client.call("POST", BASE, {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w3" },
      spec: { size: "s", extra: 1 },
    });
    assert.equal(r.code, 201, r.body);
    assert.equal(at(json(r.body), "spec", "extra"), undefined);
  });

  it("kubectl delete crd removes the resource from discovery and its objects from the API", async () => {
    assert.equal(
      await ok(["delete", "crd", CRD, "--timeout=20s"]),
      `customresourcedefinition.apiextensions.k8s.io "${CRD}" deleted\n`,
    );
    const group = await client.call("GET", "/apis/example.com/v1");
    assert.equal(group.code, 404, group.body);
    const apis = json((await client.call("GET", "/apis")).body);
    const groups = Array.isArray(apis["groups"]) ? apis["groups"].filter(isRecord) : [];
    assert.ok(!groups.some((g) => g["name"] === "example.com"), JSON.stringify(groups.map((g) => g["name"])));
    const resources = await ok(["api-resources", "--api-group=example.com", "-o", "name"]);
    assert.equal(resources, "");
    const list = await client.call("GET", BASE);
    assert.equal(list.code, 404, list.body);
  });

  it("a CRD created again serves an empty resource: deleting the CRD deleted its objects", {}, async () => {
    await ok(["create", "-f", "-"], crdManifest);
    await ok(["wait", "--for", "condition=established", `crd/${CRD}`, "--timeout=20s"]);
    const r = await client.call("GET", BASE);
    assert.equal(r.code, 200, r.body);
    assert.deepEqual(json(r.body)["items"], []);
  });
});

describe("kubectl apply on custom resources", { skip: kubectlSkip() }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ store: "memory" });
  });
  after(async () => {
    await cluster?.stop();
  });

  it("applies, reconfigures and leaves unchanged a custom resource (merge patch: the OpenAPI offers no strategic one)", async () => {
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              cronSpec: {type: string}
              image: {type: string}
`;
    const ct = (image: string) => `apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: my-new-cron-object
spec:
  cronSpec: "* * * * */5"
  image: ${image}
`;
    const apply = (text: string) => cluster.kubectl(["apply", "-f", "-"], { stdin: text });
    assert.equal((await apply(crd)).code, 0);
    const established = await cluster.kubectl([
      "wait",
      "--for",
      "condition=established",
      "crd/crontabs.stable.example.com",
    ]);
    assert.equal(established.code, 0, show(established));
    for (const [text, word] of [
      [ct("my-awesome-cron-image"), "created"],
      [ct("my-great-cron-image"), "configured"],
      [ct("my-great-cron-image"), "unchanged"],
    ] as const) {
      const r = await apply(text);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, `crontab.stable.example.com/my-new-cron-object ${word}\n`);
    }
    const image = await cluster.kubectl(["get", "ct", "my-new-cron-object", "-o", "jsonpath={.spec.image}"]);
    assert.equal(image.stdout, "my-great-cron-image");
  });
});
