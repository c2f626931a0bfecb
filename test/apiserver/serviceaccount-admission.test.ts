/** The ServiceAccount admission plug-in: defaulting, refusal wording, the kube-api-access volume, mountable secrets. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KObject } from "../../src/api/types.js";
import { ApiError } from "../../src/apiserver/errors.js";
import {
  admitPodServiceAccount,
  DEFAULT_API_TOKEN_MOUNT_PATH,
  randomNameSuffix,
  type ServiceAccountLookup,
} from "../../src/apiserver/serviceaccount-admission.js";

function pod(spec: Record<string, unknown> = {}, meta: Partial<KObject["metadata"]> = {}): KObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "shop", ...meta },
    spec: { containers: [{ name: "app", image: "nginx" }], ...spec },
  };
}

function accounts(...sas: KObject[]): ServiceAccountLookup {
  return (ns, name) => sas.find((s) => s.metadata.namespace === ns && s.metadata.name === name);
}

const defaultSA: KObject = { metadata: { name: "default", namespace: "shop" } };
const noSleep = { sleep: async () => {}, nameSuffix: () => "x7k2p" };

type Rec = Record<string, unknown>;
const specOf = (p: KObject) => p["spec"] as Rec;
const containersOf = (p: KObject, field = "containers") => specOf(p)[field] as Rec[];

async function refusal(p: Promise<void>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    return err;
  }
  assert.fail("the pod was admitted");
}

describe("service account defaulting and existence", () => {
  it("an empty serviceAccountName becomes default (and serviceAccount mirrors it)", async () => {
    const p = pod();
    await admitPodServiceAccount(p, accounts(defaultSA), noSleep);
    assert.equal(specOf(p)["serviceAccountName"], "default");
    assert.equal(specOf(p)["serviceAccount"], "default");
  });

  it("a pod naming an account that does not exist is refused with upstream's message", async () => {
    const err = await refusal(
      admitPodServiceAccount(pod({ serviceAccountName: "builder" }), accounts(defaultSA), noSleep),
    );
    assert.equal(err.code, 403);
    assert.equal(err.reason, "Forbidden");
    assert.equal(
      err.message,
      'pods "web" is forbidden: error looking up service account shop/builder: serviceaccount "builder" not found',
    );
  });

  it("the default account is waited for (its controller creates it just after the namespace)", async () => {
    let calls = 0;
    const lookup: ServiceAccountLookup = async () => (++calls >= 4 ? defaultSA : undefined);
    const sleeps: number[] = [];
    await admitPodServiceAccount(pod(), lookup, { ...noSleep, sleep: async (ms) => void sleeps.push(ms) });
    assert.equal(calls, 4);
    assert.equal(sleeps.length, 3);
    assert.ok(sleeps.every((ms) => ms >= 100 && ms < 200));
  });

  it("a missing default account is refused after upstream's 10 attempts; a named one after 1", async () => {
    let calls = 0;
    const lookup: ServiceAccountLookup = () => {
      calls++;
      return undefined;
    };
    await refusal(admitPodServiceAccount(pod(), lookup, noSleep));
    assert.equal(calls, 10);
    calls = 0;
    await refusal(admitPodServiceAccount(pod({ serviceAccountName: "x" }), lookup, noSleep));
    assert.equal(calls, 1);
  });
});

describe("the kube-api-access token volume", () => {
  it("is added as upstream's projected volume and mounted read-only in every container and init container", async () => {
    const p = pod({
      initContainers: [{ name: "init", image: "busybox" }],
      containers: [
        { name: "app", image: "nginx", volumeMounts: [{ name: "data", mountPath: "/data" }] },
        { name: "side", image: "envoy" },
      ],
      volumes: [{ name: "data", emptyDir: {} }],
    });
    await admitPodServiceAccount(p, accounts(defaultSA), noSleep);
    assert.deepEqual(specOf(p)["volumes"], [
      { name: "data", emptyDir: {} },
      {
        name: "kube-api-access-x7k2p",
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
            { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
            {
              downwardAPI: {
                items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
              },
            },
          ],
        },
      },
    ]);
    const tokenMount = { name: "kube-api-access-x7k2p", readOnly: true, mountPath: DEFAULT_API_TOKEN_MOUNT_PATH };
    assert.deepEqual(containersOf(p, "initContainers")[0]!["volumeMounts"], [tokenMount]);
    assert.deepEqual(containersOf(p)[0]!["volumeMounts"], [{ name: "data", mountPath: "/data" }, tokenMount]);
    assert.deepEqual(containersOf(p)[1]!["volumeMounts"], [tokenMount]);
  });

  const optOut: Array<[string, Rec, KObject]> = [
    ["the pod says automountServiceAccountToken: false", { automountServiceAccountToken: false }, defaultSA],
    ["the account says automountServiceAccountToken: false", {}, { ...defaultSA, automountServiceAccountToken: false }],
  ];
  for (const [name, spec, sa] of optOut) {
    it(`is not added when ${name}`, async () => {
      const p = pod(spec);
      await admitPodServiceAccount(p, accounts(sa), noSleep);
      assert.equal(specOf(p)["volumes"], undefined);
      assert.equal(containersOf(p)[0]!["volumeMounts"], undefined);
    });
  }

  it("the pod's true wins over the account's false", async () => {
    const p = pod({ automountServiceAccountToken: true });
    await admitPodServiceAccount(p, accounts({ ...defaultSA, automountServiceAccountToken: false }), noSleep);
    assert.equal((specOf(p)["volumes"] as Rec[]).length, 1);
  });

  it("containers already mounting something at the token path are left alone; none needing it adds no volume", async () => {
    const own = { name: "mine", mountPath: DEFAULT_API_TOKEN_MOUNT_PATH };
    const p = pod({
      containers: [{ name: "app", image: "x", volumeMounts: [own] }],
      volumes: [{ name: "mine", secret: { secretName: "s" } }],
    });
    await admitPodServiceAccount(p, accounts(defaultSA), noSleep);
    assert.deepEqual(containersOf(p)[0]!["volumeMounts"], [own]);
    assert.equal((specOf(p)["volumes"] as Rec[]).length, 1);
  });

  it("an existing kube-api-access-* volume is reused, not duplicated", async () => {
    const p = pod({ volumes: [{ name: "kube-api-access-abcde", projected: { sources: [] } }] });
    await admitPodServiceAccount(p, accounts(defaultSA), noSleep);
    assert.equal((specOf(p)["volumes"] as Rec[]).length, 1);
    assert.equal((containersOf(p)[0]!["volumeMounts"] as Rec[])[0]!["name"], "kube-api-access-abcde");
  });

  it("generated names use upstream's 5-character alphabet", () => {
    for (let i = 0; i < 50; i++) assert.match(randomNameSuffix(), /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
});

describe("imagePullSecrets and mountable secrets", () => {
  it("the account's imagePullSecrets are copied when the pod has none", async () => {
    const p = pod();
    await admitPodServiceAccount(p, accounts({ ...defaultSA, imagePullSecrets: [{ name: "regcred" }] }), noSleep);
    assert.deepEqual(specOf(p)["imagePullSecrets"], [{ name: "regcred" }]);
  });

  const enforcing: KObject = {
    metadata: {
      name: "default",
      namespace: "shop",
      annotations: { "kubernetes.io/enforce-mountable-secrets": "true" },
    },
    secrets: [{ name: "allowed" }],
  };
  const cases: Array<[string, Rec, string | undefined]> = [
    ["a listed secret volume is allowed", { volumes: [{ name: "s", secret: { secretName: "allowed" } }] }, undefined],
    [
      "an unlisted secret volume is refused",
      { volumes: [{ name: "s", secret: { secretName: "other" } }] },
      'volume with secret.secretName="other" is not allowed because service account default does not reference that secret',
    ],
    [
      "an unlisted secretKeyRef is refused",
      {
        automountServiceAccountToken: false,
        containers: [{ name: "app", env: [{ name: "PW", valueFrom: { secretKeyRef: { name: "other", key: "k" } } }] }],
      },
      'container app with envVar PW referencing secret.secretName="other" is not allowed because service account default does not reference that secret',
    ],
    [
      "an unlisted envFrom secret in an init container is refused",
      { initContainers: [{ name: "init", envFrom: [{ secretRef: { name: "other" } }] }] },
      'init container init with envFrom referencing secret.secretName="other" is not allowed because service account default does not reference that secret',
    ],
    [
      "an unlisted imagePullSecret is refused",
      { imagePullSecrets: [{ name: "regcred" }] },
      'imagePullSecrets[0].name="regcred" is not allowed because service account default does not reference that imagePullSecret',
    ],
  ];
  for (const [name, spec, want] of cases) {
    it(name, async () => {
      const p = admitPodServiceAccount(pod(spec), accounts(enforcing), noSleep);
      if (want === undefined) await p;
      else assert.equal((await refusal(p)).message, `pods "web" is forbidden: ${want}`);
    });
  }
});

describe("mirror pods", () => {
  const mirror = { annotations: { "kubernetes.io/config.mirror": "hash" } };
  it("are admitted untouched when they reference neither accounts nor secrets", async () => {
    const p = pod({}, mirror);
    await admitPodServiceAccount(p, accounts(), noSleep);
    assert.equal(specOf(p)["serviceAccountName"], undefined);
    assert.equal(specOf(p)["volumes"], undefined);
  });
  const refusals: Array<[string, Rec, string]> = [
    ["naming a service account", { serviceAccountName: "default" }, "a mirror pod may not reference service accounts"],
    [
      "mounting a secret",
      { volumes: [{ name: "s", secret: { secretName: "x" } }] },
      "a mirror pod may not reference secrets",
    ],
    [
      "projecting a token",
      { volumes: [{ name: "t", projected: { sources: [{ serviceAccountToken: { path: "t" } }] } }] },
      "a mirror pod may not use ServiceAccountToken volume projections",
    ],
  ];
  for (const [name, spec, want] of refusals) {
    it(`are refused ${name}`, async () => {
      assert.equal(
        (await refusal(admitPodServiceAccount(pod(spec, mirror), accounts(defaultSA), noSleep))).message,
        `pods "web" is forbidden: ${want}`,
      );
    });
  }
});
