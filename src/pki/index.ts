/**
 * The cluster's PKI: a CA, the API server's serving certificate and the admin client certificate,
 * made on first start (ECDSA P-256) and kept in <data-dir>/tls. Files holding keys are 0600.
 */
import { createHash, generateKeyPairSync, webcrypto, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import type * as X509 from "@peculiar/x509";

type X509Module = typeof X509;
let x509Module: X509Module | undefined;

/** @peculiar/x509 (and the reflect-metadata it needs) load only when a certificate is made: ~100 ms saved at start. */
async function loadX509(): Promise<X509Module> {
  if (!x509Module) {
    await import("reflect-metadata");
    const m = await import("@peculiar/x509");
    m.cryptoProvider.set(webcrypto as unknown as Parameters<typeof m.cryptoProvider.set>[0]);
    x509Module = m;
  }
  return x509Module;
}

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export interface Pki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  /** The API server's client certificate towards node agents (logs, exec, attach). */
  kubeletClientCert: string;
  kubeletClientKey: string;
  /** Issues a certificate signed by the cluster CA (a node's client or serving certificate). */
  issue(cn: string, groups: string[], serverSans?: string[]): Promise<{ cert: string; key: string }>;
  /** The same, kept as <dir>/<file>.crt/.key and made only when missing or issued for other names. */
  issueOnce(file: string, cn: string, groups: string[], serverSans?: string[]): Promise<{ cert: string; key: string }>;
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----(BEGIN|END) [^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  return webcrypto.subtle.importKey("pkcs8", der, ALG, true, ["sign"]) as Promise<CryptoKey>;
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString("hex")
    .replace(/^[89a-f]/, "1");
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

async function makeCert(opts: {
  subject: string;
  issuer: string;
  signingKey: CryptoKey;
  publicKey: CryptoKey;
  years: number;
  extensions: X509.Extension[];
}): Promise<string> {
  const x509 = await loadX509();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: opts.subject,
    issuer: opts.issuer,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + opts.years * YEAR_MS),
    signingAlgorithm: ALG,
    publicKey: opts.publicKey,
    signingKey: opts.signingKey,
    extensions: opts.extensions,
  });
  return cert.toString("pem");
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
}

/** Loads the PKI from dir, creating what is missing. `sans` are extra server names/IPs. */
export async function ensurePki(dir: string, sans: string[]): Promise<Pki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = (n: string) => join(dir, n);
  const CA_SUBJECT = "CN=k8ts-ca";
  if (!existsSync(p("ca.crt")) || !existsSync(p("ca.key"))) {
    const x509 = await loadX509();
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
    const pem = await makeCert({
      subject: CA_SUBJECT,
      issuer: CA_SUBJECT,
      signingKey: keys.privateKey,
      publicKey: keys.publicKey,
      years: 10,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    writeSecret(p("ca.key"), await exportKey(keys.privateKey));
    writeFileSync(p("ca.crt"), pem);
  }
  const caCert = readFileSync(p("ca.crt"), "utf8");
  let caKey: CryptoKey | undefined;
  const ca = async () => {
    caKey ??= await importKey(readFileSync(p("ca.key"), "utf8"));
    return caKey;
  };
  const issue = async (
    cn: string,
    groups: string[],
    server: boolean,
    names: string[] = sans,
  ): Promise<{ cert: string; key: string }> => {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
    const subject = [`CN=${cn}`, ...groups.map((g) => `O=${g}`)].join(", ");
    const x509 = await loadX509();
    const extensions: X509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([
        server ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
      ]),
    ];
    if (server) {
      const alt = [...new Set(names)].map((s) =>
        /^[\d.]+$/.test(s) || s.includes(":") ? { type: "ip" as const, value: s } : { type: "dns" as const, value: s },
      );
      extensions.push(new x509.SubjectAlternativeNameExtension(alt));
    }
    const cert = await makeCert({
      subject,
      issuer: CA_SUBJECT,
      signingKey: await ca(),
      publicKey: keys.publicKey,
      years: 1,
      extensions,
    });
    return { cert, key: await exportKey(keys.privateKey) };
  };
  const wantedSans = [...new Set(sans)].sort().join(",");
  if (!existsSync(p("server.crt")) || !existsSync(p("server.key")) || readIf(p("server.sans")) !== wantedSans) {
    const s = await issue("kube-apiserver", [], true);
    writeFileSync(p("server.crt"), s.cert);
    writeSecret(p("server.key"), s.key);
    writeFileSync(p("server.sans"), wantedSans);
  }
  if (!existsSync(p("admin.crt")) || !existsSync(p("admin.key"))) {
    const a = await issue("system:admin", ["system:masters"], false);
    writeFileSync(p("admin.crt"), a.cert);
    writeSecret(p("admin.key"), a.key);
  }
  if (!existsSync(p("apiserver-kubelet-client.crt")) || !existsSync(p("apiserver-kubelet-client.key"))) {
    const k = await issue("kube-apiserver-kubelet-client", ["kubeadm:cluster-admins"], false);
    writeFileSync(p("apiserver-kubelet-client.crt"), k.cert);
    writeSecret(p("apiserver-kubelet-client.key"), k.key);
  }
  return {
    caCert,
    serverCert: readFileSync(p("server.crt"), "utf8"),
    serverKey: readFileSync(p("server.key"), "utf8"),
    adminCert: readFileSync(p("admin.crt"), "utf8"),
    adminKey: readFileSync(p("admin.key"), "utf8"),
    kubeletClientCert: readFileSync(p("apiserver-kubelet-client.crt"), "utf8"),
    kubeletClientKey: readFileSync(p("apiserver-kubelet-client.key"), "utf8"),
    issue: (cn, groups, serverSans) => issue(cn, groups, serverSans !== undefined, serverSans),
    issueOnce: async (file, cn, groups, serverSans) => {
      const id = [cn, ...groups, "|", ...(serverSans ?? [])].join(",");
      if (existsSync(p(`${file}.crt`)) && existsSync(p(`${file}.key`)) && readIf(p(`${file}.id`)) === id) {
        const cert = readFileSync(p(`${file}.crt`), "utf8");
        // renewed a month before it expires
        if (Date.parse(new X509Certificate(cert).validTo) - Date.now() > 30 * 24 * 3600 * 1000) {
          return { cert, key: readFileSync(p(`${file}.key`), "utf8") };
        }
      }
      const made = await issue(cn, groups, serverSans !== undefined, serverSans);
      writeFileSync(p(`${file}.crt`), made.cert);
      writeSecret(p(`${file}.key`), made.key);
      writeFileSync(p(`${file}.id`), id);
      return made;
    },
  };
}

/** The service account token signing key (EC P-256, PKCS#8 PEM), made on first start. */
export function ensureServiceAccountKey(dir: string): string {
  const path = join(dir, "sa.key");
  if (!existsSync(path)) {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    writeSecret(path, privateKey.export({ type: "pkcs8", format: "pem" }).toString());
  }
  return readFileSync(path, "utf8");
}

function readIf(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

/** The default SANs of the serving certificate. */
export function defaultSans(bind: string, serviceIP: string): string[] {
  return [
    "localhost",
    "127.0.0.1",
    "::1",
    hostname(),
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    serviceIP,
    // listening on every address: joining nodes reach it by the host's addresses
    ...(bind === "0.0.0.0" || bind === "::" ? hostAddresses() : [bind]),
  ];
}

function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((a) => a ?? [])
    .filter((a) => !a.internal)
    .map((a) => a.address);
}

/** A kubeconfig (YAML) for a user with a client certificate. */
export function kubeconfig(
  server: string,
  pki: { caCert: string },
  user: { cert: string; key: string },
  name = "default",
): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ${b64(pki.caCert)}
    server: ${server}
  name: ${name}
contexts:
- context:
    cluster: ${name}
    user: ${name}
  name: ${name}
current-context: ${name}
preferences: {}
users:
- name: ${name}
  user:
    client-certificate-data: ${b64(user.cert)}
    client-key-data: ${b64(user.key)}
`;
}

/** A self-signed serving certificate (a joining node's kubelet API: upstream's default without a CSR). */
export async function selfSignedServingCert(cn: string, sans: string[]): Promise<{ cert: string; key: string }> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const alt = [...new Set(sans)].map((s) =>
    /^[\d.]+$/.test(s) || s.includes(":") ? { type: "ip" as const, value: s } : { type: "dns" as const, value: s },
  );
  const cert = await makeCert({
    subject: `CN=${cn}`,
    issuer: `CN=${cn}`,
    signingKey: keys.privateKey,
    publicKey: keys.publicKey,
    years: 1,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(alt),
    ],
  });
  return { cert, key: await exportKey(keys.privateKey) };
}

/** kubeadm's CA pin: "sha256:" + hex SHA-256 of the CA certificate's SubjectPublicKeyInfo (DER). */
export function caCertHash(caPem: string): string {
  const spki = new X509Certificate(caPem).publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}
