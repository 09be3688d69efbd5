/** TLS settings as the runtime takes them, and what it reads off a peer certificate. */

/** A TLS listener's settings, PEM contents already read. */
export interface TlsOptions {
  key: string;
  cert: string;
  /** CA certificates that client certificates are verified against. */
  ca?: string;
  passphrase?: string;
  /** Ask clients for a certificate. */
  requestCert: boolean;
  /** Refuse clients whose certificate is missing or does not verify. */
  rejectUnauthorized: boolean;
  /** A handshake not finished within this is closed (default 10 s): a stalled client costs one socket, nothing more. */
  handshakeTimeoutMs?: number;
  /** Told about each failed or timed-out handshake. */
  onHandshakeError?: (remoteAddress: string, why: string) => void;
}

/** The default of {@link TlsOptions.handshakeTimeoutMs}. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** The options for the TLS library itself, without ours. */
export function tlsLibraryOptions(
  t: TlsOptions,
): Omit<TlsOptions, "handshakeTimeoutMs" | "onHandshakeError"> {
  const { handshakeTimeoutMs: _t, onHandshakeError: _e, ...rest } = t;
  return rest;
}

/** A TLS client's settings (the bridge's `ssl { }`), PEM contents already read. */
export interface ClientTlsOptions {
  /** CA certificates the server's certificate is verified against (default: the system's). */
  ca?: string;
  /** A client certificate and its key, for servers that ask for one. */
  cert?: string;
  key?: string;
  passphrase?: string;
  /** Refuse a server whose certificate does not verify (default true). */
  rejectUnauthorized?: boolean;
}

/** The CN of a certificate subject (which may list several). */
function _commonName(subject: { CN?: string | string[] } | undefined): string | undefined {
  const cn = subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

/** A verified certificate's subject (as node:tls and Bun give it), in the form connections report. */
export function peerCertificateOf(
  subject: Record<string, string | string[] | undefined> | undefined,
): { cn: string | undefined; subject: string } {
  const parts = Object.entries(subject ?? {}).flatMap(([k, v]) =>
    v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`)
  );
  return { cn: _commonName(subject), subject: parts.join(",") };
}
