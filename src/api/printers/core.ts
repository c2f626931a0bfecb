/** Printers for the core ("") group, after pkg/printers/internalversion/printers.go. */

import { isRecord, type KObject } from "../types.js";
import { AGE, ageOf, col, containerCells, isDeleting, NAME, nameOf, printer } from "./common.js";
import * as d from "./descriptions.js";
import { humanDuration, parseTime, since } from "./duration.js";
import { arr, at, num, optStr, rec, str, strMap } from "./json.js";
import { formatQuantity } from "./quantity.js";
import { formatLabels } from "./selectors.js";
import type { Printer, TableRowCondition } from "./types.js";
import { replicatedPrinter } from "./workloads.js";

// ---------------------------------------------------------------------------------------------
// pods

const NODE_UNREACHABLE_POD_REASON = "NodeLost";

function isRestartableInit(c: unknown): boolean {
  return str(at(c, "restartPolicy")) === "Always";
}

function conditionIs(conditions: unknown, type: string, status: string): boolean {
  return arr(conditions).some((c) => str(at(c, "type")) === type && str(at(c, "status")) === status);
}

/** The later of a zero-able time and a container's last termination time. */
function laterRestart(current: number | undefined, containerStatus: unknown): number | undefined {
  const terminated = at(containerStatus, "lastState", "terminated");
  if (!isRecord(terminated)) return current;
  const t = parseTime(terminated["finishedAt"]);
  if (t === undefined) return current;
  return current === undefined || current < t ? t : current;
}

export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

/** READY, STATUS and RESTARTS of a pod, computed as `kubectl get pods` shows them. */
export function podSummary(pod: KObject, now: Date): PodSummary {
  const spec = rec(pod["spec"]);
  const status = rec(pod["status"]);
  const initContainers = arr(spec["initContainers"]);
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = arr(spec["containers"]).length;
  let readyContainers = 0;
  let lastRestart: number | undefined;
  let lastRestartableInitRestart: number | undefined;

  const phase = str(status["phase"]);
  let reason = str(status["reason"]) !== "" ? str(status["reason"]) : phase;
  for (const c of arr(status["conditions"])) {
    if (str(at(c, "type")) === "PodScheduled" && str(at(c, "reason")) === "SchedulingGated") reason = "SchedulingGated";
  }

  const initByName = new Map<string, unknown>();
  for (const c of initContainers) {
    initByName.set(str(at(c, "name")), c);
    if (isRestartableInit(c)) totalContainers++;
  }

  let initializing = false;
  const initStatuses = arr(status["initContainerStatuses"]);
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    const restartCount = num(at(c, "restartCount"));
    restarts += restartCount;
    lastRestart = laterRestart(lastRestart, c);
    const restartable = isRestartableInit(initByName.get(str(at(c, "name"))));
    if (restartable) {
      restartableInitRestarts += restartCount;
      lastRestartableInitRestart = laterRestart(lastRestartableInitRestart, c);
    }
    const terminated = at(c, "state", "terminated");
    const waiting = at(c, "state", "waiting");
    if (isRecord(terminated) && num(terminated["exitCode"]) === 0) continue;
    if (restartable && at(c, "started") === true) {
      if (at(c, "ready") === true) readyContainers++;
      continue;
    }
    if (isRecord(terminated)) {
      const r = str(terminated["reason"]);
      if (r === "") {
        const signal = num(terminated["signal"]);
        reason = signal !== 0 ? `Init:Signal:${signal}` : `Init:ExitCode:${num(terminated["exitCode"])}`;
      } else {
        reason = `Init:${r}`;
      }
    } else if (isRecord(waiting) && str(waiting["reason"]) !== "" && str(waiting["reason"]) !== "PodInitializing") {
      reason = `Init:${str(waiting["reason"])}`;
    } else {
      reason = `Init:${i}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionIs(status["conditions"], "Initialized", "True")) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = arr(status["containerStatuses"]);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += num(at(c, "restartCount"));
      lastRestart = laterRestart(lastRestart, c);
      const waiting = at(c, "state", "waiting");
      const terminated = at(c, "state", "terminated");
      if (isRecord(waiting) && str(waiting["reason"]) !== "") {
        reason = str(waiting["reason"]);
      } else if (isRecord(terminated) && str(terminated["reason"]) !== "") {
        reason = str(terminated["reason"]);
      } else if (isRecord(terminated)) {
        const signal = num(terminated["signal"]);
        reason = signal !== 0 ? `Signal:${signal}` : `ExitCode:${num(terminated["exitCode"])}`;
      } else if (at(c, "ready") === true && isRecord(at(c, "state", "running"))) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      reason = conditionIs(status["conditions"], "Ready", "True") ? "Running" : "NotReady";
    }
  }

  if (isDeleting(pod) && str(status["reason"]) === NODE_UNREACHABLE_POD_REASON) {
    reason = "Unknown";
  } else if (isDeleting(pod) && phase !== "Succeeded" && phase !== "Failed") {
    reason = "Terminating";
  }

  let restartsStr = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) {
    restartsStr = `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)`;
  }
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsStr };
}

const podSucceeded: TableRowCondition[] = [
  { type: "Completed", status: "True", reason: "Succeeded", message: "The pod has completed successfully." },
];
const podFailed: TableRowCondition[] = [
  { type: "Completed", status: "True", reason: "Failed", message: "The pod failed." },
];

export const podPrinter: Printer = printer(
  [
    NAME,
    col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    col("Status", "string", "The aggregate status of the containers in this pod."),
    col(
      "Restarts",
      "string",
      "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    col("IP", "string", d.podStatusPodIP, { priority: 1 }),
    col("Node", "string", d.podSpecNodeName, { priority: 1 }),
    col("Nominated Node", "string", d.podStatusNominatedNodeName, { priority: 1 }),
    col("Readiness Gates", "string", d.podSpecReadinessGates, { priority: 1 }),
  ],
  (pod, now) => {
    const s = podSummary(pod, now);
    const spec = rec(pod["spec"]);
    const status = rec(pod["status"]);
    const podIP = str(at(status["podIPs"], 0, "ip")) || "<none>";
    const nodeName = str(spec["nodeName"]) || "<none>";
    const nominated = str(status["nominatedNodeName"]) || "<none>";
    let gates = "<none>";
    const readinessGates = arr(spec["readinessGates"]);
    if (readinessGates.length > 0) {
      let trueConditions = 0;
      for (const g of readinessGates) {
        const cond = arr(status["conditions"]).find((c) => str(at(c, "type")) === str(at(g, "conditionType")));
        if (cond !== undefined && str(at(cond, "status")) === "True") trueConditions++;
      }
      gates = `${trueConditions}/${readinessGates.length}`;
    }
    return [nameOf(pod), s.ready, s.status, s.restarts, ageOf(pod, now), podIP, nodeName, nominated, gates];
  },
  (pod) => {
    const phase = str(at(pod, "status", "phase"));
    if (phase === "Succeeded") return podSucceeded;
    if (phase === "Failed") return podFailed;
    return undefined;
  },
);

export const podTemplatePrinter: Printer = printer(
  [
    NAME,
    col("Containers", "string", "Names of each container in the template."),
    col("Images", "string", "Images referenced by each container in the template."),
    col("Pod Labels", "string", "The labels for the pod template."),
  ],
  (obj) => {
    const [names, images] = containerCells(at(obj, "template", "spec", "containers"));
    return [nameOf(obj), names, images, formatLabels(at(obj, "template", "metadata", "labels"))];
  },
);

export const replicationControllerPrinter: Printer = replicatedPrinter(
  {
    replicas: d.rcSpecReplicas,
    current: d.rcStatusReplicas,
    ready: d.rcStatusReadyReplicas,
    selector: d.rcSpecSelector,
  },
  formatLabels,
);

// ---------------------------------------------------------------------------------------------
// services and endpoints

/** loadBalancerStatusStringer with wide=true: IPs (or hostnames), sorted, unique, ",". */
export function loadBalancerIngress(status: unknown): string {
  const set = new Set<string>();
  for (const ing of arr(at(status, "ingress"))) {
    const ip = str(at(ing, "ip"));
    const host = str(at(ing, "hostname"));
    if (ip !== "") set.add(ip);
    else if (host !== "") set.add(host);
  }
  return [...set].sort().join(",");
}

function serviceExternalIP(svc: KObject): string {
  const spec = rec(svc["spec"]);
  const externalIPs = arr(spec["externalIPs"]).map(str);
  switch (str(spec["type"])) {
    case "ClusterIP":
    case "NodePort":
      return externalIPs.length > 0 ? externalIPs.join(",") : "<none>";
    case "LoadBalancer": {
      const lb = loadBalancerIngress(at(svc, "status", "loadBalancer"));
      if (externalIPs.length > 0) return [...(lb !== "" ? lb.split(",") : []), ...externalIPs].join(",");
      return lb !== "" ? lb : "<pending>";
    }
    case "ExternalName":
      return str(spec["externalName"]);
    default:
      return "<unknown>";
  }
}

function servicePorts(ports: unknown): string {
  return arr(ports)
    .map((p) => {
      const port = num(at(p, "port"));
      const proto = str(at(p, "protocol"));
      const nodePort = num(at(p, "nodePort"));
      return nodePort > 0 ? `${port}:${nodePort}/${proto}` : `${port}/${proto}`;
    })
    .join(",");
}

export const servicePrinter: Printer = printer(
  [
    NAME,
    col("Type", "string", d.serviceSpecType),
    col("Cluster-IP", "string", d.serviceSpecClusterIP),
    col("External-IP", "string", d.serviceSpecExternalIPs),
    col("Port(s)", "string", d.serviceSpecPorts),
    AGE,
    col("Selector", "string", d.serviceSpecSelector, { priority: 1 }),
  ],
  (svc, now) => {
    const spec = rec(svc["spec"]);
    const clusterIPs = arr(spec["clusterIPs"]);
    const internalIP = clusterIPs.length > 0 ? str(clusterIPs[0]) : "<none>";
    const ports = servicePorts(spec["ports"]) || "<none>";
    return [
      nameOf(svc),
      str(spec["type"]),
      internalIP,
      serviceExternalIP(svc),
      ports,
      ageOf(svc, now),
      formatLabels(spec["selector"]),
    ];
  },
);

/** net.JoinHostPort: IPv6 addresses get brackets. */
function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** formatEndpoints with all ports: up to three "ip:port" entries, then " + N more...". */
export function formatEndpoints(endpoints: KObject): string {
  const subsets = arr(endpoints["subsets"]);
  if (subsets.length === 0) return "<none>";
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses = arr(at(ss, "addresses"));
    const ports = arr(at(ss, "ports"));
    if (ports.length === 0) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(str(at(a, "ip")));
      }
      continue;
    }
    for (const p of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(str(at(a, "ip")), num(at(p, "port"))));
      }
    }
  }
  const ret = list.join(",");
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpointsPrinter: Printer = printer(
  [NAME, col("Endpoints", "string", d.endpointsSubsets), AGE],
  (obj, now) => [nameOf(obj), formatEndpoints(obj), ageOf(obj, now)],
);

// ---------------------------------------------------------------------------------------------
// nodes and namespaces

const NODE_ROLE_PREFIX = "node-role.kubernetes.io/";
const NODE_ROLE_LABEL = "kubernetes.io/role";

/** findNodeRoles: node-role.kubernetes.io/<role> keys and kubernetes.io/role values, sorted. */
export function nodeRoles(labels: Record<string, string>): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith(NODE_ROLE_PREFIX)) {
      const role = k.slice(NODE_ROLE_PREFIX.length);
      if (role !== "") roles.add(role);
    } else if (k === NODE_ROLE_LABEL && v !== "") {
      roles.add(v);
    }
  }
  return [...roles].sort();
}

function nodeAddress(node: KObject, type: string): string {
  const a = arr(at(node, "status", "addresses")).find((x) => str(at(x, "type")) === type);
  return a === undefined ? "<none>" : str(at(a, "address"));
}

export const nodePrinter: Printer = printer(
  [
    NAME,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", d.nodeInfoKubeletVersion),
    col("Internal-IP", "string", d.nodeStatusAddresses, { priority: 1 }),
    col("External-IP", "string", d.nodeStatusAddresses, { priority: 1 }),
    col("OS-Image", "string", d.nodeInfoOSImage, { priority: 1 }),
    col("Kernel-Version", "string", d.nodeInfoKernelVersion, { priority: 1 }),
    col("Container-Runtime", "string", d.nodeInfoContainerRuntimeVersion, { priority: 1 }),
  ],
  (node, now) => {
    const status: string[] = [];
    // Later conditions of the same type win, as in upstream's condition map.
    const ready = arr(at(node, "status", "conditions"))
      .filter((c) => str(at(c, "type")) === "Ready")
      .pop();
    if (ready !== undefined) status.push(str(at(ready, "status")) === "True" ? "Ready" : "NotReady");
    if (status.length === 0) status.push("Unknown");
    if (at(node, "spec", "unschedulable") === true) status.push("SchedulingDisabled");
    const roles = nodeRoles(strMap(node.metadata?.labels)).join(",") || "<none>";
    const info = rec(at(node, "status", "nodeInfo"));
    return [
      nameOf(node),
      status.join(","),
      roles,
      ageOf(node, now),
      str(info["kubeletVersion"]),
      nodeAddress(node, "InternalIP"),
      nodeAddress(node, "ExternalIP"),
      str(info["osImage"]) || "<unknown>",
      str(info["kernelVersion"]) || "<unknown>",
      str(info["containerRuntimeVersion"]) || "<unknown>",
    ];
  },
);

export const namespacePrinter: Printer = printer(
  [NAME, col("Status", "string", "The status of the namespace"), AGE],
  (obj, now) => [nameOf(obj), str(at(obj, "status", "phase")), ageOf(obj, now)],
);

// ---------------------------------------------------------------------------------------------
// events

/** An events.k8s.io/v1 Event seen through the core/v1 Event fields the printer reads. */
function asCoreEvent(ev: KObject): KObject {
  if (!("regarding" in ev) && !("note" in ev) && !("deprecatedSource" in ev)) return ev;
  return {
    ...ev,
    involvedObject: ev["regarding"],
    message: ev["note"],
    source: ev["deprecatedSource"],
    firstTimestamp: ev["deprecatedFirstTimestamp"],
    lastTimestamp: ev["deprecatedLastTimestamp"],
    count: ev["deprecatedCount"],
  };
}

function formatEventSource(ev: KObject): string {
  const component = str(at(ev, "source", "component")) || str(ev["reportingController"]);
  const host = str(at(ev, "source", "host")) || str(ev["reportingInstance"]);
  return host === "" ? component : `${component}, ${host}`;
}

export const eventPrinter: Printer = printer(
  [
    col("Last Seen", "string", d.eventLastTimestamp),
    col("Type", "string", d.eventType),
    col("Reason", "string", d.eventReason),
    col("Object", "string", d.eventInvolvedObject),
    col("Subobject", "string", d.objectReferenceFieldPath, { priority: 1 }),
    col("Source", "string", d.eventSource, { priority: 1 }),
    col("Message", "string", d.eventMessage),
    col("First Seen", "string", d.eventFirstTimestamp, { priority: 1 }),
    col("Count", "string", d.eventCount, { priority: 1 }),
    col("Name", "string", d.metaName, { priority: 1, format: "name" }),
  ],
  (stored, now) => {
    const ev = asCoreEvent(stored);
    let first = since(ev["firstTimestamp"], now);
    if (parseTime(ev["firstTimestamp"]) === undefined) first = since(ev["eventTime"], now);
    let last = since(ev["lastTimestamp"], now);
    if (parseTime(ev["lastTimestamp"]) === undefined) last = first;
    let count = num(ev["count"]);
    const series = ev["series"];
    if (isRecord(series)) {
      last = since(series["lastObservedTime"], now);
      count = num(series["count"]);
    } else if (count === 0) {
      count = 1;
    }
    const kind = str(at(ev, "involvedObject", "kind")).toLowerCase();
    const objName = str(at(ev, "involvedObject", "name"));
    const target = objName !== "" ? `${kind}/${objName}` : kind;
    return [
      last,
      str(ev["type"]),
      str(ev["reason"]),
      target,
      str(at(ev, "involvedObject", "fieldPath")),
      formatEventSource(ev),
      str(ev["message"]).trim(),
      first,
      count,
      nameOf(ev),
    ];
  },
);

// ---------------------------------------------------------------------------------------------
// config and accounts

export const secretPrinter: Printer = printer(
  [NAME, col("Type", "string", d.secretType), col("Data", "string", d.secretData), AGE],
  (obj, now) => [nameOf(obj), str(obj["type"]), Object.keys(rec(obj["data"])).length, ageOf(obj, now)],
);

export const configMapPrinter: Printer = printer([NAME, col("Data", "string", d.configMapData), AGE], (obj, now) => [
  nameOf(obj),
  Object.keys(rec(obj["data"])).length + Object.keys(rec(obj["binaryData"])).length,
  ageOf(obj, now),
]);

export const serviceAccountPrinter: Printer = printer(
  [NAME, col("Secrets", "string", d.serviceAccountSecrets), AGE],
  (obj, now) => [nameOf(obj), arr(obj["secrets"]).length, ageOf(obj, now)],
);

export const componentStatusPrinter: Printer = printer(
  [
    NAME,
    col("Status", "string", "Status of the component conditions"),
    col("Message", "string", "Message of the component conditions"),
    col("Error", "string", "Error of the component conditions"),
  ],
  (obj) => {
    let status = "Unknown";
    let message = "";
    let error = "";
    const healthy = arr(obj["conditions"]).find((c) => str(at(c, "type")) === "Healthy");
    if (healthy !== undefined) {
      status = str(at(healthy, "status")) === "True" ? "Healthy" : "Unhealthy";
      message = str(at(healthy, "message"));
      error = str(at(healthy, "error"));
    }
    return [nameOf(obj), status, message, error];
  },
);

export const resourceQuotaPrinter: Printer = printer(
  [
    NAME,
    col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
    col(
      "Limit",
      "string",
      "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
    AGE,
  ],
  (obj, now) => {
    const hard = rec(at(obj, "status", "hard"));
    const used = rec(at(obj, "status", "used"));
    const requests: string[] = [];
    const limits: string[] = [];
    for (const resource of Object.keys(hard).sort()) {
      const pieces = resource.split(".");
      const target = pieces.length > 1 && pieces[0] === "limits" ? limits : requests;
      target.push(`${resource}: ${formatQuantity(used[resource])}/${formatQuantity(hard[resource])}`);
    }
    return [nameOf(obj), requests.join(", "), limits.join(", "), ageOf(obj, now)];
  },
);

// ---------------------------------------------------------------------------------------------
// persistent volumes

const BETA_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class";

/** GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, each once. */
export function accessModes(modes: unknown): string {
  const set = new Set(arr(modes).map(str));
  const out: string[] = [];
  if (set.has("ReadWriteOnce")) out.push("RWO");
  if (set.has("ReadOnlyMany")) out.push("ROX");
  if (set.has("ReadWriteMany")) out.push("RWX");
  if (set.has("ReadWriteOncePod")) out.push("RWOP");
  return out.join(",");
}

function storageClassOf(obj: KObject): string {
  const annotations = obj.metadata?.annotations;
  if (annotations !== undefined && BETA_STORAGE_CLASS_ANNOTATION in annotations) {
    return annotations[BETA_STORAGE_CLASS_ANNOTATION] ?? "";
  }
  return str(at(obj, "spec", "storageClassName"));
}

export const persistentVolumePrinter: Printer = printer(
  [
    NAME,
    col("Capacity", "string", d.pvSpecCapacity),
    col("Access Modes", "string", d.pvSpecAccessModes),
    col("Reclaim Policy", "string", d.pvSpecReclaimPolicy),
    col("Status", "string", d.pvStatusPhase),
    col("Claim", "string", d.pvSpecClaimRef),
    col("StorageClass", "string", "StorageClass of the pv"),
    col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
    col("Reason", "string", d.pvStatusReason),
    AGE,
    col("VolumeMode", "string", d.pvSpecVolumeMode, { priority: 1 }),
  ],
  (pv, now) => {
    const spec = rec(pv["spec"]);
    const claimRef = spec["claimRef"];
    const claim = isRecord(claimRef) ? `${str(claimRef["namespace"])}/${str(claimRef["name"])}` : "";
    const phase = isDeleting(pv) ? "Terminating" : str(at(pv, "status", "phase"));
    return [
      nameOf(pv),
      formatQuantity(at(spec, "capacity", "storage")),
      accessModes(spec["accessModes"]),
      str(spec["persistentVolumeReclaimPolicy"]),
      phase,
      claim,
      storageClassOf(pv),
      optStr(spec["volumeAttributesClassName"]) ?? "<unset>",
      str(at(pv, "status", "reason")),
      ageOf(pv, now),
      optStr(spec["volumeMode"]) ?? "<unset>",
    ];
  },
);

export const persistentVolumeClaimPrinter: Printer = printer(
  [
    NAME,
    col("Status", "string", d.pvcStatusPhase),
    col("Volume", "string", d.pvcSpecVolumeName),
    col("Capacity", "string", d.pvcStatusCapacity),
    col("Access Modes", "string", d.pvcStatusAccessModes),
    col("StorageClass", "string", "StorageClass of the pvc"),
    col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
    AGE,
    col("VolumeMode", "string", d.pvcSpecVolumeMode, { priority: 1 }),
  ],
  (pvc, now) => {
    const spec = rec(pvc["spec"]);
    const phase = isDeleting(pvc) ? "Terminating" : str(at(pvc, "status", "phase"));
    const volumeName = str(spec["volumeName"]);
    let capacity = "";
    let modes = "";
    if (volumeName !== "") {
      modes = accessModes(at(pvc, "status", "accessModes"));
      capacity = formatQuantity(at(pvc, "status", "capacity", "storage"));
    }
    return [
      nameOf(pvc),
      phase,
      volumeName,
      capacity,
      modes,
      storageClassOf(pvc),
      optStr(spec["volumeAttributesClassName"]) ?? "<unset>",
      ageOf(pvc, now),
      optStr(spec["volumeMode"]) ?? "<unset>",
    ];
  },
);
