"""Check a Handoff audit export with Python 3 alone: python3 verify.py BUNDLE_DIR [SIGNATURE_FILES_DIR]

  events.jsonl      one JSON object per line with at least "school_id" and "leaf", the hex of the event's bytes exactly
                    as the event store holds them. The tree covers those bytes only; other keys are an uncovered
                    readable copy. A school's lines are its whole log, oldest first; schools' lines may interleave.
  checkpoints.json  [{"school_id", "tree_size", "root_hex", "made_at", "key_id", "signature_hex"}, ...]
  public_key.pem    the Ed25519 public key (SubjectPublicKeyInfo PEM) that signed the checkpoints.
  proofs.json       optional, every proof ending at a checkpoint of this bundle: {"inclusion": [{"school_id", "index",
                    "leaf", "tree_size", "root_hex", "proof": [hex, ...]}], "consistency": [{"school_id", "old_size",
                    "old_root_hex", "new_size", "new_root_hex", "proof": [hex, ...]}]}
Trees are RFC 6962: SHA-256, leaf = H(0x00 || bytes), node = H(0x01 || left || right). A checkpoint signs the UTF-8 text
"handoff-checkpoint v1\n<school_id>\n<tree_size>\n<root_hex>\n<made_at>\n"; Python has no Ed25519, so signatures
are left to `handoff verify` or the openssl commands printed. Exit 0 when every check made here passes, 1 otherwise.
"""

import base64
import hashlib
import json
import shlex
import sys
from pathlib import Path


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


def say(problems, what, verdict):
    print(f"{what}: {verdict}")
    problems.extend([] if verdict in ("checkpointed", "matches", "holds") else [f"{what}: {verdict}"])


def check_trees(bundle, checkpoints, problems):
    """Rebuild each school's tree over events.jsonl and compare it with every checkpoint."""
    wanted = {(c["school_id"], c["tree_size"]) for c in checkpoints}
    stacks, sizes, roots = {}, {}, {}  # per school: (height, hash) of perfect subtrees, leaf count, checkpointed roots
    with open(bundle / "events.jsonl", encoding="utf-8") as lines:
        for event in map(json.loads, filter(str.strip, lines)):
            school, height, h = event["school_id"], 0, sha256(b"\0", bytes.fromhex(event["leaf"]))
            stack, sizes[school] = stacks.setdefault(school, []), sizes.get(school, 0) + 1
            while stack and stack[-1][0] == height:
                h, height = sha256(b"\1", stack.pop()[1], h), height + 1
            stack.append((height, h))
            if (school, sizes[school]) in wanted:
                roots[school, sizes[school]] = root_of(stack)
    for school, n in sorted(sizes.items()):
        say(problems, f"school {school}: {n} events", "checkpointed" if (school, n) in wanted else "NOT checkpointed")
    for c in checkpoints:
        got = roots.get((c["school_id"], c["tree_size"])) if c["tree_size"] else sha256()
        got = got.hex() if got else "missing: the bundle holds fewer events for this school"
        verdict = "matches" if got == c["root_hex"] else f"DOES NOT MATCH the tree rebuilt from the events (root {got})"
        say(problems, f"school {c['school_id']}: checkpoint of {c['tree_size']} events", verdict)


def check_proofs(proofs, checkpoints, problems):
    """Check the optional inclusion and consistency proofs, each of which must end at a checkpoint of the bundle."""
    heads, h, results = {(c["school_id"], c["tree_size"], c["root_hex"]) for c in checkpoints}, bytes.fromhex, []
    for p in proofs.get("inclusion", []):
        folded = fold(map(h, p["proof"]), p["index"], p["tree_size"] - 1, sha256(b"\0", h(p["leaf"])))
        ok = 0 <= p["index"] < p["tree_size"] and folded[::2] == (h(p["root_hex"]), 0)
        head = (p["school_id"], p["tree_size"], p["root_hex"])
        results.append((f"inclusion proof of event {p['index']} in the tree of {p['tree_size']}", ok, head))
    for p in proofs.get("consistency", []):
        args = (p["old_size"], p["new_size"], h(p["old_root_hex"]), h(p["new_root_hex"]))
        ok = consistency_ok(*args, [*map(h, p["proof"])])
        what = f"consistency proof from the tree of {p['old_size']} (root {p['old_root_hex']}: compare it with yours)"
        results.append((f"{what} to {p['new_size']}", ok, (p["school_id"], p["new_size"], p["new_root_hex"])))
    for what, ok, head in results:
        verdict = "holds" if ok and head in heads else "is WRONG" if not ok else "ends at no checkpoint of this bundle"
        say(problems, f"school {head[0]}: {what}", verdict)


def signature_commands(bundle, out, checkpoints, problems):
    """Check key ids, write each checkpoint's message and signature, and print the openssl command for each."""
    pem = (bundle / "public_key.pem").read_text(encoding="ascii")
    der = base64.b64decode("".join(ln for ln in pem.splitlines() if ln and not ln.startswith("-----")))
    if len(der) != 44 or not der.startswith(bytes.fromhex("302a300506032b6570032100")):  # Ed25519 SubjectPublicKeyInfo
        return say(problems, "public_key.pem", "is NOT an Ed25519 public key")
    key_id = hashlib.sha256(der[-32:]).hexdigest()[:16]
    out.mkdir(parents=True, exist_ok=True)
    print("\nSignatures are NOT checked here (Python's standard library has no Ed25519). Run `handoff verify`, or:")
    for i, c in enumerate(checkpoints, 1):
        if c["key_id"] != key_id:
            say(problems, f"school {c['school_id']}: checkpoint {i}", f"names key {c['key_id']}, NOT {key_id}")
        text = f"handoff-checkpoint v1\n{c['school_id']}\n{c['tree_size']}\n{c['root_hex']}\n{c['made_at']}\n"
        msg, sig = out / f"checkpoint-{i}.msg", out / f"checkpoint-{i}.sig"
        msg.write_bytes(text.encode())
        sig.write_bytes(bytes.fromhex(c["signature_hex"]))
        files = [shlex.quote(str(f)) for f in (bundle / "public_key.pem", msg, sig)]
        print("  openssl pkeyutl -verify -pubin -inkey {} -rawin -in {} -sigfile {}".format(*files))


def main(argv):
    if len(argv) not in (2, 3):
        return print(__doc__) or 1
    bundle = Path(argv[1]).resolve()
    out = Path(argv[2]).resolve() if len(argv) == 3 else bundle / "signature-check"
    problems = []
    try:
        checkpoints = json.loads((bundle / "checkpoints.json").read_text(encoding="utf-8"))
        check_trees(bundle, checkpoints, problems)
        if (bundle / "proofs.json").exists():
            check_proofs(json.loads((bundle / "proofs.json").read_text(encoding="utf-8")), checkpoints, problems)
        signature_commands(bundle, out, checkpoints, problems)
    except (OSError, ValueError, KeyError, TypeError) as error:
        problems.append(f"the bundle cannot be read: {type(error).__name__}: {error}")
    print("\nRESULT: " + ("everything checkable here matches." if not problems else "PROBLEMS FOUND:"))
    for problem in problems:
        print(f"  - {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
