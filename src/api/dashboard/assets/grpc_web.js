// grpc-web over fetch: one server-streaming call, binary framing
// (application/grpc-web+proto), trailers in the body, errors with their
// code, message and google.rpc details.

/** gRPC status codes the page acts on. */
export const Code = Object.freeze({
  CANCELLED: 1, OUT_OF_RANGE: 11, UNAVAILABLE: 14, UNAUTHENTICATED: 16, PERMISSION_DENIED: 7,
});

/** A call that ended with a non-OK status. */
export class GrpcError extends Error {
  constructor(code, message, details) {
    super(message || `gRPC status ${code}`);
    this.code = code;
    this.details = details;
  }
}

/**
 * Calls `method` (`/package.Service/Method`) with the encoded request and
 * yields each encoded response message; throws GrpcError on a non-OK
 * status (a network failure is UNAVAILABLE).
 */
export async function* serverStream(method, request, { token, signal }) {
  const headers = {
    "content-type": "application/grpc-web+proto",
    "x-grpc-web": "1",
    "x-user-agent": "cutover-dashboard/1",
  };
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(method, { method: "POST", headers, body: frame(request), signal });
  } catch (err) {
    throw aborted(err, signal);
  }
  const early = trailerStatus(response.headers);
  if (early) throw early;
  if (!response.ok || !response.body) {
    throw new GrpcError(Code.UNAVAILABLE, `HTTP ${response.status}`);
  }
  const reader = response.body.getReader();
  let buffered = new Uint8Array(0);
  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw aborted(err, signal);
      }
      if (chunk.done) throw new GrpcError(Code.UNAVAILABLE, "the stream ended without a status");
      buffered = concat(buffered, chunk.value);
      let offset = 0;
      while (buffered.length - offset >= 5) {
        const flags = buffered[offset];
        const length = new DataView(buffered.buffer, buffered.byteOffset + offset + 1, 4).getUint32(0);
        if (buffered.length - offset - 5 < length) break;
        const body = buffered.subarray(offset + 5, offset + 5 + length);
        offset += 5 + length;
        if (flags & 0x80) {
          const status = trailerStatus(parseTrailers(body));
          if (status) throw status;
          return;
        }
        yield body;
      }
      buffered = buffered.subarray(offset);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function aborted(err, signal) {
  if (signal && signal.aborted) return new GrpcError(Code.CANCELLED, "cancelled");
  return new GrpcError(Code.UNAVAILABLE, `connection lost: ${err.message || err}`);
}

function frame(message) {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

function concat(a, b) {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function parseTrailers(bytes) {
  const trailers = new Map();
  for (const line of new TextDecoder().decode(bytes).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { get: (name) => trailers.get(name) ?? null };
}

/** The GrpcError a header or trailer block carries, if its status is not OK. */
function trailerStatus(headers) {
  const status = headers.get("grpc-status");
  if (status === null || status === "0") return null;
  let message = headers.get("grpc-message") || "";
  try {
    message = decodeURIComponent(message);
  } catch {
    // Keep the raw text: a malformed escape is still worth showing.
  }
  const details = headers.get("grpc-status-details-bin");
  return new GrpcError(Number(status), message, details ? base64(details) : null);
}

function base64(text) {
  const padded = text + "===".slice((text.length + 3) % 4);
  const binary = atob(padded.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
