import { crc32 } from 'node:zlib';

/**
 * Record frame on disk, little-endian:
 * `magic u32 | crc32 u32 | length u32 | seq lo u32 | seq hi u32 | appendedAt f64 | payload`.
 * The CRC covers everything after itself (header fields and payload), so a frame is either whole and
 * unchanged or rejected; the magic lets a reader find the next frame after a damaged one.
 */
export const FRAME_MAGIC = 0x31514c53; // "SLQ1"
/** Bytes before the payload. */
export const FRAME_HEADER_BYTES = 28;
/** The magic as bytes, for scanning. */
export const FRAME_MAGIC_BYTES: Buffer = (() => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(FRAME_MAGIC, 0);
  return bytes;
})();
/** Largest payload a frame can hold (the length field is a u32). */
export const MAX_FRAME_PAYLOAD_BYTES = 0xffff_ffff;

const TWO_POW_32 = 2 ** 32;

/** A frame decoded from disk. */
export interface DecodedFrame {
  readonly seq: number;
  readonly appendedAt: number;
  readonly payload: Buffer;
}

/** Total bytes a frame with this payload takes on disk. */
export function frameBytes(payloadBytes: number): number {
  return FRAME_HEADER_BYTES + payloadBytes;
}

/** Writes one frame into `target` at `offset`; returns the offset after it. */
export function encodeFrame(
  target: Buffer,
  offset: number,
  seq: number,
  appendedAt: number,
  payload: Uint8Array,
): number {
  target.writeUInt32LE(FRAME_MAGIC, offset);
  target.writeUInt32LE(payload.byteLength, offset + 8);
  target.writeUInt32LE(seq % TWO_POW_32, offset + 12);
  target.writeUInt32LE(Math.floor(seq / TWO_POW_32), offset + 16);
  target.writeDoubleLE(appendedAt, offset + 20);
  target.set(payload, offset + FRAME_HEADER_BYTES);
  const end = offset + FRAME_HEADER_BYTES + payload.byteLength;
  target.writeUInt32LE(crc32(target.subarray(offset + 8, end)), offset + 4);
  return end;
}

/** A payload with the seq it is written under. */
export interface FrameInput {
  readonly seq: number;
  readonly payload: Uint8Array;
}

/** Encodes `frames`, all appended at `appendedAt`, back to back into one new buffer. */
export function encodeFrames(frames: readonly FrameInput[], appendedAt: number): Buffer {
  const buffer = Buffer.allocUnsafe(
    frames.reduce((sum, frame) => sum + frameBytes(frame.payload.byteLength), 0),
  );
  let offset = 0;
  for (const frame of frames) offset = encodeFrame(buffer, offset, frame.seq, appendedAt, frame.payload);
  return buffer;
}

/** Reads the payload length of a frame header at `offset`, or `undefined` when the magic is wrong. */
export function frameLengthAt(source: Buffer, offset: number): number | undefined {
  if (source.readUInt32LE(offset) !== FRAME_MAGIC) return undefined;
  return source.readUInt32LE(offset + 8);
}

/**
 * Validates the whole frame at `offset` (its header and `length` payload bytes must be in `source`) and
 * returns it, its payload a view of `source` (which the caller must never overwrite), or `undefined` when
 * the checksum does not match.
 */
export function decodeFrameAt(source: Buffer, offset: number, length: number): DecodedFrame | undefined {
  const end = offset + FRAME_HEADER_BYTES + length;
  if (crc32(source.subarray(offset + 8, end)) !== source.readUInt32LE(offset + 4)) return undefined;
  const seq = source.readUInt32LE(offset + 12) + source.readUInt32LE(offset + 16) * TWO_POW_32;
  const appendedAt = source.readDoubleLE(offset + 20);
  return { seq, appendedAt, payload: source.subarray(offset + FRAME_HEADER_BYTES, end) };
}
