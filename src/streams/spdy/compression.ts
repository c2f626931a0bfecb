/**
 * SPDY header compression: one zlib stream per direction for the whole connection, primed with the
 * SPDY/3 dictionary, each header block ending on a sync flush so the peer can inflate it on its own.
 * Node's zlib is asynchronous; calls are queued so blocks come out in the order they went in.
 */
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from "node:zlib";
import { SPDY3_DICTIONARY } from "./dictionary.js";
import { MAX_HEADER_BLOCK, SpdyProtocolError } from "./frames.js";

class ZlibPipe {
  private readonly z: Deflate | Inflate;
  private readonly out: Buffer[] = [];
  private outBytes = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;
  private readonly limit: number;
  private pendingReject: ((e: Error) => void) | undefined;

  constructor(z: Deflate | Inflate, limit: number) {
    this.z = z;
    this.limit = limit;
    z.on("readable", () => this.drain());
    z.on("error", (e: Error) => {
      this.failure = new SpdyProtocolError(`header block compression failed: ${e.message}`);
      this.pendingReject?.(this.failure);
    });
  }

  private drain(): void {
    for (;;) {
      const c = this.z.read() as Buffer | null;
      if (c === null) return;
      this.out.push(c);
      this.outBytes += c.length;
      if (this.outBytes > this.limit) {
        this.failure = new SpdyProtocolError("header block too large");
        this.pendingReject?.(this.failure);
        this.z.destroy();
        return;
      }
    }
  }

  run(input: Buffer): Promise<Buffer> {
    const job = this.chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          if (this.failure) {
            reject(this.failure);
            return;
          }
          this.pendingReject = reject;
          this.z.write(input);
          this.z.flush(constants.Z_SYNC_FLUSH, () => {
            this.pendingReject = undefined;
            this.drain();
            if (this.failure) {
              reject(this.failure);
              return;
            }
            const result = Buffer.concat(this.out);
            this.out.length = 0;
            this.outBytes = 0;
            resolve(result);
          });
        }),
    );
    this.chain = job.catch(() => undefined);
    return job;
  }

  close(): void {
    this.z.destroy();
  }
}

export class HeaderCompressor {
  private readonly pipe = new ZlibPipe(
    createDeflate({ dictionary: SPDY3_DICTIONARY, level: constants.Z_BEST_COMPRESSION }),
    Number.MAX_SAFE_INTEGER,
  );

  compress(block: Buffer): Promise<Buffer> {
    return this.pipe.run(block);
  }

  close(): void {
    this.pipe.close();
  }
}

export class HeaderDecompressor {
  private readonly pipe = new ZlibPipe(createInflate({ dictionary: SPDY3_DICTIONARY }), MAX_HEADER_BLOCK);

  decompress(compressed: Buffer): Promise<Buffer> {
    return this.pipe.run(compressed);
  }

  close(): void {
    this.pipe.close();
  }
}
