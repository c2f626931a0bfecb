/**
 * resource.Quantity.String(): the canonical form a quantity is printed in ("1000m" → "1",
 * "2000" → "2k", "1024Mi" → "1Gi", "0.5Gi" → "512Mi"). Values finer than a nano-unit round up.
 */

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_BY_EXPONENT = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

type Format = "DecimalSI" | "BinarySI" | "DecimalExponent";

interface Parsed {
  /** The value in nano-units (×10⁹), rounded up. */
  nano: bigint;
  format: Format;
}

const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(.*)$/;

function parse(s: string): Parsed | undefined {
  const m = NUMBER.exec(s.trim());
  if (!m) return undefined;
  const sign = m[1] === "-" ? -1n : 1n;
  const whole = m[2] ?? "";
  const frac = m[3] ?? "";
  const suffix = m[4] ?? "";
  if (whole === "" && frac === "") return undefined;
  let num = BigInt((whole || "0") + frac) * sign;
  let den = 10n ** BigInt(frac.length);
  let format: Format = "DecimalSI";
  const dec = DECIMAL_SUFFIXES[suffix];
  const bin = BINARY_SUFFIXES[suffix];
  if (dec !== undefined) {
    if (dec >= 0) num *= 10n ** BigInt(dec);
    else den *= 10n ** BigInt(-dec);
  } else if (bin !== undefined) {
    num *= 1024n ** BigInt(bin);
    format = "BinarySI";
  } else if (/^[eE][+-]?\d+$/.test(suffix)) {
    const e = Number.parseInt(suffix.slice(1), 10);
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
    format = "DecimalExponent";
  } else {
    return undefined;
  }
  const scaled = num * 1_000_000_000n;
  let nano = scaled / den;
  if (scaled % den !== 0n && scaled > 0n) nano += 1n; // round up, as upstream does
  return { nano, format };
}

/** Canonical string of a quantity given as JSON (string or number); "0" when absent. */
export function formatQuantity(v: unknown): string {
  if (v === undefined || v === null) return "0";
  const s = typeof v === "number" ? String(v) : typeof v === "string" ? v : "";
  const p = parse(s);
  if (!p) return s;
  return canonical(p);
}

function canonical({ nano, format }: Parsed): string {
  if (nano === 0n) return "0";
  const NANO = 1_000_000_000n;
  if (format === "BinarySI") {
    if (nano > -1024n * NANO && nano < 1024n * NANO) format = "DecimalSI";
    else if (nano % NANO !== 0n) format = "DecimalSI";
  }
  if (format === "BinarySI") {
    let v = nano / NANO;
    let e = 0;
    while (v % 1024n === 0n && e < 6) {
      v /= 1024n;
      e++;
    }
    return `${v}${BINARY_BY_EXPONENT[e] ?? ""}`;
  }
  let mantissa = nano;
  let exponent = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  const r = ((exponent % 3) + 3) % 3;
  if (r === 1) {
    mantissa *= 10n;
    exponent -= 1;
  } else if (r === 2) {
    mantissa *= 100n;
    exponent -= 2;
  }
  if (format === "DecimalExponent") return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
  const suffix = DECIMAL_BY_EXPONENT.get(exponent);
  return suffix !== undefined ? `${mantissa}${suffix}` : `${mantissa}e${exponent}`;
}
