// Protocol Buffers binary encoding, driven by the schema the server derives
// from its descriptor set (schema.json): messages decode to plain objects
// keyed by the fields' JSON names, enums to their names, Timestamps to
// epoch milliseconds and Durations to milliseconds.

const TWO_32 = 4294967296;
const TIMESTAMP = "google.protobuf.Timestamp";
const DURATION = "google.protobuf.Duration";
const NUMERIC = new Set([
  "double", "float", "uint64", "sint64", "int32", "uint32", "sint32",
  "fixed64", "fixed32", "bool", "enum",
]);
const text = new TextDecoder();
const utf8 = new TextEncoder();

/** Decodes and encodes the messages of one schema. */
export class Codec {
  constructor(schema) {
    this.enums = schema.enums || {};
    this.maps = new Set(schema.maps || []);
    this.messages = new Map();
    for (const [name, fields] of Object.entries(schema.messages || {})) {
      const byNumber = new Map();
      const byName = new Map();
      for (const [number, json, kind, type, repeated] of fields) {
        const field = { number, json, kind, type, repeated, map: this.maps.has(type) };
        byNumber.set(number, field);
        byName.set(json, field);
      }
      this.messages.set(name, { byNumber, byName });
    }
  }

  /** `bytes` (a Uint8Array) decoded as a `type` message. */
  decode(type, bytes) {
    return this.#message(type, bytes, 0, bytes.length);
  }

  /** `value` encoded as a `type` message. */
  encode(type, value) {
    const out = [];
    this.#write(type, value, out);
    return Uint8Array.from(out);
  }

  /** The name of value `number` of enum `type`, or the number. */
  enumName(type, number) {
    const names = this.enums[type];
    return (names && names[number]) ?? number;
  }

  #message(type, buf, start, end) {
    const descriptor = this.messages.get(type);
    const reader = new Reader(buf, start, end);
    const out = {};
    while (reader.pos < end) {
      const tag = reader.varint();
      const number = Math.floor(tag / 8);
      const wire = tag & 7;
      const field = descriptor && descriptor.byNumber.get(number);
      if (!field) {
        reader.skip(wire);
        continue;
      }
      if (field.repeated && wire === 2 && NUMERIC.has(field.kind)) {
        const stop = reader.length();
        const list = out[field.json] || (out[field.json] = []);
        while (reader.pos < stop) list.push(this.#scalar(field, reader));
        continue;
      }
      const value = this.#value(field, wire, reader);
      if (field.map) {
        const entries = out[field.json] || (out[field.json] = {});
        entries[value.key ?? ""] = value.value;
      } else if (field.repeated) {
        (out[field.json] || (out[field.json] = [])).push(value);
      } else {
        out[field.json] = value;
      }
    }
    if (type === TIMESTAMP || type === DURATION) {
      return (out.seconds || 0) * 1000 + (out.nanos || 0) / 1e6;
    }
    return out;
  }

  #value(field, wire, reader) {
    if (field.kind === "message") {
      const stop = reader.length();
      const start = reader.pos;
      reader.pos = stop;
      return this.#message(field.type, reader.buf, start, stop);
    }
    if (field.kind === "string") {
      const stop = reader.length();
      const value = text.decode(reader.buf.subarray(reader.pos, stop));
      reader.pos = stop;
      return value;
    }
    if (field.kind === "bytes") {
      const stop = reader.length();
      const value = reader.buf.slice(reader.pos, stop);
      reader.pos = stop;
      return value;
    }
    return this.#scalar(field, reader);
  }

  #scalar(field, reader) {
    switch (field.kind) {
      case "double": return reader.double();
      case "float": return reader.float();
      case "fixed64": return reader.fixed64();
      case "fixed32": return reader.fixed32();
      case "bool": return reader.varint() !== 0;
      case "int32": return reader.varint32();
      case "uint32": return reader.varint32() >>> 0;
      case "sint32": case "sint64": {
        const n = reader.varint();
        return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
      }
      case "enum": return this.enumName(field.type, reader.varint32());
      default: return reader.varint();
    }
  }

  #write(type, value, out) {
    const descriptor = this.messages.get(type);
    if (!descriptor) throw new Error(`unknown message ${type}`);
    for (const [name, raw] of Object.entries(value)) {
      const field = descriptor.byName.get(name);
      if (!field) throw new Error(`${type} has no field ${name}`);
      for (const item of field.repeated ? raw : [raw]) {
        this.#writeField(field, item, out);
      }
    }
  }

  #writeField(field, value, out) {
    switch (field.kind) {
      case "message": {
        const inner = [];
        if (field.type === DURATION || field.type === TIMESTAMP) {
          const seconds = Math.floor(value / 1000);
          this.#write(field.type, { seconds, nanos: Math.round((value - seconds * 1000) * 1e6) }, inner);
        } else {
          this.#write(field.type, value, inner);
        }
        writeVarint(out, field.number * 8 + 2);
        writeVarint(out, inner.length);
        for (const byte of inner) out.push(byte);
        return;
      }
      case "string": {
        const bytes = utf8.encode(value);
        writeVarint(out, field.number * 8 + 2);
        writeVarint(out, bytes.length);
        for (const byte of bytes) out.push(byte);
        return;
      }
      case "bool":
        writeVarint(out, field.number * 8);
        writeVarint(out, value ? 1 : 0);
        return;
      case "uint64": case "int32": case "uint32": case "enum": case "int64":
        if (!Number.isSafeInteger(value) || value < 0) throw new Error(`cannot encode ${value}`);
        writeVarint(out, field.number * 8);
        writeVarint(out, value);
        return;
      default:
        throw new Error(`encoding ${field.kind} is not supported`);
    }
  }
}

function writeVarint(out, n) {
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

/** A cursor over a byte range. */
class Reader {
  constructor(buf, start, end) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  // Exact below 2^53, which covers revisions, byte counts and times.
  varint() {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const byte = this.buf[this.pos++];
      result += (byte & 127) * scale;
      if (byte < 128) return result;
      scale *= 128;
    }
  }

  // The low 32 bits, signed: negative int32s are sign-extended to ten bytes.
  varint32() {
    const start = this.pos;
    let low = 0;
    for (let shift = 0; ; shift += 7) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const byte = this.buf[this.pos++];
      if (shift < 32) low |= (byte & 127) << shift;
      if (byte < 128) break;
      if (this.pos - start > 10) throw new Error("varint too long");
    }
    return low | 0;
  }

  length() {
    const n = this.varint();
    const stop = this.pos + n;
    if (stop > this.end) throw new Error("truncated field");
    return stop;
  }

  double() { const v = this.view.getFloat64(this.pos, true); this.pos += 8; return v; }
  float() { const v = this.view.getFloat32(this.pos, true); this.pos += 4; return v; }
  fixed32() { const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  fixed64() {
    const low = this.view.getUint32(this.pos, true);
    const high = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return high * TWO_32 + low;
  }

  skip(wire) {
    switch (wire) {
      case 0: this.varint(); return;
      case 1: this.pos += 8; return;
      case 2: this.pos = this.length(); return;
      case 5: this.pos += 4; return;
      default: throw new Error(`unsupported wire type ${wire}`);
    }
  }
}
