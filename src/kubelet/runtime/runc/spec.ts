/**
 * The OCI runtime spec (1.0.x config.json) of a container, built as containerd's CRI plugin
 * builds it: containerd's default capabilities, mounts (/proc, /dev, /dev/pts, /dev/shm,
 * /dev/mqueue, /sys, /run, /sys/fs/cgroup), masked and read-only paths, plus ours (the k8ts data
 * dir, the kubelet root, the runtime's own state: host paths a container must never see, because
 * its root filesystem is an overlay of the host's). Pure: everything it needs is in `SpecInput`.
 *
 * Rootless (`SpecInput.rootless`, as `runc spec --rootless` differs from `runc spec`): a user
 * namespace mapping container uid/gid 0 to the node user's, /sys bind-mounted read-only instead of
 * a new sysfs, /dev/pts without gid=5 (unmapped), no device cgroup rules and no host devices (runc
 * bind-mounts its standard device nodes itself in a user namespace), no cgroup at all unless one is
 * delegated, the host's root bound read-only (see ./rootfs.ts) under a read-only root, and private
 * tmpfs where the container may write.
 */
import { posix } from "node:path";
import type { ContainerResources, Mount } from "../types.js";

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciDevice {
  path: string;
  type: "c" | "b";
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciDeviceRule {
  allow: boolean;
  type?: "a" | "c" | "b";
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  annotations: Record<string, string>;
  linux: {
    /** Absent: runc puts the container in no cgroup of its own (rootless without delegation). */
    cgroupsPath?: string;
    namespaces: Array<{ type: string; path?: string }>;
    uidMappings?: OciIdMapping[];
    gidMappings?: OciIdMapping[];
    resources: {
      devices?: OciDeviceRule[];
      memory?: { limit: number; swap?: number };
      cpu?: { shares?: number; quota?: number; period?: number };
    };
    devices?: OciDevice[];
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

/** containerd's default capability set for unprivileged containers. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** Every capability Linux defines up to CAP_CHECKPOINT_RESTORE (privileged containers get all). */
export const ALL_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
];

/** Capability names of a capability mask (bit n = capability number n, as /proc/<pid>/status shows). */
export function capabilitiesOf(mask: bigint): string[] {
  return ALL_CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

/** The bounding set of this process (what any container can at most get), from /proc/self/status text. */
export function boundingSetOf(statusText: string): string[] {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(statusText);
  return m ? capabilitiesOf(BigInt(`0x${m[1]}`)) : [...ALL_CAPABILITIES];
}

/** containerd's default masked paths. */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
  "/proc/scsi",
];

/** containerd's default read-only paths. */
export const DEFAULT_READONLY_PATHS: readonly string[] = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** CFS period, as the kubelet's. */
export const CPU_PERIOD = 100_000;

/** cpu.shares from a CPU request, as upstream's MilliCPUToShares (2 .. 262144). */
export function milliCpuToShares(milli: number): number {
  if (milli <= 0) return 2;
  const shares = Math.floor((milli * 1024) / 1000);
  return Math.min(262_144, Math.max(2, shares));
}

/** CFS quota from a CPU limit, as upstream's MilliCPUToQuota (0 = none; at least 1 ms). */
export function milliCpuToQuota(milli: number, period: number = CPU_PERIOD): number {
  if (milli <= 0) return 0;
  return Math.max(1000, Math.floor((milli * period) / 1000));
}

/**
 * The container's environment: PATH (when the pod does not set it: no image supplies one),
 * HOSTNAME, TERM for a TTY, then the pod's variables, which win.
 */
export function containerEnv(env: Array<{ name: string; value: string }>, hostname: string, tty: boolean): string[] {
  const out = new Map<string, string>();
  out.set("PATH", DEFAULT_PATH);
  out.set("HOSTNAME", hostname);
  if (tty) out.set("TERM", "xterm");
  for (const e of env) {
    out.delete(e.name);
    out.set(e.name, e.value);
  }
  return [...out].map(([k, v]) => `${k}=${v}`);
}

/** A container path must be absolute, without `..`; returns it cleaned. */
export function cleanContainerPath(p: string): string {
  if (!p.startsWith("/")) throw new Error(`container path "${p}" is not absolute`);
  if (p.split("/").includes("..")) throw new Error(`container path "${p}" must not contain ".."`);
  if (p.includes("\0")) throw new Error("container path contains a NUL byte");
  return posix.normalize(p).replace(/\/+$/, "") || "/";
}

/** Bind mounts in the order to make them: parents before children (by path depth, stable). */
export function bindMounts(mounts: Mount[]): OciMount[] {
  const cleaned = mounts.map((m, i) => ({ m, i, dest: cleanContainerPath(m.containerPath) }));
  for (const c of cleaned) if (c.dest === "/") throw new Error("a volume cannot be mounted at /");
  cleaned.sort((a, b) => depth(a.dest) - depth(b.dest) || a.i - b.i);
  return cleaned.map(({ m, dest }) => ({
    destination: dest,
    type: "bind",
    source: m.hostPath,
    options: ["rbind", "rprivate", m.readOnly ? "ro" : "rw"],
  }));
}

function depth(p: string): number {
  return p === "/" ? 0 : p.split("/").length - 1;
}

/** A container run by a user without root (see the header). */
export interface RootlessSpec {
  /** The node user's uid and gid: container uid/gid 0. */
  hostUid: number;
  hostGid: number;
  /** The container has a cgroup (a delegated cgroup v2 subtree): limits apply. Else no cgroupsPath, no limits. */
  cgroups: boolean;
  /** The host's root entries, bind-mounted read-only (./rootfs.ts `hostRootPlan`); made before every other mount. */
  rootBinds: OciMount[];
  /** Private tmpfs besides /run (which every container has): /tmp, /var/tmp. */
  tmpfs: string[];
}

export interface SpecInput {
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  tty: boolean;
  hostname: string;
  rootfs: string;
  readonlyRootfs: boolean;
  /** The pod's network namespace; undefined = the node's (hostNetwork). */
  netnsPath: string | undefined;
  cgroupsPath: string;
  cgroupVersion: 1 | 2;
  /** Volume mounts (bind mounts), the pod's /etc/hosts etc. included. */
  mounts: Mount[];
  resources: ContainerResources;
  /** Swap can be limited (v1 memsw), so a memory limit also forbids swap. */
  limitSwap: boolean;
  privileged: boolean;
  /**
   * Capabilities the runtime itself holds: a privileged container gets all of them (containerd's
   * "all current capabilities"), the default set is cut to them.
   */
  hostCapabilities: readonly string[];
  /** Host devices a privileged container gets. */
  hostDevices: OciDevice[];
  /** Host paths to hide (ours, existing), added to containerd's defaults. */
  maskedPaths: string[];
  /** Paths to hide that do not exist yet on the host: an empty read-only tmpfs goes there. */
  maskMounts: string[];
  annotations: Record<string, string>;
  /** Run without root on the host (absent: as root). */
  rootless?: RootlessSpec;
}

export function buildSpec(input: SpecInput): OciSpec {
  const caps = input.privileged
    ? [...input.hostCapabilities]
    : DEFAULT_CAPABILITIES.filter((c) => input.hostCapabilities.includes(c));
  const sysOpts = ["nosuid", "noexec", "nodev", input.privileged ? "rw" : "ro"];
  const rl = input.rootless;
  const sys: OciMount = rl
    ? { destination: "/sys", type: "bind", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"] }
    : { destination: "/sys", type: "sysfs", source: "sysfs", options: sysOpts };
  const cgroupMount: OciMount[] =
    rl && !rl.cgroups
      ? [] // /sys/fs/cgroup comes read-only with /sys
      : [
          {
            destination: "/sys/fs/cgroup",
            type: "cgroup",
            source: "cgroup",
            options: ["nosuid", "noexec", "nodev", "relatime", input.privileged && !rl ? "rw" : "ro"],
          },
        ];
  const mounts: OciMount[] = [
    ...(rl?.rootBinds ?? []),
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      // gid 5 (tty) is not mapped in a rootless container's user namespace
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", ...(rl ? [] : ["gid=5"])],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    sys,
    ...cgroupMount,
    {
      destination: "/run",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    ...(rl?.tmpfs ?? []).map((p) => ({
      destination: cleanContainerPath(p),
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "nodev", "mode=1777"],
    })),
    ...bindMounts(input.mounts),
    ...input.maskMounts.map((p) => ({
      destination: cleanContainerPath(p),
      type: "tmpfs",
      source: "tmpfs",
      options: ["ro", "nosuid", "nodev", "noexec", "mode=755"],
    })),
  ];
  const namespaces: Array<{ type: string; path?: string }> = [
    { type: "pid" },
    { type: "ipc" },
    { type: "uts" },
    { type: "mount" },
  ];
  if (input.netnsPath !== undefined) namespaces.push({ type: "network", path: input.netnsPath });
  if (input.cgroupVersion === 2 && (!rl || rl.cgroups)) namespaces.push({ type: "cgroup" });
  if (rl) namespaces.push({ type: "user" });

  // rootless: no device cgroup (runc cannot set one up without root; its standard nodes are bind mounts)
  const resources: OciSpec["linux"]["resources"] = rl
    ? {}
    : { devices: [input.privileged ? { allow: true, access: "rwm" } : { allow: false, access: "rwm" }] };
  const r = input.resources;
  // rootless without a delegated cgroup: runc refuses limits it cannot apply, so there are none (the runtime warns)
  const limits = !rl || rl.cgroups;
  if (limits && r.memoryLimitBytes > 0) {
    resources.memory = input.limitSwap
      ? { limit: r.memoryLimitBytes, swap: r.memoryLimitBytes }
      : { limit: r.memoryLimitBytes };
  }
  if (limits) {
    const cpu: { shares?: number; quota?: number; period?: number } = { shares: milliCpuToShares(r.cpuRequestMilli) };
    if (r.cpuLimitMilli > 0) {
      cpu.quota = milliCpuToQuota(r.cpuLimitMilli);
      cpu.period = CPU_PERIOD;
    }
    resources.cpu = cpu;
  }

  const masked = [...(input.privileged ? [] : DEFAULT_MASKED_PATHS), ...input.maskedPaths];
  const spec: OciSpec = {
    ociVersion: "1.0.2",
    process: {
      terminal: input.tty,
      user: { uid: input.uid, gid: input.gid },
      args: input.argv,
      env: input.env,
      cwd: input.cwd,
      capabilities: { bounding: caps, effective: [...caps], permitted: [...caps] },
      noNewPrivileges: false,
    },
    // rootless: the root directory only holds mount points; the container writes to its tmpfs and volumes
    root: { path: input.rootfs, readonly: rl ? true : input.readonlyRootfs },
    hostname: input.hostname,
    mounts,
    annotations: input.annotations,
    linux: {
      ...(rl && !rl.cgroups ? {} : { cgroupsPath: input.cgroupsPath }),
      namespaces,
      ...(rl
        ? {
            uidMappings: [{ containerID: 0, hostID: rl.hostUid, size: 1 }],
            gidMappings: [{ containerID: 0, hostID: rl.hostGid, size: 1 }],
          }
        : {}),
      resources,
      maskedPaths: [...new Set(masked)],
      readonlyPaths: input.privileged ? [] : [...DEFAULT_READONLY_PATHS],
    },
  };
  if (input.privileged && !rl && input.hostDevices.length > 0) spec.linux.devices = input.hostDevices;
  return spec;
}
