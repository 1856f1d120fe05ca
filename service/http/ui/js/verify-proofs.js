// The proofs' part of the page's bundle verifier, as verify.py's fold, consistency_ok and check_proofs: every
// inclusion and consistency proof (RFC 9162) must hold and end at a checkpoint or a head of the statement.

import { equal, fromHex, sha256, text, toHex } from "./bundle-crypto.js";

const H0 = Uint8Array.of(0);
const H1 = Uint8Array.of(1);
const half = (n) => Math.floor(n / 2);

/** The RFC 9162 inclusion (second null) and consistency hash walk; [first, second, sn]. */
async function fold(path, fn, sn, first, second = null) {
  for (const p of path) {
    if (sn === 0) {
      return [null, null, 1];
    }
    if (fn % 2 !== 0 || fn === sn) {
      [first, second] = [await sha256(H1, p, first), second === null ? null : await sha256(H1, p, second)];
      while (fn % 2 === 0 && fn !== 0) {
        [fn, sn] = [half(fn), half(sn)];
      }
    } else if (second === null) {
      first = await sha256(H1, first, p);
    } else {
      second = await sha256(H1, second, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  return [first, second, sn];
}

async function consistencyOk(oldSize, newSize, oldRoot, newRoot, proof) {
  if (oldSize === 0 || oldSize === newSize) {
    return 0 <= oldSize && oldSize <= newSize && !proof.length && equal(oldRoot, oldSize === 0 ? await sha256() : newRoot);
  }
  if (!(0 < oldSize && oldSize < newSize) || !proof.length) {
    return false;
  }
  const path = Number.isInteger(Math.log2(oldSize)) ? [oldRoot, ...proof] : proof;
  let [fn, sn] = [oldSize - 1, newSize - 1];
  while (fn % 2 !== 0) {
    [fn, sn] = [half(fn), half(sn)];
  }
  const [first, second, left] = await fold(path.slice(1), fn, sn, path[0], path[0]);
  return first !== null && equal(first, oldRoot) && equal(second, newRoot) && left === 0;
}

export async function checkProofs(proofs, checkpoints, statementHeads, check) {
  const heads = new Set(checkpoints.map((c) => `${c.school_id}\0${c.tree_size}\0${c.root_hex}`));
  for (const [school, [n, root]] of statementHeads) {
    heads.add(`${school}\0${n}\0${toHex(root)}`);
  }
  for (const p of proofs.inclusion ?? []) {
    const leaf = await sha256(H0, text(p.leaf));
    const [first, , sn] = await fold(p.proof.map(fromHex), p.index, p.tree_size - 1, leaf);
    let ok = 0 <= p.index && p.index < p.tree_size && first !== null && equal(first, fromHex(p.root_hex)) && sn === 0;
    ok = ok && heads.has(`${p.school_id}\0${p.tree_size}\0${p.root_hex}`);
    check.say(`school ${p.school_id}: inclusion proof of event ${p.index} in the tree of ${p.tree_size}`, ok, undefined, "inclusion_proof");
  }
  for (const p of proofs.consistency ?? []) {
    let ok = await consistencyOk(p.old_size, p.new_size, fromHex(p.old_root_hex), fromHex(p.new_root_hex), p.proof.map(fromHex));
    ok = ok && heads.has(`${p.school_id}\0${p.new_size}\0${p.new_root_hex}`);
    const what = `consistency proof from the tree of ${p.old_size} (root ${p.old_root_hex}: compare it with yours)`;
    check.say(`school ${p.school_id}: ${what} to ${p.new_size}`, ok, undefined, "consistency_proof");
  }
}
