"""The signing key regulators pin: published with a fingerprint, rotated under the old key, never silently replaced."""

from __future__ import annotations

import json
from datetime import datetime, time, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replay.notes import fingerprint, open_note, raw_public_key
from replay.verify import verify_bundle
from service.cli.main import app
from service.infra.signing_keys import SigningKeyLostError, load_keys, published, replace_lost, rotate
from tests.integration.test_export import DAY2, SHANGHAI, World, checkpoint, world  # noqa: F401
from tests.support import ctx
from tests.witness_support import VKEY

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def test_a_first_start_makes_the_key_and_its_history_and_later_starts_keep_them(tmp_path: Path) -> None:
    key, history = load_keys(tmp_path / "signing-key.pem")
    again, _ = load_keys(tmp_path / "signing-key.pem")
    assert raw_public_key(again) == raw_public_key(key) and history.earlier == ()
    assert published(key, history)["current"]["fingerprint"] == fingerprint(raw_public_key(key))


def test_a_lost_key_is_refused_until_it_is_replaced_openly(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.pem"
    old, _ = load_keys(path)
    path.unlink()
    with pytest.raises(SigningKeyLostError):
        load_keys(path)  # before: a new key was made silently
    new = replace_lost(path, NOW, "disk failed, no backup")
    key, history = load_keys(path)
    assert raw_public_key(key) == raw_public_key(new) != raw_public_key(old)
    assert history.earlier == (raw_public_key(old),) and history.rotations == ()
    assert history.lost == ({"at": NOW.isoformat(), "reason": "disk failed, no backup"},)


def test_a_key_file_swapped_for_another_key_is_refused(tmp_path: Path) -> None:
    path, other = tmp_path / "signing-key.pem", tmp_path / "other" / "signing-key.pem"
    load_keys(path)
    load_keys(other)
    path.write_bytes(other.read_bytes())
    with pytest.raises(SigningKeyLostError):
        load_keys(path)


def test_a_rotation_is_announced_under_the_old_key(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.pem"
    old, _ = load_keys(path)
    new = rotate(path, NOW)
    key, history = load_keys(path)
    assert raw_public_key(key) == raw_public_key(new) and history.earlier == (raw_public_key(old),)
    (note,) = history.rotations
    text = open_note(note, [raw_public_key(old)])
    assert text is not None and text.startswith("handoff-key-rotation v1\n")
    assert open_note(note, [raw_public_key(new)]) is None


def test_a_bundle_signed_after_a_rotation_verifies_against_the_old_fingerprint(
    world: World,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = tmp_path / "key.pem"  # the world's key
    load_keys(path)
    new = rotate(path, NOW)
    key, history = load_keys(path)
    world.handoff.clock.now = datetime.combine(DAY2, time(18, 0), SHANGHAI)  # type: ignore[attr-defined]
    world.handoff.roster.add_child(ctx("admin"), "C9", "3-2", 3)
    world.witness.logs = [*world.witness.logs, ("handoff/*", raw_public_key(new))]  # the bureau learns the new key
    world.checkpoints.append(world.witnessed(checkpoint(world.log, new, world.handoff.clock())))
    world.export(tmp_path / "bundle", signer=history.signer(key))
    old_fingerprint = world.fingerprint()
    assert verify_bundle(tmp_path / "bundle", [old_fingerprint], [VKEY]).ok
    assert "was announced by an accepted key" in verify_bundle(tmp_path / "bundle", [old_fingerprint], [VKEY]).report
    stranger = fingerprint(raw_public_key(load_keys(tmp_path / "stranger.pem")[0]))
    assert not verify_bundle(tmp_path / "bundle", [stranger], [VKEY]).ok


def test_the_cli_shows_the_fingerprint_to_read_out(tmp_path: Path) -> None:
    env = {"HANDOFF_SIGNING_KEY_FILE": str(tmp_path / "signing-key.pem"), "HANDOFF_DATA_DIR": str(tmp_path)}
    shown = CliRunner().invoke(app, ["key", "show", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    key, history = load_keys(tmp_path / "signing-key.pem")
    assert json.loads(shown.output) == published(key, history)
    rotated = CliRunner().invoke(app, ["key", "rotate"], env=env)
    assert rotated.exit_code == 0 and fingerprint(raw_public_key(load_keys(tmp_path / "signing-key.pem")[0])) in (
        rotated.output
    )
