/** Prometheus metrics of the API server (/metrics). */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "apiserver_request_total",
    help: "Counter of apiserver requests broken out for each verb, group, version, resource and HTTP response code.",
    labelNames: ["verb", "group", "version", "resource", "subresource", "code"],
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "apiserver_request_duration_seconds",
    help: "Response latency distribution in seconds for each verb, group, version and resource.",
    labelNames: ["verb", "group", "version", "resource", "subresource"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly watchers = new Gauge({
    name: "apiserver_registered_watchers",
    help: "Number of currently registered watchers.",
    registers: [this.registry],
  });
  readonly storeLatency = new Histogram({
    name: "k8ts_store_request_duration_seconds",
    help: "Store request latency in seconds by operation.",
    labelNames: ["operation", "backend"],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly storeObjects = new Gauge({
    name: "apiserver_storage_objects",
    help: "Number of stored objects at the time of last check split by kind.",
    labelNames: ["resource"],
    registers: [this.registry],
  });
}
