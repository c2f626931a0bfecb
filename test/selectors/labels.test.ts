import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  LabelSelectorError,
  labelSelectorFromObject,
  parseLabelSelector,
  selectorFromSet,
} from "../../src/api/selectors/index.js";

describe("label selector string syntax", () => {
  const labels = { app: "web", tier: "front", env: "prod", n: "5" };
  const cases: Array<[string, boolean]> = [
    ["", true],
    ["app=web", true],
    ["app==web", true],
    ["app=db", false],
    ["app!=db", true],
    ["app!=web", false],
    ["missing!=x", true],
    ["env in (prod,staging)", true],
    ["env in (dev)", false],
    ["env notin (dev)", true],
    ["missing notin (dev)", true],
    ["env notin (prod)", false],
    ["tier", true],
    ["missing", false],
    ["!missing", true],
    ["!tier", false],
    ["app=web,tier=front", true],
    ["app=web,tier=back", false],
    ["  app = web , tier  ", true],
    ["n>3", true],
    ["n<3", false],
    ["x in (in)", false],
    ["app in (web,,db)", true],
  ];
  for (const [sel, want] of cases) {
    it(`${JSON.stringify(sel)} ${want ? "selects" : "does not select"} app=web,tier=front,env=prod`, () => {
      assert.equal(parseLabelSelector(sel).matches(labels), want);
    });
  }
});

describe("label selector String() is sorted by key and normalised", () => {
  const cases: Array<[string, string]> = [
    ["b=1,a=2", "a=2,b=1"],
    ["x in (c,a,b)", "x in (a,b,c)"],
    ["!a,b notin (z)", "!a,b notin (z)"],
    ["a==b", "a==b"],
    ["a", "a"],
    ["a in ()", "a in ()"],
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)} prints ${JSON.stringify(want)}`, () => {
      assert.equal(parseLabelSelector(input).toString(), want);
    });
  }
});

describe("label selector parse errors carry upstream wording", () => {
  const keyMsg =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  const cases: Array<[string, string]> = [
    ["a=b c", "found 'c', expected: ',' or 'end of string'"],
    ["a,", "found '', expected: identifier after ','"],
    ["=b", "found '=', expected: !, identifier, or 'end of string'"],
    ["a in b", "unable to parse requirement: found 'b' expected: '('"],
    ["a in (b", "unable to parse requirement: found '', expected: ',' or ')'"],
    ["a (b)", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
    ["!a=b", "found '=', expected: ',' or 'end of string'"],
    ["a_=b", `unable to parse requirement: <nil>: Invalid value: "a_": ${keyMsg}`],
    [
      "a=-b",
      "unable to parse requirement: values[0][a]: Invalid value: \"-b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ],
    [
      "a>b",
      "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer",
    ],
  ];
  for (const [input, message] of cases) {
    it(`${JSON.stringify(input)} fails with ${JSON.stringify(message.slice(0, 60))}…`, () => {
      assert.throws(
        () => parseLabelSelector(input),
        (e: unknown) => e instanceof LabelSelectorError && e.message === message,
      );
    });
  }
});

describe("metav1.LabelSelector objects", () => {
  it("null selects nothing; {} selects everything", () => {
    assert.equal(labelSelectorFromObject(null).matches({ a: "b" }), false);
    assert.equal(labelSelectorFromObject({}).matches({ a: "b" }), true);
  });
  const sel = {
    matchLabels: { app: "web" },
    matchExpressions: [
      { key: "env", operator: "In", values: ["prod", "staging"] },
      { key: "tier", operator: "NotIn", values: ["db"] },
      { key: "track", operator: "Exists" },
      { key: "legacy", operator: "DoesNotExist" },
    ],
  };
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ["all terms satisfied", { app: "web", env: "prod", tier: "front", track: "x" }, true],
    ["matchLabels value differs", { app: "db", env: "prod", track: "x" }, false],
    ["In value missing from set", { app: "web", env: "dev", track: "x" }, false],
    ["NotIn value in set", { app: "web", env: "prod", tier: "db", track: "x" }, false],
    ["Exists key absent", { app: "web", env: "prod" }, false],
    ["DoesNotExist key present", { app: "web", env: "prod", track: "x", legacy: "" }, false],
  ];
  for (const [name, labels, want] of cases) {
    it(`${name} → ${want}`, () => {
      assert.equal(labelSelectorFromObject(sel).matches(labels), want);
    });
  }
  it("prints like upstream String()", () => {
    assert.equal(
      labelSelectorFromObject(sel).toString(),
      "app=web,env in (prod,staging),!legacy,tier notin (db),track",
    );
  });
  it("rejects an unknown operator with upstream's message", () => {
    assert.throws(
      () => labelSelectorFromObject({ matchExpressions: [{ key: "a", operator: "Equals", values: ["b"] }] }),
      { message: '"Equals" is not a valid label selector operator' },
    );
  });
  it("rejects In without values", () => {
    assert.throws(() => labelSelectorFromObject({ matchExpressions: [{ key: "a", operator: "In", values: [] }] }), {
      message: "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty",
    });
  });
  it("selectorFromSet matches supersets only", () => {
    const s = selectorFromSet({ a: "1" });
    assert.equal(s.matches({ a: "1", b: "2" }), true);
    assert.equal(s.matches({ b: "2" }), false);
    assert.equal(s.requiresExactMatch("a"), "1");
  });
});
