import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { negotiate, parseStreamOptions, ResizeDecoder, SPDY_PROTOCOLS } from "../../src/streams/protocols.js";
import { encodeStatus, statusFor } from "../../src/streams/status.js";

describe("error channel Status", () => {
  it("exit 0 is Success", () => {
    assert.deepEqual(statusFor({ exitCode: 0 }), { metadata: {}, status: "Success" });
  });

  it("a non-zero exit is NonZeroExitCode with the code as an ExitCode cause, worded as the CRI runtimes", () => {
    assert.deepEqual(statusFor({ exitCode: 3, argv: ["sh", "-c", "exit 3"] }), {
      metadata: {},
      status: "Failure",
      message: "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });
  });

  it("a runtime failure is an internal error whose cause carries only the message", () => {
    assert.deepEqual(statusFor({ error: "error executing command in container: boom" }), {
      metadata: {},
      status: "Failure",
      message: "Internal error occurred: error executing command in container: boom",
      reason: "InternalError",
      details: { causes: [{ message: "error executing command in container: boom" }] },
      code: 500,
    });
  });

  it("v4 writes the JSON, v1-v3 the failure's message and nothing on success", () => {
    const fail = statusFor({ exitCode: 1, argv: ["false"] });
    assert.equal(JSON.parse(encodeStatus(fail, true).toString()).reason, "NonZeroExitCode");
    assert.equal(
      encodeStatus(fail, false).toString(),
      "command terminated with non-zero exit code: error executing command [false], exit code 1",
    );
    assert.equal(encodeStatus(statusFor({ exitCode: 0 }), false).length, 0);
    assert.equal(encodeStatus(statusFor({ exitCode: 0 }), true).toString(), '{"metadata":{},"status":"Success"}');
  });
});

describe("stream options and negotiation", () => {
  const cases: Array<[string, ReturnType<typeof parseStreamOptions>]> = [
    ["stdout=1&stderr=1", { stdin: false, stdout: true, stderr: true, tty: false }],
    ["stdin=1&stdout=1&stderr=1&tty=1", { stdin: true, stdout: true, stderr: false, tty: true }],
    ["stdout=true", { error: "you must specify at least 1 of stdin, stdout, stderr" }],
    ["", { error: "you must specify at least 1 of stdin, stdout, stderr" }],
  ];
  for (const [q, want] of cases) {
    it(`"${q}" → ${JSON.stringify(want)}`, () => assert.deepEqual(parseStreamOptions(new URLSearchParams(q)), want));
  }

  it("the client's first protocol the server speaks wins", () => {
    assert.equal(
      negotiate(["v5.channel.k8s.io", "v3.channel.k8s.io", "v4.channel.k8s.io"], SPDY_PROTOCOLS),
      "v3.channel.k8s.io",
    );
    assert.equal(negotiate(["nope"], SPDY_PROTOCOLS), undefined);
  });
});

describe("resize decoding", () => {
  it("reads sizes split across chunks and several in one chunk; ignores malformed ones", () => {
    const d = new ResizeDecoder();
    assert.deepEqual(d.push('{"Width":8'), []);
    assert.deepEqual(d.push('0,"Height":24}{"Width":100,"Height":30}'), [
      { width: 80, height: 24 },
      { width: 100, height: 30 },
    ]);
    assert.deepEqual(d.push('{"Width":"x","Height":1}{"Width":1,"Height":2,"Note":"}"}'), [{ width: 1, height: 2 }]);
  });
});
