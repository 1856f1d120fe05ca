"""One vocabulary: the incident kinds and the custody fields are defined once; every copy people read (API schemas,
the board, its labels in both languages, the CLI help, the README) follows that definition or fails here."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from pydantic import TypeAdapter
from typer.testing import CliRunner

from aggregates.custody import Custody
from aggregates.incidents import KINDS
from events.custody import Status
from replay.state import CustodyFields, CustodyRow, custody_fields
from service.application.views import CustodyView
from service.cli.main import app as cli
from service.http.schemas.children import ChildDayResponse
from service.http.schemas.incidents import IncidentOpeningRequest
from service.http.schemas.replay import ReplayedState
from service.http.schemas.ui_data import SchoolCard

ROOT = Path(__file__).parents[2]
UI = ROOT / "service/http/ui/js"


def test_the_api_offers_exactly_the_aggregates_incident_kinds_in_its_order() -> None:
    assert IncidentOpeningRequest.model_json_schema()["properties"]["kind"]["enum"] == list(KINDS)
    assert "incident_kinds" in SchoolCard.model_fields


def test_the_board_takes_the_kinds_from_the_school_card_and_names_none_itself() -> None:
    board = (UI / "board.js").read_text()
    assert "incident_kinds" in board
    assert not [kind for kind in KINDS if f'"{kind}"' in board]


def test_every_kind_has_a_label_in_chinese_and_in_english_and_no_label_is_left_over() -> None:
    labels = re.findall(r'"incident\.([a-z_]+)":', (UI / "i18n.js").read_text())
    assert sorted(labels) == sorted([*KINDS, *KINDS])


def test_the_readme_and_the_cli_help_list_the_kinds_in_order() -> None:
    readme = (ROOT / "README.md").read_text()
    listed = re.search(r"opens an incident \(([^)]*)\)", readme.replace("\n", " "))
    assert listed is not None
    assert re.findall(r"`([a-z_]+)`", listed.group(1)) == list(KINDS)
    shown = CliRunner().invoke(cli, ["incident", "open", "--help"], env={"COLUMNS": "400"}).output
    assert all(kind in shown for kind in KINDS)


def properties(shape: object) -> dict[str, dict[str, object]]:
    return TypeAdapter(shape).json_schema(mode="serialization")["properties"]


def test_the_custody_fields_are_one_list_for_answers_replay_and_the_schemas() -> None:
    folded = custody_fields(Custody.expected("S1", "C1", date(2026, 11, 30)))
    assert list(properties(CustodyFields)) == list(folded)
    assert set(properties(CustodyView)) - set(properties(CustodyFields)) == {
        "school_id",
        "service_day",
        "corrected",
        "code_entry_locked",
    }
    assert set(properties(CustodyRow)) - set(properties(CustodyFields)) == {"last_change"}


def test_the_api_schemas_are_those_shapes_with_the_aggregates_statuses() -> None:
    schema = TypeAdapter(ChildDayResponse).json_schema(mode="serialization")
    assert set(schema["$defs"]["CustodyView"]["properties"]) == set(properties(CustodyView))
    assert schema["$defs"]["Status"]["enum"] == [s.value for s in Status]
    replayed = TypeAdapter(ReplayedState).json_schema(mode="serialization")["$defs"]
    assert set(replayed["CustodyRow"]["properties"]) == set(properties(CustodyRow))
