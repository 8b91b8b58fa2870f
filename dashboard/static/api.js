// The admin API over the Connect protocol with JSON: unary calls are a
// plain POST of the request message; WatchJobEvents is a server stream of
// enveloped JSON messages. No generated code: proto3 JSON is what the page
// reads anyway (lowerCamelCase fields, int64 as strings, enums by name).

const service = "/herald.admin.v1.AdminService/";

// Connect codes for an HTTP status when a body has no JSON error (a proxy
// in between, say); from the Connect protocol's table.
const codeForStatus = {
  400: "invalid_argument", 401: "unauthenticated", 403: "permission_denied",
  404: "unimplemented", 408: "deadline_exceeded", 409: "aborted",
  412: "failed_precondition", 429: "unavailable", 502: "unavailable",
  503: "unavailable", 504: "unavailable",
};

// APIError is an error answered by the API (or the network), with its
// Connect code ("unauthenticated", "permission_denied", "not_found", ...).
export class APIError extends Error {
  constructor(code, message) {
    super(message ? `${code}: ${message}` : code);
    this.name = "APIError";
    this.code = code;
    this.detail = message;
  }
}

// Client calls the API of the page's own origin. token() is read on every
// call, so logging in or out takes effect at once.
export class Client {
  constructor(token) {
    this.token = token;
  }

  headers(contentType) {
    const h = { "Content-Type": contentType, "Connect-Protocol-Version": "1" };
    const t = this.token();
    if (t) h.Authorization = `Bearer ${t}`;
    return h;
  }

  // call runs a unary method and resolves to its response message.
  async call(method, request = {}, signal) {
    let resp;
    try {
      resp = await fetch(service + method, {
        method: "POST",
        headers: this.headers("application/json"),
        body: JSON.stringify(request),
        signal,
      });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new APIError("unavailable", `cannot reach the server (${err.message})`);
    }
    const body = await resp.json().catch(() => null);
    if (!resp.ok) {
      throw new APIError(body?.code ?? codeForStatus[resp.status] ?? "unknown", body?.message ?? resp.statusText);
    }
    return body ?? {};
  }

  // watch runs a server-streaming method and calls onMessage for every
  // message. It resolves when the server ends the stream cleanly and
  // rejects with an APIError when it ends it with an error or the
  // connection drops.
  async watch(method, request, onMessage, signal) {
    let resp;
    try {
      resp = await fetch(service + method, {
        method: "POST",
        headers: this.headers("application/connect+json"),
        body: envelope(request),
        signal,
      });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new APIError("unavailable", `cannot reach the server (${err.message})`);
    }
    if (!resp.ok) {
      const body = await resp.json().catch(() => null);
      throw new APIError(body?.code ?? codeForStatus[resp.status] ?? "unknown", body?.message ?? resp.statusText);
    }
    const reader = new EnvelopeReader(resp.body.getReader());
    for (;;) {
      let env;
      try {
        env = await reader.next();
      } catch (err) {
        if (err.name === "AbortError") throw err;
        throw new APIError("unavailable", `stream dropped (${err.message})`);
      }
      if (env === null) throw new APIError("unavailable", "stream ended without an end-of-stream message");
      const msg = JSON.parse(new TextDecoder().decode(env.data));
      if (env.flags & endStreamFlag) {
        if (msg.error) throw new APIError(msg.error.code ?? "unknown", msg.error.message);
        return;
      }
      onMessage(msg);
    }
  }
}

const endStreamFlag = 0x02;

// envelope frames one JSON message: a flags byte, a big-endian uint32
// length, the bytes.
function envelope(message) {
  const data = new TextEncoder().encode(JSON.stringify(message));
  const out = new Uint8Array(5 + data.length);
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, 5);
  return out;
}

// EnvelopeReader cuts a byte stream into envelopes, whatever the chunk
// boundaries.
class EnvelopeReader {
  constructor(reader) {
    this.reader = reader;
    this.buf = new Uint8Array(0);
  }

  // next resolves to {flags, data}, or null at a clean end of input.
  async next() {
    for (;;) {
      if (this.buf.length >= 5) {
        const len = new DataView(this.buf.buffer, this.buf.byteOffset).getUint32(1);
        if (this.buf.length >= 5 + len) {
          const env = { flags: this.buf[0], data: this.buf.slice(5, 5 + len) };
          this.buf = this.buf.slice(5 + len);
          return env;
        }
      }
      const { done, value } = await this.reader.read();
      if (done) {
        if (this.buf.length > 0) throw new Error("truncated message");
        return null;
      }
      const joined = new Uint8Array(this.buf.length + value.length);
      joined.set(this.buf);
      joined.set(value, this.buf.length);
      this.buf = joined;
    }
  }
}
