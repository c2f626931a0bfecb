/**
 * Cron schedules as CronJobs take them (robfig/cron's standard parser, which upstream uses): five
 * fields — minute hour day-of-month month day-of-week — with `*`, `?`, lists, ranges, steps, month
 * and weekday names (7 is Sunday too), the macros @yearly/@annually, @monthly, @weekly,
 * @daily/@midnight and @hourly; when both day fields are restricted a day matches either. Times are
 * read in an IANA time zone (the CronJob's timeZone, else this process's).
 */

export interface Schedule {
  minutes: Set<number>;
  hours: Set<number>;
  doms: Set<number>;
  months: Set<number>;
  dows: Set<number>;
  /** A day field was `*` or `?` (upstream's star bit: then the other decides alone). */
  domStar: boolean;
  dowStar: boolean;
}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

export class ScheduleError extends Error {}

function field(text: string, min: number, max: number, names?: string[]): { set: Set<number>; star: boolean } {
  const set = new Set<number>();
  let star = false;
  const value = (s: string): number => {
    const lower = s.toLowerCase();
    const named = names?.indexOf(lower) ?? -1;
    if (named >= 0) return named + (names === MONTHS ? 1 : 0);
    if (!/^\d+$/.test(s))
      throw new ScheduleError(`failed to parse int from ${s}: strconv.Atoi: parsing "${s}": invalid syntax`);
    return Number(s);
  };
  for (const part of text.split(",")) {
    const [range = "", stepText] = part.split("/");
    let lo: number;
    let hi: number;
    if (range === "*" || range === "?") {
      lo = min;
      hi = max;
      if (stepText === undefined) star = true;
    } else if (range.includes("-")) {
      const [a = "", b = ""] = range.split("-");
      lo = value(a);
      hi = value(b);
    } else {
      lo = value(range);
      hi = stepText === undefined ? lo : max;
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new ScheduleError(`step of range should be a positive number: ${part}`);
    if (lo < min) throw new ScheduleError(`beginning of range (${lo}) below minimum (${min}): ${part}`);
    if (hi > max) throw new ScheduleError(`end of range (${hi}) above maximum (${max}): ${part}`);
    if (lo > hi) throw new ScheduleError(`beginning of range (${lo}) beyond end of range (${hi}): ${part}`);
    for (let v = lo; v <= hi; v += step) set.add(v);
  }
  return { set, star };
}

/** Parses a schedule; throws ScheduleError with robfig/cron's wording. */
export function parseSchedule(text: string): Schedule {
  const spec = MACROS[text.trim().toLowerCase()] ?? text.trim();
  if (spec.startsWith("@")) throw new ScheduleError(`unrecognized descriptor: ${spec}`);
  const parts = spec.split(/\s+/).filter(Boolean);
  if (parts.length !== 5)
    throw new ScheduleError(`expected exactly 5 fields, found ${parts.length}: [${parts.join(" ")}]`);
  const minutes = field(parts[0]!, 0, 59);
  const hours = field(parts[1]!, 0, 23);
  const doms = field(parts[2]!, 1, 31);
  const months = field(parts[3]!, 1, 12, MONTHS);
  const dows = field(parts[4]!, 0, 7, DAYS);
  if (dows.set.has(7)) dows.set.add(0);
  return {
    minutes: minutes.set,
    hours: hours.set,
    doms: doms.set,
    months: months.set,
    dows: dows.set,
    domStar: doms.star,
    dowStar: dows.star,
  };
}

interface Local {
  month: number;
  day: number;
  dow: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether `tz` is a time zone this runtime knows. */
export function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function localFields(ms: number, tz: string): Local {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      month: "numeric",
      day: "numeric",
      weekday: "short",
      hour: "numeric",
      minute: "numeric",
    });
    formatters.set(tz, f);
  }
  const out: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(ms))) out[p.type] = p.value;
  return {
    month: Number(out["month"]),
    day: Number(out["day"]),
    dow: DAYS.indexOf(String(out["weekday"]).toLowerCase().slice(0, 3)),
    hour: Number(out["hour"]) % 24,
    minute: Number(out["minute"]),
  };
}

function dayMatches(s: Schedule, l: Local): boolean {
  const dom = s.doms.has(l.day);
  const dow = s.dows.has(l.dow);
  return s.domStar || s.dowStar ? dom && dow : dom || dow;
}

const MINUTE = 60_000;

/** The first schedule time strictly after `after` (ms), within 5 years; undefined if none. */
export function nextTime(s: Schedule, after: number, tz: string): number | undefined {
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  const end = after + 5 * 366 * 24 * 60 * MINUTE;
  while (t <= end) {
    const l = localFields(t, tz);
    if (!s.months.has(l.month) || !dayMatches(s, l)) {
      // on to the next local midnight
      t += ((23 - l.hour) * 60 + (60 - l.minute)) * MINUTE;
      continue;
    }
    if (!s.hours.has(l.hour)) {
      t += (60 - l.minute) * MINUTE;
      continue;
    }
    if (!s.minutes.has(l.minute)) {
      t += MINUTE;
      continue;
    }
    return t;
  }
  return undefined;
}

/**
 * The schedule times in (`earliest`, `now`]: the most recent one and how many there were, counting
 * no further than `cap` (upstream stops at 100 and says "too many missed start times").
 */
export function missedTimes(
  s: Schedule,
  earliest: number,
  now: number,
  tz: string,
  cap = 101,
): { mostRecent: number | undefined; count: number } {
  let mostRecent: number | undefined;
  let count = 0;
  for (let t = nextTime(s, earliest, tz); t !== undefined && t <= now; t = nextTime(s, t, tz)) {
    mostRecent = t;
    count++;
    if (count >= cap) {
      // too many: the most recent is still wanted — look back from now in widening windows
      for (const span of [60, 24 * 60, 31 * 24 * 60, 366 * 24 * 60, 5 * 366 * 24 * 60]) {
        const back = Math.max(t, now - span * MINUTE);
        let last: number | undefined;
        for (let u = nextTime(s, back, tz); u !== undefined && u <= now; u = nextTime(s, u, tz)) last = u;
        if (last !== undefined) {
          mostRecent = last;
          break;
        }
      }
      break;
    }
  }
  return { mostRecent, count };
}
