/** The staged bytes of a claimed blob are gone although the blob is not in object storage. */
export class StagedBytesMissingError extends Error {
  override name = 'StagedBytesMissingError' as const;
}

/** The staged bytes of a claimed blob no longer match its SHA-256 (storage corruption). */
export class StagedBytesCorruptError extends Error {
  override name = 'StagedBytesCorruptError' as const;
}

/** A worker held a blob's lease past its expiry without finishing; the blob was handed on. */
export class LeaseExpiredError extends Error {
  override name = 'LeaseExpiredError' as const;
}
