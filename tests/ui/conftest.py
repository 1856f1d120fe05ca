"""The staff pages in a real browser: Debian's Chromium, headless, driven by Playwright, against a running server
with PostgreSQL and the projector. Never skipped: without Chromium the tests fail and say how to install it."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Page, expect

from replay.checkpoints import load_or_create_signing_key
from service.application.context import Actor, operator_context
from service.application.handoff import Handoff
from service.application.roster_files import RosterChild, RosterFile
from service.audit.exports import Exporter
from service.http.app import create_app
from service.infra.embedded_postgres import create_database, drop_database
from service.infra.settings import Settings, postgres_env
from service.runtime import read_stack
from tests.api.conftest import two_schools_with_tokens
from tests.support import SCHOOL, TERM, Clock, ctx, enrol, make_handoff, serve
from tests.witness_support import VKEY, bureau_witness, served

CHROMIUM = Path(os.environ.get("HANDOFF_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
SCREENSHOTS = ROOT / "docs" / "screenshots"
TABLET = {"width": 1024, "height": 768}
SHANGHAI = timezone(timedelta(hours=8))

NAMED_CHILDREN = {
    "C11": ("李小明", "3-1", ("李芳", "李强")),
    "C12": ("王小红", "3-1", ("王丽", "王军")),
    "C13": ("张伟", "3-2", ("张敏", "张磊")),
    "C14": ("刘洋", "3-2", ("刘静", "刘勇")),
    "C15": ("陈静", "4-1", ("陈娟", "陈杰")),
    "C16": ("杨帆", "4-1", ("杨艳", "杨涛")),
    "C17": ("赵磊", "4-2", ("赵霞", "赵刚")),
    "C18": ("黄婷", "4-2", ("黄梅", "黄斌")),
    "C19": ("周杰", "5-1", ("周琳", "周鹏")),
    "C20": ("吴敏", "5-1", ("吴倩", "吴昊")),
    "C21": ("徐磊", "5-2", ("徐燕", "徐超")),
    "C22": ("孙丽", "5-2", ("孙悦", "孙浩")),
    "C23": ("郭敏", "6-1", ("郭红", "郭亮")),
    "C24": ("何平", "6-1", ("何梅", "何军")),
    "C25": ("罗兰", "6-2", ("罗琴", "罗刚")),
    "C26": ("高远", "6-2", ("高雪", "高峰")),
    "C27": ("林木", "6-2", ("林华", "林海")),
}
"""Children with names (sealed like any roster name); guardians <child>A (code 1234) and <child>B (5678)."""

CLASS_302 = RosterFile(
    SCHOOL,
    tuple(
        RosterChild(child, given, "钱", "female", "302", 3, None, (), "三年级（2）班")
        for child, given in (("C31", "多多"), ("C32", "乐乐"))
    ),
)
"""Two children of class 302, imported as a OneRoster bundle gives them: the code, and the title people say."""


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium (apt-get install -y chromium; "
            "./scripts/test installs it when it can)",
            pytrace=False,
        )
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A 1024×768 tablet whose own clock is in New York: every time shown must still be the school's."""
    return {**browser_context_args, "viewport": TABLET, "timezone_id": "America/New_York", "locale": "zh-CN"}


@dataclass
class UiServer:
    url: str
    tokens: dict[str, str]
    handoff: Handoff
    clock: Clock
    cable: Cable

    @property
    def tablet_url(self) -> str:
        """The server as a tablet on the school network reaches it: through the cable."""
        return f"http://127.0.0.1:{self.cable.port}"

    def post(self, child: str, path: str, body: dict[str, Any], who: str = "teacher", device: str = "tablet-other"):
        """A command about one child, sent by another tablet."""
        return self.command(f"children/{child}/{path}", body, who, device)

    def command(self, path: str, body: dict[str, Any], who: str = "teacher", device: str = "tablet-other"):
        body = {"device_id": device, "device_time": self.clock.now.isoformat(), **body}
        answer = httpx2.post(
            f"{self.url}/api/v1/schools/{SCHOOL}/{path}",
            json=body,
            headers={
                "Authorization": f"Bearer {self.tokens[who]}",
                "Idempotency-Key": uuid.uuid4().hex,
                "Prefer": "wait-for-views",
            },
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def history(self, child: str) -> list[dict[str, Any]]:
        """The child's records of the day, as an investigator reads them."""
        answer = httpx2.get(
            f"{self.url}/api/v1/schools/{SCHOOL}/children/{child}/days/2026-11-30",
            headers={"Authorization": f"Bearer {self.tokens['duty_leader']}"},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["history"]

    def hand_to_guardian(self, child: str, who: str = "teacher") -> None:
        """Check in, register guardian <child>A with the right code, confirm both ways (another tablet)."""
        self.post(child, "check-in", {"place_code": "T1"}, who)
        arrival = {"guardian_id": f"{child}A", "verification": "pickup_code", "pickup_code": "1234"}
        self.post(child, "guardian-arrival", arrival, who)
        confirmation = {
            "guardian_id": f"{child}A",
            "guardian_recognised_child": True,
            "child_recognised_guardian": True,
        }
        self.post(child, "confirmation", confirmation, who)


class Cable:
    """A TCP forwarder between the browser and the server that the test can unplug: every connection, of the page
    and of its service worker alike, then fails, as on a tablet whose Wi-Fi lost the school network. (Playwright's
    own offline mode does not reach a page reloaded through its service worker.)"""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.plugged = True
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def unplug(self) -> None:
        with self.lock:
            self.plugged = False
            for connection in self.connections:
                _close(connection)
            self.connections.clear()

    def plug(self) -> None:
        self.plugged = True

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            with self.lock:  # with unplug(): a connection is refused, or registered before unplug() closes them all
                if not self.plugged:
                    _close(client)
                    continue
                try:
                    server = socket.create_connection(("127.0.0.1", self.target_port))
                except OSError:
                    _close(client)
                    continue
                self.connections += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        _close(sink)


def _close(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    connection.close()


def enrol_in(server: UiServer, admin: Actor, child: str, guardian: str, class_code: str) -> None:
    """The four steps and a signed agreement, in the given temporary class (T1 is full of the first tests' children)."""
    handoff, act = server.handoff, lambda: ctx(admin)
    handoff.enrolments.apply_for_care(
        act(), child, TERM, guardian, ["mon", "tue", "wed", "thu", "fri"], "B2", False, [], ""
    )
    handoff.enrolments.review_by_class(act(), child, TERM, True, "")
    handoff.enrolments.review_by_school(act(), child, TERM, True, "")
    handoff.enrolments.arrange(act(), child, TERM, class_code)
    handoff.enrolments.sign_agreement(
        act(), child, TERM, guardian, [guardian], None, date(2026, 9, 1), date(2027, 6, 30)
    )


def add_named_children(handoff: Handoff) -> None:
    admin = ctx("admin").actor
    for child, (name, home_class, (first, second)) in NAMED_CHILDREN.items():
        handoff.roster.add_child(ctx(admin), child, home_class, int(home_class[0]), name=name)
        handoff.guardian_list.authorise_guardian(ctx(admin), child, f"{child}A", "mother", "1234", name=first)
        handoff.guardian_list.authorise_guardian(ctx(admin), child, f"{child}B", "father", "5678", name=second)
        enrol(handoff, admin, SCHOOL, child, [f"{child}A", f"{child}B"], None)
    handoff.roster.import_roster(ctx(admin), CLASS_302)


@pytest.fixture(scope="session")
def ui_server(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    name = f"handoff_ui_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = create_database(postgres_server_url, name)
    clock = Clock()
    handoff = make_handoff(postgres_env(url), clock)
    tokens = two_schools_with_tokens(handoff)
    tokens["teacher2"] = handoff.staff.issue_token(operator_context(SCHOOL), "t2", timedelta(days=1))["token"]
    add_named_children(handoff)
    folder = tmp_path_factory.mktemp("ui-server")
    key = load_or_create_signing_key(folder / "key.pem")
    with served(bureau_witness(folder / "witness", key)) as witness:  # the bureau's, as in production
        # checkpoints on the follower's first round and whenever a test exports, not every minute: a school a test
        # registers must stay unwitnessed while it looks (tests/ui/test_district_page.py)
        settings = Settings(
            signing_key_file=folder / "key.pem", checkpoint_interval=3600.0, witness_url=witness.url, witness_key=VKEY
        )
        stack = read_stack(handoff, url, settings, with_projector=True)
        assert stack is not None
        app = create_app(handoff, stack.read, stack.watcher)
        app.state.exporter = Exporter(handoff, url, key, witness=witness)
        server, thread, url = serve(app)
        running = UiServer(url, tokens, handoff, clock, Cable(int(url.rsplit(":", 1)[1])))
        _wait_for_views(running)
        yield running
        server.should_exit = True
        thread.join(10)
        stack.close()
    handoff.close()
    drop_database(postgres_server_url, name)


def _wait_for_views(server: UiServer) -> None:
    deadline = time.monotonic() + 30
    while True:
        health = httpx2.get(f"{server.url}/health").json()
        if all(p["lag_events"] == 0 for p in health["projections"].values()):
            return
        assert time.monotonic() < deadline, health
        time.sleep(0.05)


def sign_in(page: Page, server: UiServer, who: str, where: str = "gate", url: str | None = None) -> None:
    """Sign in through the sign-in page, as a staff member would, on a tablet whose clock agrees with the server's
    (the server refuses a device time more than a day off, and the tests' server lives on 2026-11-30)."""
    page.clock.set_fixed_time(server.clock.now)
    page.goto(f"{url or server.url}/ui/")
    page.fill("#school", SCHOOL)
    page.fill("#token", server.tokens[who])
    page.click(f"#open-{where}")
    page.wait_for_url(f"**/ui/{where}.html")


def choose_child(page: Page, query: str, child: str) -> None:
    page.fill("#search", query)
    page.click(f'#results button[data-child="{child}"]')
    expect(page.locator("#child .child-id")).to_have_text(child)


def shoot(page: Page, name: str, full_page: bool = False) -> Path:
    """A screenshot in the test artifacts; also in docs/screenshots when HANDOFF_UPDATE_SCREENSHOTS=1."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=full_page)
    if os.environ.get("HANDOFF_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{name}.png").write_bytes(target.read_bytes())
    return target


def at_shanghai(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 30, hour, minute, tzinfo=SHANGHAI)
