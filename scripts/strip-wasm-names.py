#!/usr/bin/env python3
"""Drops the `name` custom section (function names, ~55 % of the bundle) from a wasm file after
wasm-bindgen has read what it needs. Rust's `strip = true` would also drop `target_features`,
which wasm-bindgen uses to pick its glue; wasm-opt is not available offline."""
import sys

def leb128(data, pos):
    result, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos

path = sys.argv[1]
data = open(path, 'rb').read()
if data[:4] != b'\0asm':
    sys.exit(f"{path}: not a wasm module")
out, pos = bytearray(data[:8]), 8
while pos < len(data):
    start = pos
    section_id = data[pos]
    size, body = leb128(data, pos + 1)
    end = body + size
    keep = True
    if section_id == 0:
        name_len, name_at = leb128(data, body)
        keep = data[name_at:name_at + name_len] != b'name'
    if keep:
        out += data[start:end]
    pos = end
open(path, 'wb').write(out)
