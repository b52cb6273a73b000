// json-shape -- parsed JSON checked against the shape a file format
// promises, with one message shape for every file pmfit reads back
// (results.json, replay files, the trace header): "PATH is missing" or
// "PATH is not WHAT", optionally with the detail in parentheses, PATH
// written as in JSONPath ($.runs[5].groups[1].kind). Callers catch
// ShapeError and put the file's name in front.

export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** A check of one value; as a type guard, field() returns the type. */
export type Check<T = unknown> = (value: unknown) => value is T;
export type Test = (value: unknown) => boolean;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** isCount -- a whole number from 0 up that a double holds exactly. */
export function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** invalid -- the error for a value at `where` that is not `what`. */
export function invalid(where: string, what: string, detail?: string): ShapeError {
  return new ShapeError(`${where} is not ${what}${detail !== undefined ? ` (${detail})` : ''}`);
}

export function object(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined) throw new ShapeError(`${where} is missing`);
  if (!isObject(value)) throw invalid(where, 'an object');
  return value;
}

export function array(value: unknown, where: string): unknown[] {
  if (value === undefined) throw new ShapeError(`${where} is missing`);
  if (!Array.isArray(value)) throw invalid(where, 'an array');
  return value;
}

function refuse(value: unknown, at: string, what: string): never {
  if (value === undefined) throw new ShapeError(`${at} is missing`);
  throw invalid(at, what);
}

/** field -- `parent[name]` (at `where`.`name`), checked. */
export function field<T>(
  parent: Record<string, unknown>,
  where: string,
  name: string,
  check: Check<T>,
  what: string,
): T {
  const value = parent[name];
  return check(value) ? value : refuse(value, `${where}.${name}`, what);
}

/** fields -- several fields of `parent` checked at once, in order. */
export function fields(parent: Record<string, unknown>, where: string, checks: Record<string, [Test, string]>): void {
  for (const [name, [test, what]] of Object.entries(checks)) {
    if (!test(parent[name])) refuse(parent[name], `${where}.${name}`, what);
  }
}
