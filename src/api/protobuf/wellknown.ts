/**
 * JSON forms of the apimachinery types whose protobuf message differs from their JSON: metav1.Time and
 * MicroTime (seconds+nanos ↔ RFC 3339 string), metav1.Duration (nanoseconds ↔ Go duration string).
 * Quantity, IntOrString, RawExtension and FieldsV1 are simple enough to live in the codec.
 */

const NS_PER_SECOND = 1_000_000_000n;

/** RFC 3339 in UTC with seconds precision, as metav1.Time marshals: "2006-01-02T15:04:05Z". */
export function formatTime(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** RFC 3339 in UTC with exactly six fractional digits, as metav1.MicroTime marshals: "2006-01-02T15:04:05.000000Z". */
export function formatMicroTime(seconds: bigint, nanos: number): string {
  const micros = Math.floor(nanos / 1000);
  return formatTime(seconds).replace(/Z$/, `.${String(micros).padStart(6, "0")}Z`);
}

/** Parses an RFC 3339 timestamp into seconds since the epoch and nanoseconds; undefined if it is not one. */
export function parseTime(text: string): { seconds: bigint; nanos: number } | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(text);
  if (m === null) return undefined;
  const zone = m[4] === "z" ? "Z" : m[4];
  const ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  const nanos = m[3] === undefined ? 0 : Number(m[3].padEnd(9, "0"));
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos };
}

/** Formats a fraction v / 10^prec without trailing zeros (and without the dot if it is zero), like Go's fmtFrac. */
function fraction(v: bigint, prec: number): { text: string; rest: bigint } {
  let digits = "";
  let printed = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    printed = printed || digit !== 0n;
    if (printed) digits = digit.toString() + digits;
    v /= 10n;
  }
  return { text: printed ? `.${digits}` : "", rest: v };
}

/** time.Duration.String(): "1h0m0s", "1m30s", "1.5s", "500ms", "2µs", "0s". */
export function formatDuration(nanoseconds: bigint): string {
  const negative = nanoseconds < 0n;
  let u = negative ? -nanoseconds : nanoseconds;
  let out: string;
  if (u < NS_PER_SECOND) {
    if (u === 0n) return "0s";
    let unit: string;
    let prec: number;
    if (u < 1_000n) {
      unit = "ns";
      prec = 0;
    } else if (u < 1_000_000n) {
      unit = "µs";
      prec = 3;
    } else {
      unit = "ms";
      prec = 6;
    }
    const f = fraction(u, prec);
    out = `${f.rest}${f.text}${unit}`;
  } else {
    const f = fraction(u, 9);
    u = f.rest;
    out = `${u % 60n}${f.text}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return negative ? `-${out}` : out;
}

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: NS_PER_SECOND,
  m: 60n * NS_PER_SECOND,
  h: 3600n * NS_PER_SECOND,
};

/** time.ParseDuration: "1h30m", "1.5s", "-300ms", "0". Undefined when the text is not a duration. */
export function parseDuration(text: string): bigint | undefined {
  let s = text;
  let negative = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    negative = s.startsWith("-");
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") return undefined;
  let total = 0n;
  const re = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (s !== "") {
    const m = re.exec(s);
    if (m === null || (m[1] === "" && (m[2] === undefined || m[2] === ""))) return undefined;
    const unit = UNIT_NS[m[3] ?? ""] ?? 0n;
    total += BigInt(m[1] === "" ? "0" : (m[1] ?? "0")) * unit;
    const frac = m[2] ?? "";
    if (frac !== "") total += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    s = s.slice(m[0].length);
  }
  return negative ? -total : total;
}
