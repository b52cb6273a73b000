// decode-memo -- the recorder's decodings (decodeInstruction, decodeRun)
// remembered across runs of a program, in pmfit's cache
// (_internals/user-cache.ts), so that a recording that meets only code it
// met before needs no iced-x86: loading it costs a fresh process 70-100 ms,
// more than the whole recording's other JavaScript.
//
// A decoding is a function of its input alone: the bytes and the address
// they sit at (rip-relative operands and branch targets are resolved against
// it). So an entry is looked up by both, every byte compared, and a whole
// memo is used only by the decoder that made it: the key holds a hash of
// decode.ts's code (and the enumerations of the native contract it
// returns) as it runs, and iced-x86's version. Nothing about the program
// or its files can make an entry wrong; a different program at the same
// address with the same bytes decodes the same. One memo per recorder and
// program path keeps each small (the tracer does not relocate code: ASLR is off, so a
// rerun meets the same addresses).
//
// Its form is a line per decoding, not one JSON document: the decoder's
// version on the first line, then `<key> <the decoding>`: an instruction's
// JSON, a run's infos packed (native.ts packInsns) in base64, as they cross
// into the tracer, so that the runs a fresh process hands the fence hunt
// never become JavaScript objects (txmap's 194 runs: parsed and checked in
// 7-19 ms of a fresh process's CPU, then 15-20 ms to cross field by field;
// now 3-5 and 6-8 ms, docs/recording.md "Runs packed"). Its load is
// a read and a split into lines; each decoding is parsed when first looked
// up, or earlier when the recorder's preload asks for some (decodeSome), so
// no part of the load costs a program that reaches its first region
// meanwhile more than a few milliseconds (docs/recording.md, "Before the
// first region"). A run's infos are checked by the tracer as it takes them
// (native/binding.cc): one it refuses is dropped (drop) and decoded anew.

import * as crypto from 'crypto';
import * as fs from 'fs';
import { icedVersion } from '../../_internals/iced';
import { isObject } from '../../_internals/json-shape';
import { readCacheBytes, writeCacheBytes } from '../../_internals/user-cache';
import { type NativeInsnInfo, packInsns, type PackedInsns } from '../../tracer/native';
import { type DecodedInstruction, decodeInstruction, decodeRun } from '../decode';

const CACHE_KIND = 'decodings';
const CACHE_FORM = 'lines';

/** Decodings kept per program at most: past it a memo starts again from
 *  this run's alone (a program rebuilt many times leaves stale addresses). */
const MAX_DECODINGS = 20_000;

let decoder: string | undefined;

/** The decoder's version: decode.ts and the native contract's enumerations
 *  as they run, and iced-x86's version. */
function decoderVersion(): string {
  if (decoder !== undefined) return decoder;
  const hash = crypto.createHash('sha256');
  for (const file of [require.resolve('../decode'), require.resolve('../../tracer/native')])
    hash.update(fs.readFileSync(file));
  hash.update(icedVersion());
  decoder = hash.digest('hex').slice(0, 32);
  return decoder;
}

type Decoding = DecodedInstruction | PackedInsns;

const isInteger = (value: unknown): value is number => Number.isSafeInteger(value);

/** The shape the tracer's contract checks again (native/): here only what
 *  a memo that is not one would break. */
function isInsnInfo(value: unknown): value is NativeInsnInfo {
  return (
    isObject(value) &&
    isInteger(value.length) &&
    (value.length as number) > 0 &&
    isInteger(value.flags) &&
    (value.rspAdd === undefined || isInteger(value.rspAdd)) &&
    Array.isArray(value.writes) &&
    value.writes.every((write) => isObject(write) && Object.values(write).every(isInteger))
  );
}

/** A memo's key: `i` (decodeInstruction) or `r` (decodeRun), the address
 *  in hex, the bytes in base64. */
const KEY = /^[ir][0-9a-f]+:[A-Za-z0-9+/=]+$/;
const runKey = (bytes: Buffer, address: number) => `r${address.toString(16)}:${bytes.toString('base64')}`;

function isInstruction(value: unknown): value is DecodedInstruction {
  return (
    isObject(value) &&
    isInsnInfo(value.info) &&
    typeof value.text === 'string' &&
    typeof value.mnemonic === 'string' &&
    isInteger(value.length)
  );
}

/** parse -- an entry's decoding as stored, or undefined if it is none. */
function parse(key: string, stored: string): Decoding | undefined {
  if (!KEY.test(key)) return undefined;
  if (key.startsWith('r')) {
    // whole float64s; the tracer checks the rest as it takes them (a
    // pattern test of the text, cold, took 25 ms of a fresh process's
    // CPU profile)
    const packed = Buffer.from(stored, 'base64');
    return packed.length % Float64Array.BYTES_PER_ELEMENT === 0 ? (packed as PackedInsns) : undefined;
  }
  try {
    const parsed: unknown = JSON.parse(stored);
    return isInstruction(parsed) ? parsed : undefined;
  } catch {
    return undefined; // not JSON
  }
}

/** stored -- a decoding as its entry's line holds it. */
const stored = (decoding: Decoding) =>
  Buffer.isBuffer(decoding) ? decoding.toString('base64') : JSON.stringify(decoding);

/** DecodeMemo -- decodeInstruction and decodeRun of one program's recording,
 *  answered from the memo its earlier recordings left where they can be. */
export class DecodeMemo {
  /** The earlier recordings' entries: their JSON as read, parsed and
   *  checked (isDecoding) when first looked up or by decodeSome. */
  private readonly known = new Map<string, string | Decoding>();
  /** Keys of `known` whose JSON is not parsed yet. */
  private unparsed: string[] = [];
  private readonly added = new Map<string, Decoding>();
  private loaded = false;

  /** name: the memo's, one per recorder and program path. */
  constructor(private readonly name: string) {}

  instruction(bytes: Buffer, address: number): DecodedInstruction {
    const key = `i${address.toString(16)}:${bytes.toString('base64')}`;
    return this.lookUp(key, () => decodeInstruction(bytes, address)) as DecodedInstruction;
  }

  /** run -- decodeRun's answer, packed. */
  run(bytes: Buffer, address: number): PackedInsns {
    return this.lookUp(runKey(bytes, address), () => packInsns(decodeRun(bytes, address))) as PackedInsns;
  }

  /** instructionAddresses -- where the decodeInstruction answers known so
   *  far are (the recorder names each instruction it decodes so). */
  instructionAddresses(): number[] {
    return [...this.known.keys()].filter((key) => key.startsWith('i')).map((key) => parseInt(key.slice(1), 16));
  }

  /** knownRuns -- the decodeRun answers of the earlier recordings, each
   *  with the address and bytes it answers for (the recorder hands them to
   *  the fence hunt, which compares the bytes itself); parsed and checked
   *  as a look-up would, where decodeSome has not yet. */
  knownRuns(): { address: number; bytes: Buffer; infos: PackedInsns }[] {
    this.load();
    const runs = [];
    for (const key of [...this.known.keys()]) {
      if (!key.startsWith('r')) continue;
      const infos = this.checked(key) as PackedInsns | undefined;
      if (infos === undefined) continue;
      const colon = key.indexOf(':');
      runs.push({
        address: parseInt(key.slice(1, colon), 16),
        bytes: Buffer.from(key.slice(colon + 1), 'base64'),
        infos,
      });
    }
    return runs;
  }

  /** drop -- a run of knownRuns that the tracer refused: decoded anew at
   *  its look-up, and left out of the next save. */
  drop(run: { address: number; bytes: Buffer }): void {
    this.known.delete(runKey(run.bytes, run.address));
  }

  /** decodeSome -- parse the loaded entries until `deadline`
   *  (performance.now()); true while some are left. */
  decodeSome(deadline: number): boolean {
    this.load();
    while (this.unparsed.length > 0 && performance.now() < deadline) this.checked(this.unparsed.pop() as string);
    return this.unparsed.length > 0;
  }

  /** save -- the memo with this run's new decodings, when there are any. */
  save(): void {
    if (this.added.size === 0) return;
    this.decodeSome(Infinity);
    const kept = this.known.size + this.added.size <= MAX_DECODINGS ? [...this.known] : [];
    const lines = [...kept, ...this.added].map(([key, decoding]) => `${key} ${stored(decoding as Decoding)}`);
    writeCacheBytes(CACHE_KIND, this.name, CACHE_FORM, [decoderVersion(), ...lines].join('\n'));
  }

  private lookUp(key: string, decode: () => Decoding): Decoding {
    this.load();
    const known = this.added.get(key) ?? this.checked(key);
    if (known !== undefined) return known;
    const decoded = decode();
    this.added.set(key, decoded);
    return decoded;
  }

  /** checked -- the earlier recordings' entry for `key` if it is a
   *  decoding; one that is not is dropped, and decoded anew. */
  private checked(key: string): Decoding | undefined {
    const value = this.known.get(key);
    if (typeof value !== 'string') return value;
    const parsed = parse(key, value);
    if (parsed !== undefined) this.known.set(key, parsed);
    else this.known.delete(key);
    return parsed;
  }

  /** load -- the earlier recordings' entries, once: at the first look-up,
   *  or before it (the recorder's preload, while the program runs free). */
  load(): void {
    if (this.loaded) return;
    this.loaded = true;
    const lines = readCacheBytes(CACHE_KIND, this.name, CACHE_FORM)?.toString('utf8').split('\n');
    if (!lines || lines[0] !== decoderVersion()) return;
    for (const line of lines.slice(1)) {
      const space = line.indexOf(' ');
      const key = line.slice(0, space);
      if (space > 0 && KEY.test(key)) this.known.set(key, line.slice(space + 1));
    }
    this.unparsed = [...this.known.keys()];
  }
}
