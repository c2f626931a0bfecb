/**
 * Source NAT for traffic leaving the pod CIDR (pods reaching the node's network and beyond), as
 * the bridge plugin's ipMasq: nftables when `nft` exists, else iptables, else nothing — and the
 * caller says so, because without it pods reach only the node and each other.
 */
import { findExecutable, runTool } from "./command.js";

export type MasqueradeBackend = { kind: "nft"; path: string } | { kind: "iptables"; path: string } | { kind: "none" };

export function detectMasqueradeBackend(): MasqueradeBackend {
  const nft = findExecutable("nft");
  if (nft) return { kind: "nft", path: nft };
  const ipt = findExecutable("iptables");
  if (ipt) return { kind: "iptables", path: ipt };
  return { kind: "none" };
}

/** nft's ruleset for the CIDR: our own table, so nothing else's rules are touched. */
export function nftRuleset(table: string, cidr: string): string {
  return [
    `table ip ${table} {`,
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    ip saddr ${cidr} ip daddr != ${cidr} masquerade`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** iptables rule spec (after -C/-A POSTROUTING) for the CIDR. */
export function iptablesRule(cidr: string, comment: string): string[] {
  return ["-s", cidr, "!", "-d", cidr, "-m", "comment", "--comment", comment, "-j", "MASQUERADE"];
}

/** nft table name for a bridge (letters, digits and underscores only). */
export function nftTableName(bridge: string): string {
  return `k8ts_${bridge.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** Installs the rule (idempotently). Resolves with what was done, for the log. */
export async function ensureMasquerade(backend: MasqueradeBackend, bridge: string, cidr: string): Promise<string> {
  switch (backend.kind) {
    case "nft": {
      const table = nftTableName(bridge);
      // delete-then-add inside one transaction replaces our table atomically
      const existing = await runTool(backend.path, ["list", "table", "ip", table]);
      const script = `${existing.code === 0 ? `delete table ip ${table}\n` : ""}${nftRuleset(table, cidr)}`;
      const r = await runTool(backend.path, ["-f", "-"], { input: script });
      if (r.code !== 0) throw new Error(`nft: cannot install masquerade for ${cidr}: ${r.stderr.trim()}`);
      return `nft table ip ${table} masquerades ${cidr}`;
    }
    case "iptables": {
      const rule = iptablesRule(cidr, `k8ts ${bridge} masquerade`);
      const check = await runTool(backend.path, ["-t", "nat", "-C", "POSTROUTING", ...rule]);
      if (check.code !== 0) {
        const add = await runTool(backend.path, ["-t", "nat", "-A", "POSTROUTING", ...rule]);
        if (add.code !== 0) throw new Error(`iptables: cannot install masquerade for ${cidr}: ${add.stderr.trim()}`);
      }
      return `iptables nat POSTROUTING masquerades ${cidr}`;
    }
    case "none":
      return "none";
  }
}

/** Removes the rule (idempotently). */
export async function removeMasquerade(backend: MasqueradeBackend, bridge: string, cidr: string): Promise<void> {
  if (backend.kind === "nft") {
    await runTool(backend.path, ["delete", "table", "ip", nftTableName(bridge)]);
  } else if (backend.kind === "iptables") {
    const rule = iptablesRule(cidr, `k8ts ${bridge} masquerade`);
    for (let i = 0; i < 10; i++) {
      const r = await runTool(backend.path, ["-t", "nat", "-D", "POSTROUTING", ...rule]);
      if (r.code !== 0) break;
    }
  }
}
