/**
 * The hashes controllers put in names and labels (pod-template-hash, controller-revision-hash):
 * FNV-1a (32 bit) of some bytes and, when there is one, the collision count as four little-endian
 * bytes, its decimal digits spelled in upstream's safe alphabet (rand.SafeEncodeString), so names
 * look like upstream's (`web-7c5ddbdf54`).
 */

const SAFE = "bcdfghjklmnpqrstvwxz2456789";

export function safeHash(text: string, collisionCount?: number): string {
  let h = 0x811c9dc5;
  const feed = (bytes: Uint8Array) => {
    for (const b of bytes) {
      h ^= b;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  };
  feed(new TextEncoder().encode(text));
  if (collisionCount !== undefined) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    feed(b);
  }
  return [...String(h >>> 0)].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join("");
}
