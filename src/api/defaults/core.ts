/** core/v1 defaults other than Pods and volumes (kubernetes pkg/apis/core/v1/defaults.go). */
import { isRecord } from "../types.js";
import { child, defaultPtr, defaultString, ensure, isEmpty, isNil, items, type Obj } from "./fields.js";
import { defaultPodTemplate } from "./pod.js";
import { defaultResourceList } from "./resources.js";

/** Default ClientIP session affinity timeout: three hours. */
export const DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS = 10800;

export function defaultService(svc: Obj): void {
  const spec = ensure(svc, "spec");
  if (!spec) return;
  defaultString(spec, "sessionAffinity", "None");
  if (spec["sessionAffinity"] === "None") delete spec["sessionAffinityConfig"];
  if (spec["sessionAffinity"] === "ClientIP") {
    const timeout = child(child(spec, "sessionAffinityConfig") ?? {}, "clientIP")?.["timeoutSeconds"];
    if (isNil(timeout)) {
      spec["sessionAffinityConfig"] = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_SERVICE_AFFINITY_SECONDS } };
    }
  }
  defaultString(spec, "type", "ClusterIP");
  const type = spec["type"];
  for (const port of items(spec, "ports")) {
    defaultString(port, "protocol", "TCP");
    const target = port["targetPort"];
    if (isNil(target) || target === 0 || target === "") port["targetPort"] = port["port"] ?? 0;
  }
  const externallyAccessible =
    type === "LoadBalancer" || type === "NodePort" || (type === "ClusterIP" && !isEmpty(spec["externalIPs"]));
  if (externallyAccessible) defaultString(spec, "externalTrafficPolicy", "Cluster");
  if (type === "NodePort" || type === "LoadBalancer" || type === "ClusterIP") {
    defaultPtr(spec, "internalTrafficPolicy", "Cluster");
  }
  if (type === "LoadBalancer") {
    defaultPtr(spec, "allocateLoadBalancerNodePorts", true);
    const lb = child(child(svc, "status") ?? {}, "loadBalancer");
    for (const ingress of lb ? items(lb, "ingress") : []) {
      if (typeof ingress["ip"] === "string" && ingress["ip"] !== "") defaultPtr(ingress, "ipMode", "VIP");
    }
  }
}

/** ReplicationController: selector and labels from the template's labels, replicas 1, template defaults. */
export function defaultReplicationController(rc: Obj): void {
  const spec = ensure(rc, "spec");
  if (!spec) return;
  const template = child(spec, "template");
  const labels = template ? child(template, "metadata")?.["labels"] : undefined;
  if (isRecord(labels)) {
    if (isEmpty(spec["selector"])) spec["selector"] = { ...labels };
    const meta = ensure(rc, "metadata");
    if (meta && isEmpty(meta["labels"])) meta["labels"] = { ...labels };
  }
  defaultPtr(spec, "replicas", 1);
  defaultPodTemplate(template);
}

export function defaultPodTemplateObject(pt: Obj): void {
  const template = ensure(pt, "template");
  defaultPodTemplate(template);
}

export function defaultEndpoints(ep: Obj): void {
  for (const subset of items(ep, "subsets")) {
    for (const port of items(subset, "ports")) defaultString(port, "protocol", "TCP");
  }
}

/** Namespace: the kubernetes.io/metadata.name label (when named) and status phase Active. */
export function defaultNamespace(ns: Obj): void {
  const meta = ensure(ns, "metadata");
  const name = meta?.["name"];
  if (meta && typeof name === "string" && name.length > 0) {
    const labels = ensure(meta, "labels");
    if (labels) labels["kubernetes.io/metadata.name"] = name;
  }
  const status = ensure(ns, "status");
  if (status) defaultString(status, "phase", "Active");
}

/** Node: allocatable defaults to capacity; both lists rounded. */
export function defaultNode(node: Obj): void {
  const status = child(node, "status");
  if (!status) return;
  const capacity = child(status, "capacity");
  if (isNil(status["allocatable"]) && capacity) status["allocatable"] = { ...capacity };
  defaultResourceList(status, "capacity");
  defaultResourceList(status, "allocatable");
}

export function defaultSecret(secret: Obj): void {
  defaultString(secret, "type", "Opaque");
}

/** LimitRange: for Container items, default limit from max, default request from the default limit, then min. */
export function defaultLimitRange(lr: Obj): void {
  for (const item of items(child(lr, "spec") ?? {}, "limits")) {
    if (item["type"] === "Container") {
      const def = ensure(item, "default");
      const defReq = ensure(item, "defaultRequest");
      if (def && defReq) {
        for (const [k, v] of Object.entries(child(item, "max") ?? {})) if (!(k in def)) def[k] = v;
        for (const [k, v] of Object.entries(def)) if (!(k in defReq)) defReq[k] = v;
        for (const [k, v] of Object.entries(child(item, "min") ?? {})) if (!(k in defReq)) defReq[k] = v;
      }
      // Go omits empty maps when serializing, so an empty default stays invisible.
      if (isEmpty(item["default"])) delete item["default"];
      if (isEmpty(item["defaultRequest"])) delete item["defaultRequest"];
    }
    for (const key of ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"]) {
      defaultResourceList(item, key);
    }
  }
}

export function defaultResourceQuota(rq: Obj): void {
  defaultResourceList(child(rq, "spec"), "hard");
  const status = child(rq, "status");
  defaultResourceList(status, "hard");
  defaultResourceList(status, "used");
}
