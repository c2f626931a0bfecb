/**
 * Pod defaults (kubernetes pkg/apis/core/v1/defaults.go + the generated walk over a PodSpec).
 *
 * A PodSpec inside a template (PodTemplate, Deployment, Job...) gets `defaultPodSpec`; only a Pod
 * object also gets `defaultPodOnly` (requests from limits, enableServiceLinks, host-network ports,
 * pod-level resources) — upstream keeps those out of templates on purpose.
 */
import { type Quantity, quantityFromJSON } from "../quantity.js";
import { isRecord } from "../types.js";
import { child, defaultInt, defaultPtr, defaultString, ensure, isEmpty, isNil, items, type Obj } from "./fields.js";
import { defaultPullPolicy } from "./image.js";
import { defaultResourceList, defaultResourceRequirements } from "./resources.js";
import { defaultPersistentVolumeClaimSpec, defaultVolumeSource } from "./volume.js";

/** Default mode of configMap, secret, downwardAPI and projected volumes: 0644. */
export const DEFAULT_VOLUME_MODE = 0o644;

const CONTAINER_LISTS = ["initContainers", "containers", "ephemeralContainers"] as const;

/** Upstream SetDefaults_PodSpec plus everything the generated defaulter reaches inside a PodSpec. */
export function defaultPodSpec(spec: Obj): void {
  defaultString(spec, "dnsPolicy", "ClusterFirst");
  defaultString(spec, "restartPolicy", "Always");
  defaultPtr(spec, "securityContext", {});
  defaultPtr(spec, "terminationGracePeriodSeconds", 30);
  defaultString(spec, "schedulerName", "default-scheduler");
  for (const volume of items(spec, "volumes")) defaultVolume(volume);
  for (const list of CONTAINER_LISTS) {
    for (const container of items(spec, list)) defaultContainer(container);
  }
  defaultResourceList(spec, "overhead");
  defaultResourceRequirements(child(spec, "resources"));
}

/** The part of upstream SetDefaults_Pod that applies to Pod objects only (not templates). */
export function defaultPodOnly(spec: Obj): void {
  for (const list of ["containers", "initContainers"]) {
    for (const container of items(spec, list)) defaultRequestsFromLimits(container);
  }
  defaultPodLevelResources(spec);
  defaultPtr(spec, "enableServiceLinks", true);
  if (spec["hostNetwork"] === true) {
    for (const list of ["containers", "initContainers"]) {
      for (const container of items(spec, list)) {
        for (const port of items(container, "ports")) {
          if (isNil(port["hostPort"]) || port["hostPort"] === 0) port["hostPort"] = port["containerPort"] ?? 0;
        }
      }
    }
  }
}

/** A Pod object: template defaults plus the Pod-only ones. */
export function defaultPod(pod: Obj): void {
  const spec = ensure(pod, "spec");
  if (!spec) return;
  // Upstream runs SetDefaults_Pod before SetDefaults_PodSpec; the two touch disjoint fields except
  // that requests-from-limits copies limits before they are rounded, which gives the same result.
  defaultPodOnly(spec);
  defaultPodSpec(spec);
}

/** A PodTemplateSpec inside a workload: the template's spec gets PodSpec defaults. */
export function defaultPodTemplate(template: Obj | undefined): void {
  if (!template) return;
  const spec = ensure(template, "spec");
  if (spec) defaultPodSpec(spec);
}

/** Upstream SetDefaults_Container (also used for init and ephemeral containers) and its nested fields. */
export function defaultContainer(c: Obj): void {
  if (isNil(c["imagePullPolicy"]) || c["imagePullPolicy"] === "") c["imagePullPolicy"] = defaultPullPolicy(c["image"]);
  defaultString(c, "terminationMessagePath", "/dev/termination-log");
  defaultString(c, "terminationMessagePolicy", "File");
  // ResourceRequirements is a value struct in Go, so it is always serialized (as {} when empty).
  const resources = ensure(c, "resources");
  defaultResourceRequirements(resources);
  for (const port of items(c, "ports")) defaultString(port, "protocol", "TCP");
  for (const env of items(c, "env")) {
    const fieldRef = child(child(env, "valueFrom") ?? {}, "fieldRef");
    if (fieldRef) defaultObjectFieldSelector(fieldRef);
  }
  for (const key of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    const probe = child(c, key);
    if (probe) defaultProbe(probe);
  }
  const lifecycle = child(c, "lifecycle");
  if (lifecycle) {
    for (const key of ["postStart", "preStop"]) {
      const httpGet = child(child(lifecycle, key) ?? {}, "httpGet");
      if (httpGet) defaultHTTPGetAction(httpGet);
    }
  }
}

/** Upstream SetDefaults_Probe plus the probe handler defaults. */
export function defaultProbe(probe: Obj): void {
  defaultInt(probe, "timeoutSeconds", 1);
  defaultInt(probe, "periodSeconds", 10);
  defaultInt(probe, "successThreshold", 1);
  defaultInt(probe, "failureThreshold", 3);
  const httpGet = child(probe, "httpGet");
  if (httpGet) defaultHTTPGetAction(httpGet);
  const grpc = child(probe, "grpc");
  if (grpc) defaultPtr(grpc, "service", "");
}

function defaultHTTPGetAction(action: Obj): void {
  defaultString(action, "path", "/");
  defaultString(action, "scheme", "HTTP");
}

function defaultObjectFieldSelector(selector: Obj): void {
  defaultString(selector, "apiVersion", "v1");
}

/** A container whose limits are set but requests are not gets requests = limits, per resource. */
function defaultRequestsFromLimits(c: Obj): void {
  const resources = child(c, "resources");
  if (!resources) return;
  const limits = child(resources, "limits");
  if (!limits) return;
  const requests = ensure(resources, "requests");
  if (!requests) return;
  for (const [name, value] of Object.entries(limits)) {
    if (!(name in requests)) requests[name] = value;
  }
}

/** Upstream SetDefaults_Volume and the per-source defaults of a pod volume. */
export function defaultVolume(volume: Obj): void {
  const hasSource = Object.entries(volume).some(([key, v]) => key !== "name" && !isNil(v));
  if (!hasSource) volume["emptyDir"] = {};
  const image = child(volume, "image");
  if (image && (isNil(image["pullPolicy"]) || image["pullPolicy"] === "")) {
    image["pullPolicy"] = defaultPullPolicy(image["reference"]);
  }
  defaultVolumeSource(volume);
  const secret = child(volume, "secret");
  if (secret) defaultPtr(secret, "defaultMode", DEFAULT_VOLUME_MODE);
  const configMap = child(volume, "configMap");
  if (configMap) defaultPtr(configMap, "defaultMode", DEFAULT_VOLUME_MODE);
  const downwardAPI = child(volume, "downwardAPI");
  if (downwardAPI) {
    defaultPtr(downwardAPI, "defaultMode", DEFAULT_VOLUME_MODE);
    defaultDownwardAPIItems(downwardAPI);
  }
  const projected = child(volume, "projected");
  if (projected) {
    defaultPtr(projected, "defaultMode", DEFAULT_VOLUME_MODE);
    for (const source of items(projected, "sources")) {
      const dapi = child(source, "downwardAPI");
      if (dapi) defaultDownwardAPIItems(dapi);
      const token = child(source, "serviceAccountToken");
      if (token) defaultPtr(token, "expirationSeconds", 3600);
    }
  }
  const ephemeral = child(volume, "ephemeral");
  const claimTemplate = ephemeral ? child(ephemeral, "volumeClaimTemplate") : undefined;
  if (claimTemplate) {
    const spec = ensure(claimTemplate, "spec");
    if (spec) defaultPersistentVolumeClaimSpec(spec);
  }
}

function defaultDownwardAPIItems(source: Obj): void {
  for (const item of items(source, "items")) {
    const fieldRef = child(item, "fieldRef");
    if (fieldRef) defaultObjectFieldSelector(fieldRef);
  }
}

// ---- pod-level resources (feature PodLevelResources, on by default since 1.34) ----

type ResourceMap = Map<string, Quantity>;

function parseList(v: unknown): ResourceMap {
  const out: ResourceMap = new Map();
  if (!isRecord(v)) return out;
  for (const [name, raw] of Object.entries(v)) {
    try {
      out.set(name, quantityFromJSON(raw));
    } catch {
      // invalid quantities are validation's business
    }
  }
  return out;
}

function containerList(c: Obj, key: "requests" | "limits"): ResourceMap {
  return parseList(child(c, "resources")?.[key]);
}

function addInto(sum: ResourceMap, add: ResourceMap): void {
  for (const [k, v] of add) sum.set(k, sum.get(k)?.add(v) ?? v);
}

function maxInto(acc: ResourceMap, other: ResourceMap): void {
  for (const [k, v] of other) {
    const cur = acc.get(k);
    if (!cur || v.cmp(cur) > 0) acc.set(k, v);
  }
}

/**
 * Effective requests (or limits) of a pod's containers, as upstream's AggregateContainerRequests:
 * the sum over regular and sidecar containers, raised to what any init container needs while the
 * sidecars started before it run.
 */
function aggregateContainers(spec: Obj, key: "requests" | "limits"): ResourceMap {
  const total: ResourceMap = new Map();
  for (const c of items(spec, "containers")) addInto(total, containerList(c, key));
  const sidecars: ResourceMap = new Map();
  const initPeak: ResourceMap = new Map();
  for (const c of items(spec, "initContainers")) {
    const own = containerList(c, key);
    if (c["restartPolicy"] === "Always") {
      addInto(sidecars, own);
      addInto(total, own);
      const running: ResourceMap = new Map(sidecars);
      maxInto(initPeak, running);
    } else {
      const running: ResourceMap = new Map(sidecars);
      addInto(running, own);
      maxInto(initPeak, running);
    }
  }
  maxInto(total, initPeak);
  return total;
}

function isHugePages(name: string): boolean {
  return name.startsWith("hugepages-");
}

function isPodLevelResource(name: string): boolean {
  return name === "cpu" || name === "memory" || isHugePages(name);
}

function allContainersHaveLimit(spec: Obj, name: string): boolean {
  const all = [...items(spec, "containers"), ...items(spec, "initContainers")];
  return all.every((c) => containerList(c, "limits").has(name));
}

function writeList(target: Obj, key: string, list: ResourceMap): void {
  const out: Obj = {};
  for (const [k, v] of list) out[k] = v.toString();
  target[key] = out;
}

/** Upstream defaultHugePagePodLimits, defaultPodRequests and defaultPodLimits. */
function defaultPodLevelResources(spec: Obj): void {
  const resources = child(spec, "resources");
  if (!resources) return;
  // Hugepage limits from containers, when the pod sets some pod-level resources.
  if (!isEmpty(resources["limits"]) || !isEmpty(resources["requests"])) {
    const limits = parseList(resources["limits"]);
    const requests = parseList(resources["requests"]);
    let changed = false;
    for (const [name, q] of aggregateContainers(spec, "limits")) {
      if (!isHugePages(name) || requests.has(name) || limits.has(name)) continue;
      limits.set(name, q);
      changed = true;
    }
    if (changed) writeList(resources, "limits", limits);
  }
  // Requests: from the containers' effective requests (overcommittable resources), then from limits.
  if (!isEmpty(resources["limits"])) {
    const requests = parseList(resources["requests"]);
    const before = requests.size;
    for (const [name, q] of aggregateContainers(spec, "requests")) {
      if (!requests.has(name) && isPodLevelResource(name) && !isHugePages(name)) requests.set(name, q);
    }
    for (const [name, q] of parseList(resources["limits"])) {
      if (!requests.has(name) && isPodLevelResource(name)) requests.set(name, q);
    }
    if (requests.size > 0 && requests.size !== before) writeList(resources, "requests", requests);
  }
  // Limits: from the containers' limits when every container limits the resource.
  const limitsSet = Object.keys(child(resources, "limits") ?? {}).some(isPodLevelResource);
  const requestsSet = Object.keys(child(resources, "requests") ?? {}).some(isPodLevelResource);
  if (!limitsSet && requestsSet) {
    const limits = parseList(resources["limits"]);
    const before = limits.size;
    for (const [name, q] of aggregateContainers(spec, "limits")) {
      if (limits.has(name) || !isPodLevelResource(name) || isHugePages(name)) continue;
      if (!allContainersHaveLimit(spec, name)) continue;
      limits.set(name, q);
    }
    if (limits.size > 0 && limits.size !== before) writeList(resources, "limits", limits);
  }
}
