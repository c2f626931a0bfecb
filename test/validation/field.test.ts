import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { errorString, fe, goJSON, goQuote, mapValue } from "../../src/api/validation/index.js";

describe("bad values render as upstream's ErrorBody does", () => {
  const cases: Array<[string, ReturnType<typeof fe.invalid>, string]> = [
    ["strings are Go-quoted", fe.invalid("f", 'a"b\n', "d"), 'f: Invalid value: "a\\"b\\n": d'],
    ["numbers print bare", fe.invalid("f", 3, "d"), "f: Invalid value: 3: d"],
    ["booleans print bare", fe.invalid("f", true, "d"), "f: Invalid value: true: d"],
    ["arrays print as JSON", fe.invalid("f", ["a", "b"], "d"), 'f: Invalid value: ["a","b"]: d'],
    ["null prints as null", fe.invalid("f", null, "d"), "f: Invalid value: null: d"],
    [
      "maps print as JSON with sorted keys",
      fe.invalid("f", mapValue({ b: "1", a: "2" }), "d"),
      'f: Invalid value: {"a":"2","b":"1"}: d',
    ],
    ["Required carries no value", fe.required("f", "why"), "f: Required value: why"],
    ["Forbidden carries no value", fe.forbidden("f", "why"), "f: Forbidden: why"],
    ["Duplicate has no detail", fe.duplicate("f", "x"), 'f: Duplicate value: "x"'],
    ["TooLong says bytes", fe.tooLong("f", 10), "f: Too long: may not be more than 10 bytes"],
    ["TooMany shows the count", fe.tooMany("f", 5, 1), "f: Too many: 5: must have at most 1 item"],
    ["NotFound shows the value", fe.notFound("f", "v"), 'f: Not found: "v"'],
  ];
  for (const [name, err, want] of cases) {
    it(name, () => {
      assert.equal(errorString(err), want);
    });
  }
  it("goJSON escapes HTML characters like encoding/json", () => {
    assert.equal(goJSON("<a&b>"), '"\\u003ca\\u0026b\\u003e"');
  });
  it("goQuote escapes control characters like strconv.Quote", () => {
    assert.equal(goQuote("\x01\x7f"), '"\\x01\\x7f"');
  });
});
