// RUNPATH of a 64-bit little-endian ELF shared object (what the release build ships), read and
// cut down to its leading `$ORIGIN` in place. CMake puts the toolkit's lib folder of the build
// machine into the CUDA build's RUNPATH after `$ORIGIN`; a shipped binary must not search it.
// Only a NUL is written (right after `$ORIGIN`), so the string table keeps its size and every
// other string in it, including any the linker stored as a suffix of the RUNPATH, stays intact.
import fs from "node:fs";

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT_NULL = 0n;
const DT_STRTAB = 5n;
const DT_RUNPATH = 29n;
const DT_RPATH = 15n;

/** The program headers: type, file offset, address and file size of each segment. @param {Buffer} buf */
function* segments(buf) {
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    yield { type: buf.readUInt32LE(ph), offset: buf.readBigUInt64LE(ph + 8), vaddr: buf.readBigUInt64LE(ph + 16), size: buf.readBigUInt64LE(ph + 32) };
  }
}

/** @param {Buffer} buf @param {bigint} vaddr */
function fileOffset(buf, vaddr) {
  for (const seg of segments(buf)) {
    if (seg.type === PT_LOAD && vaddr >= seg.vaddr && vaddr < seg.vaddr + seg.size) return Number(vaddr - seg.vaddr + seg.offset);
  }
  throw new RangeError(`address 0x${vaddr.toString(16)} is in no PT_LOAD segment`);
}

/**
 * Where the RUNPATH (or old-style RPATH) string is, and what it says; undefined without one.
 * @param {Buffer} buf
 * @returns {{ offset: number, value: string, tag: "RUNPATH" | "RPATH" } | undefined}
 */
export function findRunpath(buf) {
  if (buf.length < 0x40 || buf.readUInt32BE(0) !== 0x7f454c46) throw new TypeError("not an ELF file");
  if (buf[4] !== 2 || buf[5] !== 1) throw new TypeError("not a 64-bit little-endian ELF file");
  for (const seg of segments(buf)) {
    if (seg.type !== PT_DYNAMIC) continue;
    const dynamic = Number(seg.offset);
    const size = Number(seg.size);
    let strtab;
    let entry;
    for (let at = dynamic; at + 16 <= dynamic + size; at += 16) {
      const tag = buf.readBigInt64LE(at);
      if (tag === DT_NULL) break;
      if (tag === DT_STRTAB) strtab = buf.readBigUInt64LE(at + 8);
      if (tag === DT_RUNPATH || (tag === DT_RPATH && !entry)) entry = { tag, index: buf.readBigUInt64LE(at + 8) };
    }
    if (!entry) return undefined;
    if (strtab === undefined) throw new RangeError("dynamic section without DT_STRTAB");
    const offset = fileOffset(buf, strtab) + Number(entry.index);
    const end = buf.indexOf(0, offset);
    if (end < 0) throw new RangeError("unterminated RUNPATH string");
    return { offset, value: buf.toString("latin1", offset, end), tag: entry.tag === DT_RUNPATH ? "RUNPATH" : "RPATH" };
  }
  return undefined;
}

/**
 * Cuts the RUNPATH of `file` to its first entry, which must be `$ORIGIN`. Returns the old and
 * new values (the same when there was nothing to cut).
 * @param {string} file
 */
export function keepOriginOnly(file) {
  const buf = fs.readFileSync(file);
  const found = findRunpath(buf);
  if (!found) throw new RangeError(`${file} has no RUNPATH`);
  const entries = found.value.split(":");
  if (entries[0] !== "$ORIGIN") throw new RangeError(`${file}: RUNPATH ${JSON.stringify(found.value)} does not start with $ORIGIN`);
  if (entries.length === 1) return { before: found.value, after: found.value };
  const fd = fs.openSync(file, "r+");
  try {
    fs.writeSync(fd, Buffer.from([0]), 0, 1, found.offset + "$ORIGIN".length);
  } finally {
    fs.closeSync(fd);
  }
  return { before: found.value, after: "$ORIGIN" };
}
