/**
 * Strict reading of the JSON files vqlab writes for itself (trainer state, run pointer,
 * checksums): parse the text, then take each field with its type and range checked, so that a
 * damaged or edited file is refused with one line naming the file and the field instead of
 * reaching a trainer or a file path as garbage. Nothing here touches the file system.
 *
 *   const s = JsonFields.parse(text, source);
 *   const batch = s.object('dataPosition').integer('batch', 0);   // errors name "dataPosition.batch"
 */

/** Where the JSON came from, and how a refusal of it is raised and ends. */
export interface JsonSource {
  /** The file, named first in every error. */
  readonly path: string;
  /** What the user should do, appended to every error (e.g. "the checkpoint is corrupt; …"). */
  readonly remedy: string;
  readonly fail: (message: string) => Error;
}

type JsonRecord = Readonly<Record<string, unknown>>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A short, one-line rendering of a wrong value for an error message. Arrays and objects are named,
 * not printed: stringifying one nested a million deep would overflow the stack.
 */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  if (typeof value === 'string') return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
  return String(value);
}

/** One JSON object of a file, with typed, range-checked access to its fields. */
export class JsonFields {
  private constructor(
    private readonly obj: JsonRecord,
    private readonly source: JsonSource,
    /** Dotted path of this object in the file ('' at the top). */
    private readonly at: string,
  ) {}

  /** `text` parsed as JSON; its top level must be an object. */
  static parse(text: string, source: JsonSource): JsonFields {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw source.fail(`${source.path} is not valid JSON; ${source.remedy}`);
    }
    if (!isRecord(json)) throw source.fail(`${source.path} does not hold a JSON object; ${source.remedy}`);
    return new JsonFields(json, source, '');
  }

  private name(key: string): string {
    return this.at === '' ? key : `${this.at}.${key}`;
  }

  private refuse(key: string, wanted: string, value: unknown): never {
    throw this.source.fail(`${this.source.path}: "${this.name(key)}" must be ${wanted}, got ${shown(value)}; ${this.source.remedy}`);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  isNull(key: string): boolean {
    return this.obj[key] === null;
  }

  /** The field names of this object, for maps such as `files` or `lossSums`. */
  keys(): string[] {
    return Object.keys(this.obj);
  }

  object(key: string): JsonFields {
    const v = this.obj[key];
    return isRecord(v) ? new JsonFields(v, this.source, this.name(key)) : this.refuse(key, 'an object', v);
  }

  /** The field must hold exactly `value` (a format tag or version). */
  constant<T extends string | number>(key: string, value: T): T {
    const v = this.obj[key];
    return v === value ? value : this.refuse(key, JSON.stringify(value), v);
  }

  integer(key: string, min: number): number {
    const v = this.obj[key];
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? v : this.refuse(key, `an integer >= ${min}`, v);
  }

  /** A finite number that `accept` allows; `wanted` says what that is. */
  number(key: string, wanted: string, accept: (n: number) => boolean): number {
    const v = this.obj[key];
    return typeof v === 'number' && Number.isFinite(v) && accept(v) ? v : this.refuse(key, wanted, v);
  }

  boolean(key: string): boolean {
    const v = this.obj[key];
    return typeof v === 'boolean' ? v : this.refuse(key, 'true or false', v);
  }

  /** A string; with `pattern`, one that matches it (`wanted` says in words what that is). */
  string(key: string, pattern?: { readonly test: RegExp; readonly wanted: string }): string {
    const v = this.obj[key];
    if (typeof v !== 'string' || (pattern !== undefined && !pattern.test.test(v))) this.refuse(key, pattern?.wanted ?? 'a string', v);
    return v;
  }

  /** A number, boolean or string (an optimizer setting). */
  scalar(key: string): number | boolean | string {
    const v = this.obj[key];
    return (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || typeof v === 'string' ? v : this.refuse(key, 'a finite number, true, false or a string', v);
  }

  /** An array of integers >= `min`. */
  integers(key: string, min: number): number[] {
    const v = this.obj[key];
    if (!Array.isArray(v)) this.refuse(key, `an array of integers >= ${min}`, v);
    const bad = v.findIndex((e) => !(typeof e === 'number' && Number.isSafeInteger(e) && e >= min));
    if (bad >= 0) this.refuse(`${key}[${bad}]`, `an integer >= ${min}`, v[bad]);
    return v as number[];
  }
}
