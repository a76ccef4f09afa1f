/**
 * The failure kinds bulkget tells apart, as stable codes: an outcome and a
 * report item carry one beside their reason, so a program reading a report
 * (or a test) acts on the kind, never on the wording.
 *
 * @module
 */

/** Every failure code, by name. */
export const ERROR_CODES = {
  /** An HTTP status other than 2xx, 404 and 410. */
  httpStatus: "HTTP_STATUS",
  /** 404 or 410. */
  notFound: "NOT_FOUND",
  /** Connecting, sending or receiving failed (refused, reset, closed). */
  network: "NETWORK",
  /** A connect, idle or total deadline passed. */
  timeout: "TIMEOUT",
  /** The server's TLS certificate does not verify. */
  tls: "TLS_CERTIFICATE",
  /** The answer breaks HTTP/1.1's grammar. */
  protocol: "PROTOCOL",
  /** The answer's framing or transfer coding is refused by design. */
  framing: "FRAMING_REFUSED",
  /** The body ended before its announced length, or ran past it. */
  length: "LENGTH_MISMATCH",
  /** A 206 that does not fit what was asked. */
  range: "RANGE_REFUSED",
  /** The body is over `--max-size`. */
  tooBig: "TOO_BIG",
  /** Size or checksum of the written file differ from the expected. */
  verify: "VERIFY_FAILED",
  /** A redirect loop, too many hops, or an unusable `Location`. */
  redirect: "REDIRECT",
  /** A server-chosen name that is taken or exists. */
  nameTaken: "NAME_TAKEN",
  /** An invalid request header. */
  header: "INVALID_HEADER",
  /** The disk refused a write, or the writer stopped. */
  write: "WRITE_FAILED",
  /** The job was looked up before its download and the lookup failed. */
  lookup: "LOOKUP_FAILED",
} as const;

/** A failure code. */
export type ErrorCode = typeof ERROR_CODES[keyof typeof ERROR_CODES];
