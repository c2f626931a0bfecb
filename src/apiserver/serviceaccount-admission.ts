/**
 * The ServiceAccount admission plug-in on pod create (upstream
 * plugin/pkg/admission/serviceaccount): defaults spec.serviceAccountName to `default`, refuses
 * pods whose service account does not exist, mounts the bound token volume
 * (`kube-api-access-xxxxx`: token, ca.crt, namespace) read-only at
 * /var/run/secrets/kubernetes.io/serviceaccount in every container that does not mount
 * something there already (unless automountServiceAccountToken is false on the pod or the
 * account), copies the account's imagePullSecrets, and enforces mountable secrets for accounts
 * annotated `kubernetes.io/enforce-mountable-secrets: "true"`. Mirror pods are only validated.
 */
import { randomInt } from "node:crypto";
import { isRecord, type KObject } from "../api/types.js";
import { forbidden } from "./errors.js";

export const DEFAULT_SERVICE_ACCOUNT = "default";
export const SERVICE_ACCOUNT_VOLUME_PREFIX = "kube-api-access-";
export const DEFAULT_API_TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
export const ENFORCE_MOUNTABLE_SECRETS_ANNOTATION = "kubernetes.io/enforce-mountable-secrets";
export const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";
/** The token lifetime the kube-api-access volume asks for (upstream WarnOnlyBoundTokenExpirationSeconds). */
export const TOKEN_VOLUME_EXPIRATION_SECONDS = 3607;

/** Looks a ServiceAccount up (the API server's cache); undefined when it does not exist. */
export type ServiceAccountLookup = (
  namespace: string,
  name: string,
) => KObject | undefined | Promise<KObject | undefined>;

export interface ServiceAccountAdmissionOptions {
  /**
   * Lookups of the `default` account, which its controller creates right after the namespace,
   * are tried this many times before the pod is refused (upstream: 10, 100-200 ms apart).
   */
  defaultAttempts?: number;
  /** Waits between attempts (default: a timer, unref'd). */
  sleep?: (ms: number) => Promise<void>;
  /** The 5-character suffix of a new volume name (default: upstream's alphabet, random). */
  nameSuffix?: () => string;
}

type Rec = Record<string, unknown>;

function list(v: unknown): Rec[] {
  return Array.isArray(v) ? v.filter(isRecord) : [];
}

/** upstream utilrand.String's alphabet: no vowels (no words), no 0/1/3 (look like letters). */
const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

export function randomNameSuffix(): string {
  let s = "";
  for (let i = 0; i < 5; i++) s += ALPHANUMS[randomInt(ALPHANUMS.length)];
  return s;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The pod's preference wins, then the account's; mounting is the default. */
export function shouldAutomount(sa: KObject, pod: KObject): boolean {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  if (typeof spec["automountServiceAccountToken"] === "boolean") return spec["automountServiceAccountToken"];
  if (typeof sa["automountServiceAccountToken"] === "boolean") return sa["automountServiceAccountToken"];
  return true;
}

/** The projected source of the kube-api-access volume (upstream TokenVolumeSource). */
export function tokenVolumeSource(): Rec {
  return {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: TOKEN_VOLUME_EXPIRATION_SECONDS, path: "token" } },
      { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
      {
        downwardAPI: {
          items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }],
        },
      },
    ],
  };
}

/**
 * Mounts the token volume in every init and app container without a mount at the token path,
 * adding the volume when some container needs it (upstream mountServiceAccountToken). An existing
 * `kube-api-access-*` volume is reused.
 */
export function mountServiceAccountToken(pod: KObject, nameSuffix: () => string = randomNameSuffix): void {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  pod["spec"] = spec;
  const volumes = list(spec["volumes"]);
  const existing = volumes.find((v) => String(v["name"] ?? "").startsWith(SERVICE_ACCOUNT_VOLUME_PREFIX));
  let volumeName = existing ? String(existing["name"]) : "";
  if (!existing) {
    const taken = new Set(volumes.map((v) => String(v["name"] ?? "")));
    do volumeName = SERVICE_ACCOUNT_VOLUME_PREFIX + nameSuffix();
    while (taken.has(volumeName));
  }
  let needed = false;
  for (const field of ["initContainers", "containers"]) {
    for (const c of list(spec[field])) {
      const mounts = list(c["volumeMounts"]);
      if (mounts.some((m) => m["mountPath"] === DEFAULT_API_TOKEN_MOUNT_PATH)) continue;
      c["volumeMounts"] = [...mounts, { name: volumeName, readOnly: true, mountPath: DEFAULT_API_TOKEN_MOUNT_PATH }];
      needed = true;
    }
  }
  if (!existing && needed) spec["volumes"] = [...volumes, { name: volumeName, projected: tokenVolumeSource() }];
}

function names(v: unknown): Set<string> {
  return new Set(list(v).map((r) => String(r["name"] ?? "")));
}

function parseBool(v: string): boolean {
  return ["1", "t", "T", "true", "TRUE", "True"].includes(v);
}

/** Whether the account restricts the secrets its pods may use. */
export function enforcesMountableSecrets(sa: KObject): boolean {
  const v = sa.metadata.annotations?.[ENFORCE_MOUNTABLE_SECRETS_ANNOTATION];
  return v !== undefined && parseBool(v);
}

/** Upstream limitSecretReferences: why the pod may not use a secret its account does not list, or undefined. */
export function secretReferenceError(sa: KObject, pod: KObject): string | undefined {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  const saName = sa.metadata.name ?? "";
  const mountable = names(sa["secrets"]);
  for (const v of list(spec["volumes"])) {
    if (!isRecord(v["secret"])) continue;
    const secretName = String(v["secret"]["secretName"] ?? "");
    if (!mountable.has(secretName)) {
      return `volume with secret.secretName="${secretName}" is not allowed because service account ${saName} does not reference that secret`;
    }
  }
  for (const [field, what] of [
    ["initContainers", "init container"],
    ["containers", "container"],
  ] as const) {
    for (const c of list(spec[field])) {
      for (const e of list(c["env"])) {
        const from = isRecord(e["valueFrom"]) ? e["valueFrom"] : undefined;
        const ref = from && isRecord(from["secretKeyRef"]) ? from["secretKeyRef"] : undefined;
        if (ref && !mountable.has(String(ref["name"] ?? ""))) {
          return `${what} ${String(c["name"])} with envVar ${String(e["name"])} referencing secret.secretName="${String(ref["name"] ?? "")}" is not allowed because service account ${saName} does not reference that secret`;
        }
      }
      for (const ef of list(c["envFrom"])) {
        const ref = isRecord(ef["secretRef"]) ? ef["secretRef"] : undefined;
        if (ref && !mountable.has(String(ref["name"] ?? ""))) {
          return `${what} ${String(c["name"])} with envFrom referencing secret.secretName="${String(ref["name"] ?? "")}" is not allowed because service account ${saName} does not reference that secret`;
        }
      }
    }
  }
  const pullSecrets = names(sa["imagePullSecrets"]);
  for (const [i, ref] of list(spec["imagePullSecrets"]).entries()) {
    const n = String(ref["name"] ?? "");
    if (!pullSecrets.has(n)) {
      return `imagePullSecrets[${i}].name="${n}" is not allowed because service account ${saName} does not reference that imagePullSecret`;
    }
  }
  return undefined;
}

/** Whether a pod references any secret (upstream VisitPodSecretNames, the common sources). */
function referencesSecrets(pod: KObject): boolean {
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  if (list(spec["imagePullSecrets"]).length > 0) return true;
  for (const field of ["initContainers", "containers", "ephemeralContainers"]) {
    for (const c of list(spec[field])) {
      if (list(c["envFrom"]).some((ef) => isRecord(ef["secretRef"]))) return true;
      for (const e of list(c["env"])) {
        if (isRecord(e["valueFrom"]) && isRecord(e["valueFrom"]["secretKeyRef"])) return true;
      }
    }
  }
  for (const v of list(spec["volumes"])) {
    if (isRecord(v["secret"])) return true;
    if (isRecord(v["projected"]) && list(v["projected"]["sources"]).some((s) => isRecord(s["secret"]))) return true;
    for (const src of Object.values(v)) {
      if (!isRecord(src)) continue;
      if (isRecord(src["secretRef"]) || isRecord(src["nodePublishSecretRef"])) return true;
      if (typeof src["secretName"] === "string" && src["secretName"] !== "") return true;
    }
  }
  return false;
}

/**
 * Admits a pod being created (mutating it as upstream's plug-in does); throws a 403 ApiError
 * worded as upstream's when it may not be created.
 */
export async function admitPodServiceAccount(
  pod: KObject,
  lookupServiceAccount: ServiceAccountLookup,
  opts: ServiceAccountAdmissionOptions = {},
): Promise<void> {
  const podName = pod.metadata.name ?? "";
  const ns = pod.metadata.namespace ?? "";
  const refuse = (why: string) => forbidden("", "pods", podName, why);
  const spec = isRecord(pod["spec"]) ? pod["spec"] : {};
  pod["spec"] = spec;

  if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) {
    if (typeof spec["serviceAccountName"] === "string" && spec["serviceAccountName"] !== "") {
      throw refuse("a mirror pod may not reference service accounts");
    }
    if (referencesSecrets(pod)) throw refuse("a mirror pod may not reference secrets");
    for (const v of list(spec["volumes"])) {
      if (isRecord(v["projected"]) && list(v["projected"]["sources"]).some((s) => isRecord(s["serviceAccountToken"]))) {
        throw refuse("a mirror pod may not use ServiceAccountToken volume projections");
      }
    }
    return;
  }

  if (typeof spec["serviceAccountName"] !== "string" || spec["serviceAccountName"] === "") {
    // the deprecated field names the account when the real one is empty (v1 conversion)
    const legacy = spec["serviceAccount"];
    spec["serviceAccountName"] = typeof legacy === "string" && legacy !== "" ? legacy : DEFAULT_SERVICE_ACCOUNT;
  }
  const saName = String(spec["serviceAccountName"]);
  // the deprecated alias follows the real field, as v1 conversion writes it
  spec["serviceAccount"] = saName;

  const attempts = saName === DEFAULT_SERVICE_ACCOUNT ? (opts.defaultAttempts ?? 10) : 1;
  const sleep = opts.sleep ?? defaultSleep;
  let sa: KObject | undefined;
  for (let i = 0; i < attempts && !sa; i++) {
    if (i > 0) await sleep(100 + randomInt(100));
    sa = await lookupServiceAccount(ns, saName);
  }
  if (!sa) {
    throw refuse(`error looking up service account ${ns}/${saName}: serviceaccount "${saName}" not found`);
  }

  if (shouldAutomount(sa, pod)) mountServiceAccountToken(pod, opts.nameSuffix);
  if (list(spec["imagePullSecrets"]).length === 0) {
    const fromSa = list(sa["imagePullSecrets"]).map((r) => ({ name: String(r["name"] ?? "") }));
    if (fromSa.length > 0) spec["imagePullSecrets"] = fromSa;
  }
  if (enforcesMountableSecrets(sa)) {
    const why = secretReferenceError(sa, pod);
    if (why) throw refuse(why);
  }
}
