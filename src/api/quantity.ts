/**
 * Kubernetes resource.Quantity (k8s.io/apimachinery/pkg/api/resource): parsing, arithmetic, comparison and the
 * canonical string form that upstream's `Quantity.String()` prints.
 *
 * A quantity is held exactly as a bigint count of nano-units (10^-9): upstream rounds every parsed value up (away
 * from zero) to nano precision, so nothing finer can ever exist.
 */

/** How a quantity prints: "1Ki" (BinarySI), "1k" (DecimalSI) or "1e3" (DecimalExponent). */
export type QuantityFormat = "BinarySI" | "DecimalSI" | "DecimalExponent";

const SPLIT_RE_STRING = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/** The message upstream's ErrFormatWrong carries. */
export const QUANTITY_FORMAT_ERROR = `quantities must match the regular expression '${SPLIT_RE_STRING}'`;
/** upstream ErrNumeric. */
export const QUANTITY_NUMERIC_ERROR = "unable to parse numeric part of quantity";
/** upstream ErrSuffix. */
export const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";

export class QuantityParseError extends Error {
  override name = "QuantityParseError";
}

const NANO_EXP = -9;
const NANO = 10n ** 9n;
const MAX_INT64 = 2n ** 63n - 1n;

const DEC_SUFFIXES: ReadonlyArray<readonly [string, number]> = [
  ["n", -9],
  ["u", -6],
  ["m", -3],
  ["", 0],
  ["k", 3],
  ["M", 6],
  ["G", 9],
  ["T", 12],
  ["P", 15],
  ["E", 18],
];
const BIN_SUFFIXES: ReadonlyArray<readonly [string, number]> = [
  ["Ki", 10],
  ["Mi", 20],
  ["Gi", 30],
  ["Ti", 40],
  ["Pi", 50],
  ["Ei", 60],
];

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** Divides a by b rounding away from zero. */
function divAwayFromZero(a: bigint, b: bigint): bigint {
  const q = a / b;
  if (q * b === a) return q;
  return a < 0n ? q - 1n : q + 1n;
}

interface SuffixInfo {
  base: 10 | 2;
  exponent: number;
  format: QuantityFormat;
}

function interpretSuffix(s: string): SuffixInfo | undefined {
  for (const [suf, exp] of DEC_SUFFIXES) if (suf === s) return { base: 10, exponent: exp, format: "DecimalSI" };
  for (const [suf, exp] of BIN_SUFFIXES) if (suf === s) return { base: 2, exponent: exp, format: "BinarySI" };
  if (s.length > 1 && (s[0] === "E" || s[0] === "e")) {
    const rest = s.slice(1);
    // strconv.ParseInt: optional sign, then decimal digits, fitting in int64.
    if (!/^[+-]?[0-9]+$/.test(rest)) return undefined;
    const n = Number(rest);
    if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 31) return undefined;
    return { base: 10, exponent: n, format: "DecimalExponent" };
  }
  return undefined;
}

interface Split {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

/** Mirrors upstream parseQuantityString: sign, digits (leading zeros dropped), optional fraction, suffix. */
function splitQuantity(str: string): Split {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end) {
    if (str[0] === "-") {
      positive = false;
      pos++;
    } else if (str[0] === "+") {
      pos++;
    }
  }
  while (pos < end && str[pos] === "0") pos++;
  if (pos >= end) return { positive, num: "0", denom: "", suffix: "" };
  const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";
  let start = pos;
  while (pos < end && isDigit(str[pos])) pos++;
  let num = str.slice(start, pos);
  if (num.length === 0) num = "0";
  let denom = "";
  if (pos < end && str[pos] === ".") {
    pos++;
    start = pos;
    while (pos < end && isDigit(str[pos])) pos++;
    denom = str.slice(start, pos);
  }
  const suffixStart = pos;
  while (pos < end && "eEinumkKMGTP".includes(str[pos] as string)) pos++;
  if (pos < end && (str[pos] === "-" || str[pos] === "+")) pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos < end) throw new QuantityParseError(QUANTITY_FORMAT_ERROR);
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

export class Quantity {
  /** Exact value in units of 10^-9. */
  readonly nanos: bigint;
  readonly format: QuantityFormat;
  /** The original text when upstream would keep it verbatim (already canonical). */
  private readonly cached: string | undefined;

  constructor(nanos: bigint, format: QuantityFormat, cached?: string) {
    this.nanos = nanos;
    this.format = format;
    this.cached = cached;
  }

  /** Parses like upstream `resource.ParseQuantity`; throws QuantityParseError with upstream's messages. */
  static parse(input: string): Quantity {
    const str = input;
    if (str.length === 0) throw new QuantityParseError(QUANTITY_FORMAT_ERROR);
    if (str === "0") return new Quantity(0n, "DecimalSI", "0");
    const { positive, num, denom, suffix } = splitQuantity(str);
    const info = interpretSuffix(suffix);
    if (!info) throw new QuantityParseError(QUANTITY_SUFFIX_ERROR);
    const digits = BigInt(num + denom);
    let nanos: bigint;
    let exact: boolean;
    if (info.base === 10) {
      const scale = info.exponent - denom.length; // value = digits * 10^scale
      if (scale >= NANO_EXP) {
        nanos = digits * pow10(scale - NANO_EXP);
        exact = true;
      } else {
        const d = pow10(NANO_EXP - scale);
        nanos = divAwayFromZero(digits, d);
        exact = nanos * d === digits;
      }
    } else {
      // digits * 2^exp / 10^len(denom), in nanos.
      const numer = digits * (1n << BigInt(info.exponent)) * NANO;
      const d = pow10(denom.length);
      nanos = divAwayFromZero(numer, d);
      exact = nanos * d === numer;
      if (nanos > MAX_INT64 * NANO) nanos = MAX_INT64 * NANO;
    }
    if (!positive) nanos = -nanos;
    // Upstream keeps the caller's text when it is already in canonical form (int64 fast path only).
    let cached: string | undefined;
    const shifted = num + denom;
    const fastPath =
      exact &&
      (info.base === 10
        ? num.length + denom.length <= 18 && info.exponent - denom.length >= NANO_EXP
        : denom.length === 0 && 15 - num.length - Math.trunc((info.exponent * 3) / 10) - 1 >= 0);
    const fitsInt64 = info.base === 10 ? digits <= MAX_INT64 : digits << BigInt(info.exponent) <= MAX_INT64;
    if (fastPath && fitsInt64) {
      if (info.base === 2) {
        if (info.exponent % 10 === 0 && (digits & 7n) !== 0n) cached = str;
      } else {
        const scale = info.exponent - denom.length;
        if (scale % 3 === 0 && !shifted.endsWith("000") && shifted[0] !== "0") cached = str;
      }
    }
    return new Quantity(nanos, info.format, cached);
  }

  /** Like parse, but returns undefined instead of throwing. */
  static tryParse(input: string): Quantity | undefined {
    try {
      return Quantity.parse(input);
    } catch {
      return undefined;
    }
  }

  /** A whole number with the given format ("DecimalSI" unless told). */
  static fromInt(value: number | bigint, format: QuantityFormat = "DecimalSI"): Quantity {
    return new Quantity(BigInt(value) * NANO, format);
  }

  /** value × 10^-3 (upstream NewMilliQuantity). */
  static fromMilli(milli: number | bigint, format: QuantityFormat = "DecimalSI"): Quantity {
    return new Quantity(BigInt(milli) * 1_000_000n, format);
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.nanos < 0n ? -1 : this.nanos > 0n ? 1 : 0;
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than other. */
  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos < other.nanos ? -1 : this.nanos > other.nanos ? 1 : 0;
  }

  equals(other: Quantity): boolean {
    return this.nanos === other.nanos;
  }

  /** Sum; keeps this quantity's format (as upstream Add). */
  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.isZero() ? other.format : this.format);
  }

  /** Difference; keeps this quantity's format. */
  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.isZero() ? other.format : this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.nanos, this.format);
  }

  /** Value rounded up (away from zero) to an integer, as upstream Value(). */
  value(): bigint {
    return divAwayFromZero(this.nanos, NANO);
  }

  /** Value × 1000 rounded up (away from zero), as upstream MilliValue(). */
  milliValue(): bigint {
    return divAwayFromZero(this.nanos, 1_000_000n);
  }

  /** value() as a JS number (may lose precision above 2^53). */
  toNumber(): number {
    return Number(this.nanos) / 1e9;
  }

  /** Canonical form, byte-identical to upstream `Quantity.String()`. */
  toString(): string {
    if (this.cached !== undefined) return this.cached;
    if (this.nanos === 0n) return "0";
    let format = this.format;
    if (format === "BinarySI") {
      if (this.nanos > -1024n * NANO && this.nanos < 1024n * NANO) format = "DecimalSI";
      else if (this.nanos % NANO !== 0n) format = "DecimalSI";
    }
    if (format === "BinarySI") {
      let amount = this.nanos / NANO;
      let exp = 0;
      while (amount % 1024n === 0n && exp < 60) {
        amount /= 1024n;
        exp += 10;
      }
      const suffix = BIN_SUFFIXES.find(([, e]) => e === exp)?.[0] ?? "";
      return `${amount}${suffix}`;
    }
    let amount = this.nanos;
    let exp = NANO_EXP;
    while (amount % 10n === 0n) {
      amount /= 10n;
      exp++;
    }
    const mod = ((exp % 3) + 3) % 3;
    if (mod !== 0) {
      amount *= pow10(mod);
      exp -= mod;
    }
    if (format === "DecimalExponent") return exp === 0 ? `${amount}` : `${amount}e${exp}`;
    const dec = DEC_SUFFIXES.find(([, e]) => e === exp);
    // Upstream has no decimal suffix beyond E; fall back to the exponent form rather than print a wrong number.
    return dec ? `${amount}${dec[0]}` : `${amount}e${exp}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Parses a quantity from a JSON value (string or number), as the API decoder does. Throws QuantityParseError. */
export function quantityFromJSON(v: unknown): Quantity {
  if (typeof v === "number") return Quantity.parse(String(v));
  if (typeof v === "string") return Quantity.parse(v.trim());
  throw new QuantityParseError(QUANTITY_FORMAT_ERROR);
}

/** Canonical string of a quantity given as text, e.g. "1.5Gi" → "1536Mi"; throws QuantityParseError. */
export function canonicalQuantity(s: string): string {
  return Quantity.parse(s).toString();
}
