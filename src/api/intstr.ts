/** IntOrString values as upstream's intstr package reads them. */

/** What intstr.GetScaledValueFromIntOrPercent gives (percentages of `total`, rounded up or down). */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const m = /^(\d+)%$/.exec(v);
    if (!m) throw new Error(`invalid value for IntOrString: invalid value "${v}": must be an integer or a percentage`);
    const x = (Number(m[1]) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  throw new Error(`invalid value for IntOrString: ${JSON.stringify(v)}`);
}
