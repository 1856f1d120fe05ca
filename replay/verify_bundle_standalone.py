"""Check a Handoff audit export with Python 3 alone:  python3 verify.py BUNDLE --key "FINGERPRINT" --witness-key VKEY

--key is the school's (or bureau's) signing key as published elsewhere: its fingerprint, 40 digits in groups of five
as read over the phone, or the 32-byte public key in base64. Repeat it to accept several. Without --key every check
still runs against the bundle's own key, but the answer is NOT VERIFIED: a forger can sign with a key of their own.
--witness-key is the bureau witness's key (c2sp.org/signed-note vkey, name+keyid+base64(0x04 || key)): each school's
head checkpoint must carry its cosignature (c2sp.org/tlog-cosignature, Ed25519), or the answer is NOT VERIFIED.
Nothing is written anywhere. Exit 0 only when everything checks out against an expected key and witness; 1 otherwise.
Each problem ends in a reason code, and the last line, "reasons: …", names them all, the same codes as the page's
verifier (ui/js/verify-bundle.js) and `handoff verify` give: key_malformed, key_unexpected, statement_unsigned,
statement_format, file_list, file_changed, copy_disagrees, event_out_of_place, schools_differ, head_not_reached,
checkpoint_invalid, inclusion_proof, consistency_proof, cosignature_missing (a head with no cosignature at all),
cosignature_unpinned (only other keys' cosignatures), cosignature_invalid (a pinned key's name and id over another
text), unreadable, no_expected_key, witness_key_missing (no --witness-key given).

  statement.txt     a signed note (c2sp.org/signed-note, Ed25519) made at export time: "handoff-export v3", then lines
                    "made <time>", "days <first> <last>", "pseudonymised yes|no", "head <school> <size> <root base64>"
                    (each school's tree when the export was made) and "file <name> <sha256 hex>" for every other file.
  checkpoints.json  [{"school_id", "tree_size", "root_hex", "made_at", "note"}]: each note a c2sp.org/tlog-checkpoint
                    (origin "handoff/<school>", size, root base64, "time <made_at>"), signed like the statement.
  keys.json         optional: {"keys": [earlier public keys, base64], "rotations": [signed notes, each
                    "handoff-key-rotation v1", "old <b64>", "new <b64>", "at <time>", signed by the old key]}. A key
                    whose fingerprint is expected, or that an accepted key announced, is accepted.
  public_key.pem    the key that signed the statement (SubjectPublicKeyInfo PEM); trusted only when it matches --key.
  events.jsonl      one JSON object per line: "school_id", "index" (leaf index in the school's tree), and either
                    "leaf", "event" (its readable copy) and, in a named bundle, "openings", or, for events outside the
                    range, "subtree": [height, hash hex] standing for 2**height leaves. A leaf is the JSON text
                    {"committed": {field: hex}, "plain": {field: value}, "stream": hex, "topic", "version"}: personal
                    fields only as SHA-256(salt || value as JSON with sorted keys, no spaces); openings are
                    {field: [salt hex, value]} ("stream" for the stream id). Every readable field must equal the leaf's
                    plain value ({"_type_", "_data_"} read as its data), or its opened value; without openings, a
                    committed field is shown as a pseudonym, which only the commitment stands for.
  proofs.json       inclusion and consistency proofs, each ending at a checkpoint of this bundle.
Trees are RFC 6962: SHA-256, leaf = H(0x00 || leaf text in UTF-8), node = H(0x01 || left || right). Signatures are
checked here with a plain RFC 8032 Ed25519 (slow, but a bundle holds few signatures). Keep this file short enough to
read: it is the one part of the bundle a regulator runs.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import hashlib
import itertools
import json
import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
KEY_NAME, ED25519, COSIGNATURE_V1 = "handoff", b"\x01", b"\x04"
SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


# RFC 8032 §5.1: points in extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, x*y = T/Z.
def point_add(p, q):
    a, b = (p[1] - p[0]) * (q[1] - q[0]) % P, (p[1] + p[0]) * (q[1] + q[0]) % P
    c, d = 2 * p[3] * q[3] * D % P, 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def point_mul(s, p):
    q = (0, 1, 1, 0)
    while s:
        if s & 1:
            q = point_add(q, p)
        p, s = point_add(p, p), s >> 1
    return q


def point_decode(data):
    """RFC 8032 §5.1.3; None when the 32 bytes are no point of the curve."""
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= P:
        return None
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if (v * x * x - u) % P:
        x = x * SQRT_M1 % P
    if (v * x * x - u) % P or (x == 0 and sign):
        return None
    x = P - x if x & 1 != sign else x
    return (x, y, 1, x * y % P)


def point_equal(p, q):
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0


B = point_decode((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def ed25519_ok(public, message, signature):
    """RFC 8032 §5.1.7: [S]B = R + [k]A."""
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r, s = point_decode(public), point_decode(signature[:32]), int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return point_equal(point_mul(s, B), point_add(r, point_mul(k, a)))


def fingerprint(public):
    """40 digits in eight groups of five, from SHA-512 of the raw key: easy to read out and compare by ear."""
    digest = hashlib.sha512(b"handoff signing key\n" + public).digest()
    return " ".join(f"{int.from_bytes(digest[i : i + 5], 'big') % 100000:05d}" for i in range(0, 40, 5))


def note_key_id(public: bytes) -> bytes:
    return hashlib.sha256(KEY_NAME.encode() + b"\n" + ED25519 + public).digest()[:4]


def open_note(note: str, keys: list[bytes]) -> str | None:
    """The text of a c2sp.org/signed-note if a signature by one of `keys` verifies, else None."""
    text, sep, signatures = note.rpartition("\n\n")
    for line in signatures.splitlines() if sep else []:
        name, _, blob = line.removeprefix("\u2014 ").partition(" ")
        raw = base64.b64decode(blob + "==")
        for public in keys:
            if (
                name == KEY_NAME
                and raw[:4] == note_key_id(public)
                and ed25519_ok(public, (text + "\n").encode(), raw[4:])
            ):
                return text + "\n"
    return None


RAW_DECODE = json.JSONDecoder().raw_decode


def loads(text):
    """One JSON value alone on its line (json.loads without its two whitespace scans, for the many lines and leaves
    of events.jsonl)."""
    value, end = RAW_DECODE(text)
    if text[end:].strip():
        raise ValueError(f"extra data after the JSON value at character {end}")
    return value


def cosigner_key_id(name: str, public: bytes) -> bytes:
    """c2sp.org/tlog-cosignature: SHA-256(name || "\\n" || 0x04 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + COSIGNATURE_V1 + public).digest()[:4]


def witness_key(vkey):
    """A --witness-key value: the witness's vkey (c2sp.org/signed-note), <name>+<key id hex>+<base64(0x04 || key)>."""
    name, _, rest = vkey.strip().partition("+")
    key_id, _, blob = rest.partition("+")
    try:
        raw = base64.b64decode(blob, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 33 or raw[:1] != COSIGNATURE_V1 or cosigner_key_id(name, raw[1:]).hex() != key_id.lower():
        raise argparse.ArgumentTypeError("give the witness's vkey: name+keyid+base64, as the bureau publishes it")
    return name, raw[1:]


def cosigned(note, witnesses):
    """None when a pinned witness (name, key) cosigned the checkpoint `note` (c2sp.org/tlog-cosignature, Ed25519,
    message "cosignature/v1", "time <t>", then the note's text); otherwise why not, as a reason code."""
    text, sep, signatures = note.rpartition("\n\n")
    found = invalid = False
    for line in signatures.splitlines() if sep else []:
        name, _, blob = line.removeprefix("\u2014 ").partition(" ")
        raw = base64.b64decode(blob + "==")
        found = found or name != KEY_NAME
        for witness, public in witnesses:
            if name == witness and raw[:4] == cosigner_key_id(witness, public):
                message = f"cosignature/v1\ntime {int.from_bytes(raw[4:12], 'big')}\n{text}\n".encode()
                if len(raw) == 76 and ed25519_ok(public, message, raw[12:]):
                    return None
                invalid = True
    return "cosignature_invalid" if invalid else "cosignature_unpinned" if found else "cosignature_missing"


def sha256(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


def root_of(stack):
    r = stack[-1][1] if stack else sha256()
    for _, h in reversed(stack[:-1]):
        r = sha256(b"\1", h, r)
    return r


def fold(path, fn, sn, first, second=None):
    """The RFC 9162 inclusion (second None) and consistency hash walk; returns (first, second, sn)."""
    for p in path:
        if sn == 0:
            return None, None, 1
        if fn & 1 or fn == sn:
            first, second = sha256(b"\1", p, first), None if second is None else sha256(b"\1", p, second)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        elif second is None:
            first = sha256(b"\1", first, p)
        else:
            second = sha256(b"\1", second, p)
        fn, sn = fn >> 1, sn >> 1
    return first, second, sn


def consistency_ok(old_size, new_size, old_root, new_root, proof):
    if old_size in (0, new_size):
        return 0 <= old_size <= new_size and not proof and old_root == (sha256() if old_size == 0 else new_root)
    if not 0 < old_size < new_size or not proof:
        return False
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else proof
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fold(path[1:], fn, sn, path[0], path[0]) == (old_root, new_root, 0)


class Check:
    """Every check's line, and each problem with its reason code (the same codes in every verifier of bundles)."""

    def __init__(self):
        self.problems, self.reasons = [], []

    def say(self, what, ok, bad="is WRONG", code="bundle_wrong"):
        print(f"{what}: {'ok' if ok else f'{bad} ({code})'}")
        if not ok:
            self.fail(f"{what}: {bad}", code)
        return ok

    def fail(self, problem, code):
        self.problems.append(f"{problem} ({code})")
        self.reasons += [] if code in self.reasons else [code]


def accepted_keys(bundle, pins, check):
    """The bundle's keys that match a pin (all of them, unpinned), plus every key a rotation note of an accepted key
    announced; the key that signed the statement must be one of them."""
    pem = (bundle / "public_key.pem").read_text(encoding="ascii")
    der = base64.b64decode("".join(ln for ln in pem.splitlines() if ln and not ln.startswith("-----")))
    if len(der) != 44 or not der.startswith(SPKI_PREFIX):
        check.say("public_key.pem", False, "is NOT an Ed25519 public key", "key_malformed")
        return []
    own, found = der[12:], bundle / "keys.json"
    print(f"the bundle's key has the fingerprint {fingerprint(own)}")
    history = json.loads(found.read_text(encoding="utf-8")) if found.exists() else {"keys": [], "rotations": []}
    candidates = [own, *map(base64.b64decode, history["keys"])]
    keys = [k for k in pins if isinstance(k, bytes)] if pins else [own]
    keys += [k for k in candidates if fingerprint(k).replace(" ", "") in pins and k not in keys]
    for _ in history["rotations"]:  # announcements may come in any order: repeat until nothing new is learnt
        for note in history["rotations"]:
            text = open_note(note, keys)
            fields = dict(line.split(" ", 1) for line in (text or "").splitlines()[1:])
            new = base64.b64decode(fields.get("new", ""))
            if text and text.startswith("handoff-key-rotation v1\n") and len(new) == 32 and new not in keys:
                keys.append(new)
                print(f"key {fingerprint(new)} was announced by an accepted key ({fields.get('at')})")
    check.say("the bundle's key is the key expected", own in keys, "is NOT the key expected (--key)", "key_unexpected")
    return keys


def read_statement(bundle, keys, check):
    text = open_note((bundle / "statement.txt").read_text(encoding="utf-8"), keys)
    if (
        not check.say("statement.txt is signed by an accepted key", text is not None, "is NOT", "statement_unsigned")
        or text is None
    ):
        return None
    lines = text.splitlines()
    check.say(
        "statement.txt is a handoff-export v3 statement", lines[0] == "handoff-export v3", "is NOT", "statement_format"
    )
    heads = {
        s: (int(n), base64.b64decode(r)) for _, s, n, r in (ln.split(" ") for ln in lines if ln.startswith("head "))
    }
    files = dict(ln.split(" ")[1:] for ln in lines if ln.startswith("file "))
    print("\n".join(ln for ln in lines if ln.split(" ")[0] in ("made", "days", "pseudonymised")))
    return heads, files, "pseudonymised no" in lines


def check_files(bundle, files, check):
    present = sorted(p.name for p in bundle.iterdir() if p.name != "statement.txt")
    check.say(f"the statement lists every file ({len(present)})", sorted(files) == present, "does NOT", "file_list")
    for name in sorted(set(files) & set(present)):
        got = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
        check.say(f"{name} is the file signed", got == files[name], "was CHANGED after the export", "file_changed")


def unwrap(value):
    """A stored value as the readable copy shows it: {"_type_": ..., "_data_": d} (a time, a UUID) as d."""
    if type(value) is dict:
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return value["_data_"]
        return {k: unwrap(v) for k, v in value.items()}
    return [unwrap(v) for v in value] if type(value) is list else value


def opens(salt, value, commitment):
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(bytes.fromhex(salt) + text).hexdigest() == commitment


# the server time is shown as server_time; the storage format not at all
UNSHOWN = frozenset({"timestamp", "class_version"})


def leaf_disagrees(line, named):
    """Where a line's readable copy and openings disagree with its leaf (None when they agree)."""
    leaf, copy, openings = loads(line["leaf"]), line["event"], line.get("openings")
    plain, committed = leaf["plain"], leaf["committed"]
    if named and (openings is None or openings.keys() != {*committed, "stream"}):
        return "does not open every commitment of its leaf in this named bundle"
    if openings is not None:
        pairs = [*committed.items(), ("stream", leaf["stream"])]
        if not all(opens(openings[name][0], openings[name][1], c) for name, c in pairs):
            return "has an opening that does NOT open its commitment"
    if copy.get("type") != leaf["topic"].rpartition(":")[2].rpartition(".")[2]:
        return "is not of the type its leaf holds"
    if copy.get("server_time") != unwrap(plain.get("timestamp")):
        return "does not have its leaf's server time"
    for name, shown in copy.items():
        value = plain.get(name, copy)  # the copy itself stands for "not plain"
        if value == shown:
            continue
        if value is not copy:
            ok = unwrap(value) == shown
        elif name in committed:
            ok = openings is None or name == "sealed" or shown == unwrap(openings[name][1])
        else:
            ok = name in ("type", "server_time") or shown is None  # None: a field newer than the stored event
        if not ok:
            return f"shows {name} NOT as its leaf holds it"
    left_out = plain.keys() - copy.keys() - UNSHOWN
    return f"leaves out {sorted(left_out)[0]} of its leaf" if left_out else None


PIECE = 2 << 20  # bytes of events.jsonl read as one piece of work: several per process, so memory stays flat


def read_lines(path, start, stop, named):
    """Each line of events.jsonl that begins in bytes [start, stop): its school, index, subtree height, hash, and what
    is wrong with its readable copy (None when nothing is)."""
    found, collecting = [], gc.isenabled()
    gc.disable()  # the lines make many small objects and no cycles: collecting them only costs time
    try:
        with open(path, "rb") as lines:
            lines.seek(max(start - 1, 0))
            at = start - 1 + len(lines.readline()) if start else 0  # a line begun before start is the last piece's
            for raw in lines:
                if at >= stop:
                    break
                at += len(raw)
                if not raw.strip():
                    continue
                event = loads(raw.decode("utf-8"))
                if "leaf" in event:
                    leaf = sha256(b"\0", event["leaf"].encode())
                    found.append((event["school_id"], event["index"], 0, leaf, leaf_disagrees(event, named)))
                else:
                    height, h = event["subtree"]
                    found.append((event["school_id"], event["index"], height, bytes.fromhex(h), None))
    finally:
        if collecting:
            gc.enable()
    return found


def readers(bundle, jobs, piece):
    """The processes that read events.jsonl's pieces while this one checks the rest: none for one job or one piece."""
    events = bundle / "events.jsonl"
    pieces = -(-events.stat().st_size // piece) if events.exists() else 0
    if jobs < 2 or pieces < 2:
        return contextlib.nullcontext()
    # forking is quick but safe only in a process with no other thread (verify.py on its own); else a fresh start
    start = "fork" if threading.active_count() == 1 and sys.platform == "linux" else "spawn"
    return ProcessPoolExecutor(min(jobs, pieces), mp_context=multiprocessing.get_context(start))


def read_all_lines(path, named, pool=None, piece=PIECE):
    """Every line of events.jsonl in order, read in pieces of `piece` bytes: by `pool`'s processes, all handed out
    at once (they are read while the caller goes on), or else here, as they are asked for."""
    size = path.stat().st_size
    starts = list(range(0, size, piece)) or [0]
    args = ([path] * len(starts), starts, [*starts[1:], size], [named] * len(starts))
    return itertools.chain.from_iterable((pool.map if pool else map)(read_lines, *args))


def check_trees(bundle, heads, checkpoints, check, named=False, lines=None):
    """Rebuild each school's tree from its leaves and subtree hashes; compare it with the heads and checkpoints, and
    each readable copy with its leaf."""
    wanted = {(c["school_id"], c["tree_size"]) for c in checkpoints} | {(s, n) for s, (n, _) in heads.items()}
    stacks, sizes, roots, disagreeing = {}, {}, {}, 0
    lines = read_all_lines(bundle / "events.jsonl", named) if lines is None else lines
    for school, index, height, h, wrong in lines:
        stack, size = stacks.setdefault(school, []), sizes.get(school, 0)
        if wrong and disagreeing < 5:
            check.say(f"school {school}: the readable copy of event {index}", False, wrong, "copy_disagrees")
        disagreeing += 1 if wrong else 0
        if index != size or size % (1 << height) or (stack and stack[-1][0] < height):
            check.say(
                f"school {school}: event {index}", False, f"is out of place (expected {size})", "event_out_of_place"
            )
            return None
        sizes[school] = size + (1 << height)
        while stack and stack[-1][0] == height:
            h, height = sha256(b"\1", stack.pop()[1], h), height + 1
        stack.append((height, h))
        if (school, sizes[school]) in wanted:
            roots[school, sizes[school]] = root_of(stack)
    check.say(
        f"every readable copy agrees with its leaf ({disagreeing} do not)",
        not disagreeing,
        "does NOT",
        "copy_disagrees",
    )
    check.say("the bundle holds the schools of the statement", set(sizes) == set(heads), "does NOT", "schools_differ")
    for school, (n, root) in sorted(heads.items()):
        ok = sizes.get(school) == n and roots.get((school, n)) == root
        check.say(
            f"school {school}: {sizes.get(school, 0)} events reach the head of {n} signed at export",
            ok,
            "do NOT",
            "head_not_reached",
        )
    return roots


def check_checkpoints(checkpoints, keys, roots, heads, check):
    for c in checkpoints:
        text = open_note(c["note"], keys)
        fields = (text or "").split("\n")
        root = base64.b64encode(bytes.fromhex(c["root_hex"])).decode()
        ok = text is not None and fields[:3] == [f"handoff/{c['school_id']}", str(c["tree_size"]), root]
        ok = ok and roots.get((c["school_id"], c["tree_size"])) == bytes.fromhex(c["root_hex"])
        ok = ok and c["tree_size"] <= heads.get(c["school_id"], (-1,))[0]
        check.say(
            f"school {c['school_id']}: checkpoint of {c['tree_size']} events ({c['made_at']})",
            ok,
            "does NOT verify",
            "checkpoint_invalid",
        )


def check_proofs(proofs, checkpoints, statement_heads, check):
    """Inclusion and consistency proofs, each of which must end at a checkpoint or a head of the statement."""
    heads, h = {(c["school_id"], c["tree_size"], c["root_hex"]) for c in checkpoints}, bytes.fromhex
    heads |= {(school, n, root.hex()) for school, (n, root) in statement_heads.items()}
    for p in proofs.get("inclusion", []):
        folded = fold(map(h, p["proof"]), p["index"], p["tree_size"] - 1, sha256(b"\0", p["leaf"].encode()))
        ok = 0 <= p["index"] < p["tree_size"] and folded[::2] == (h(p["root_hex"]), 0)
        ok = ok and (p["school_id"], p["tree_size"], p["root_hex"]) in heads
        what = f"inclusion proof of event {p['index']} in the tree of {p['tree_size']}"
        check.say(f"school {p['school_id']}: {what}", ok, code="inclusion_proof")
    for p in proofs.get("consistency", []):
        ok = consistency_ok(
            p["old_size"], p["new_size"], h(p["old_root_hex"]), h(p["new_root_hex"]), [*map(h, p["proof"])]
        )
        ok = ok and (p["school_id"], p["new_size"], p["new_root_hex"]) in heads
        what = f"consistency proof from the tree of {p['old_size']} (root {p['old_root_hex']}: compare it with yours)"
        check.say(f"school {p['school_id']}: {what} to {p['new_size']}", ok, code="consistency_proof")


def check_witnessed(checkpoints, heads, witnesses, check):
    """Each school's head must be a checkpoint a pinned witness cosigned: it saw no other history of that log."""
    for school, (n, root) in sorted(heads.items()):
        head = (school, n, root.hex())
        notes = [c["note"] for c in checkpoints if (c["school_id"], c["tree_size"], c["root_hex"]) == head]
        reason = cosigned(notes[0], witnesses) if notes else "cosignature_missing"
        what = f"school {school}: the checkpoint of {n} events is cosigned by a pinned witness"
        check.say(what, reason is None, "is NOT", reason or "")


def pin(text):
    """A --key value: 40 fingerprint digits (spaces and dashes ignored) or a raw key in base64."""
    digits = text.replace(" ", "").replace("-", "")
    if digits.isdigit() and len(digits) == 40:
        return digits
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise argparse.ArgumentTypeError("give the 40-digit fingerprint or the 32-byte public key in base64")
    return raw


def verify(bundle, pins, jobs=1, piece=PIECE, witnesses=()):
    check = Check()
    try:
        keys = accepted_keys(bundle, pins, check)
        statement = read_statement(bundle, keys, check)
        if statement:
            events = bundle / "events.jsonl"
            with readers(bundle, jobs, piece) as pool:  # the pieces are read while the files are hashed
                lines = read_all_lines(events, statement[2], pool, piece) if events.exists() else None
                check_files(bundle, statement[1], check)
                checkpoints = json.loads((bundle / "checkpoints.json").read_text(encoding="utf-8"))
                roots = check_trees(bundle, statement[0], checkpoints, check, statement[2], lines)
            if roots is not None:
                check_checkpoints(checkpoints, keys, roots, statement[0], check)
            proofs = json.loads((bundle / "proofs.json").read_text(encoding="utf-8"))
            check_proofs(proofs, checkpoints, statement[0], check)
            check_witnessed(checkpoints, statement[0], witnesses, check)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
        check.fail(f"the bundle cannot be read: {type(error).__name__}: {error}", "unreadable")
    if not pins:
        check.fail("no expected key was given (--key): the bundle's own key proves nothing", "no_expected_key")
    if not witnesses:
        check.fail("no witness key was given (--witness-key): nobody independent vouches", "witness_key_missing")
    print(
        "\n"
        + ("VERIFIED: every file, tree, proof and signature checks out." if not check.problems else "NOT VERIFIED:")
    )
    for problem in check.problems:
        print(f"  - {problem}")
    print(f"reasons: {' '.join(check.reasons) or 'none'}")
    return 1 if check.problems else 0


def main(argv):
    parser = argparse.ArgumentParser(prog="verify.py", description=__doc__.split("\n")[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--key", action="append", default=[], type=pin, help="the expected key (fingerprint or base64)")
    parser.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 4), help="processes reading events.jsonl")
    parser.add_argument(
        "--witness-key", action="append", default=[], type=witness_key, help="the bureau witness's vkey (name+id+key)"
    )
    args = parser.parse_args(argv[1:])
    return verify(args.bundle.resolve(), args.key, args.jobs, witnesses=args.witness_key)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
