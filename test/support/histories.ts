import { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.History;

/** What the reflection types behind @temporalio/proto's classes offer; enough to walk a message's fields. */
interface ReflectedType {
  fullName: string;
  fields: Record<string, { map: boolean; repeated: boolean; resolvedType: unknown; resolve(): unknown }>;
}

const isReflectedType = (value: unknown): value is ReflectedType => typeof value === 'object' && value !== null && 'fields' in value;

/** `2026-12-07T21:53:38.404804727Z` → seconds and nanos. */
function timestamp(text: string): { seconds: string; nanos: number } {
  const match = /^(.*?)(?:\.(\d{1,9}))?Z$/.exec(text);
  if (!match) throw new Error(`not an RFC 3339 timestamp: ${text}`);
  const seconds = Math.floor(Date.parse(`${match[1]}Z`) / 1000);
  return { seconds: String(seconds), nanos: Number((match[2] ?? '').padEnd(9, '0')) };
}

/** `10s`, `0.5s` → seconds and nanos. */
function duration(text: string): { seconds: string; nanos: number } {
  const match = /^(-?\d+)(?:\.(\d{1,9}))?s$/.exec(text);
  if (!match) throw new Error(`not a protobuf duration: ${text}`);
  return { seconds: match[1]!, nanos: Number((match[2] ?? '').padEnd(9, '0')) };
}

/** Turns the proto3 JSON forms protobufjs' `fromObject` does not read (timestamps and durations as text) into objects. */
function normalize(type: ReflectedType, json: unknown): unknown {
  if (type.fullName === '.google.protobuf.Timestamp' && typeof json === 'string') return timestamp(json);
  if (type.fullName === '.google.protobuf.Duration' && typeof json === 'string') return duration(json);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return json;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = type.fields[key];
    field?.resolve();
    const nested = field?.resolvedType;
    if (!field || !isReflectedType(nested)) out[key] = value;
    else if (field.map) out[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, normalize(nested, v)]));
    else if (field.repeated) out[key] = (value as unknown[]).map((v) => normalize(nested, v));
    else out[key] = normalize(nested, value);
  }
  return out;
}

/**
 * A history as `temporal workflow show -o json` (or the Temporal UI's download) writes it. The SDK's own
 * `historyFromJSON` cannot be used here: @temporalio/common brings a protobufjs of its own, whose `instanceof`
 * check refuses @temporalio/proto's types.
 */
export function historyFromCliJson(json: unknown): History {
  const type = temporal.api.history.v1.History as unknown as ReflectedType;
  return temporal.api.history.v1.History.fromObject(normalize(type, json) as Record<string, unknown>);
}
