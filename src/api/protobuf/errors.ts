/**
 * The one error a protobuf body can earn: the client sent bytes we cannot turn into an object.
 * It renders itself as the `metav1.Status` a 400 response carries.
 */
export class ProtobufDecodeError extends Error {
  readonly code = 400;
  readonly reason = "BadRequest";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProtobufDecodeError";
  }

  /** The `metav1.Status` body for the 400 response. */
  status(): Record<string, unknown> {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
  }
}

/** A JSON object that cannot be put on the wire (no protobuf message for its kind, or a field of the wrong shape). */
export class ProtobufEncodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProtobufEncodeError";
  }
}
