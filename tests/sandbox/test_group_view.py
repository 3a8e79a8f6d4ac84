"""The web chat's unit work group: its messages and topics, and a member who writes and presses there,
through the sandbox's HTTP API in front of the real bot."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from bot.app import OFFLINE_TOKEN
from bot.sandbox_run import _groups
from sandbox.server import start_server
from tests.harness import running_bot
from tests.helpers import ROOT, submit_appeal

COORDINATOR, WORKER, COURIER = 900, 500, 1001
GROUP = -1001000000007
PERSONAS = [
    {"id": COORDINATOR, "name": "Coordinator", "role": "Coordinator", "language": "en", "phone": "+8613800000900"},
    {"id": WORKER, "name": "Station worker", "role": "Staff", "language": "en", "phone": "+8613800000500"},
]
GROUPS = [{"id": GROUP, "title": "Station One desk", "forum": True, "unit": "st1", "members": [COORDINATOR, WORKER]}]


async def test_a_member_links_the_group_and_a_worker_presses_a_card_in_its_topic(tmp_path) -> None:
    async with running_bot(tmp_path / "web.sqlite3") as bot, aiohttp.ClientSession() as http:
        runner, url = await start_server(bot.core, token=OFFLINE_TOKEN, personas=PERSONAS, groups=GROUPS)
        try:
            await bot.start(COORDINATOR, WORKER, COURIER)
            async with http.get(f"{url}/api/config") as response:
                config = await response.json()
            assert config["groups"] == GROUPS
            api = f"{url}/api/groups/{GROUP}"
            async with http.post(f"{api}/text", json={"as": COURIER, "text": "/link_unit st1"}) as response:
                assert response.status == 400  # only a member writes in the group
            async with http.post(f"{api}/text", json={"as": COORDINATOR, "text": "/link_unit st1"}) as response:
                assert response.status == 200
            await bot.deliver()
            number = await submit_appeal(bot, COURIER, "facilities", "st1", "The charger is broken")
            await bot.tick()

            async with http.get(api) as response:
                view = await response.json()
            assert (view["title"], view["is_forum"], view["members"]) == (
                "Station One desk",
                True,
                [WORKER, COORDINATOR],
            )
            (topic,) = view["topics"]
            assert topic["name"].startswith(f"#{number} ")
            card = next(m for m in view["messages"] if f"#{number}" in m.get("text", ""))
            assert card["message_thread_id"] == topic["message_thread_id"]

            accept = next(b for row in card["reply_markup"]["inline_keyboard"] for b in row if b["text"] == "Accept")
            press = {"as": WORKER, "message_id": card["message_id"], "callback_data": accept["callback_data"]}
            pressed = asyncio.create_task(http.post(f"{api}/press", json=press))
            while not await bot.core.get_updates(timeout=0):  # until the press reaches the fake Telegram
                await asyncio.sleep(0)
            await bot.deliver()
            async with await pressed as response:
                assert response.status == 200 and (await response.json())["answer"] is not None
            ledger = await bot.services.storage.appeals.ledger(number)
            assert ledger[-1].actor_id == WORKER
        finally:
            await runner.cleanup()


def test_the_sample_district_has_a_linked_work_group() -> None:
    """The Legal Aid Centre works from a forum supergroup; its worker and the coordinator are in it."""
    (group,) = _groups()
    assert (group["title"], group["forum"], group["unit"]) == ("法律援助中心工作群", True, "legal")
    people = json.loads((ROOT / "sandbox" / "district" / "people.json").read_text(encoding="utf-8"))
    personas = {p["id"]: p for p in people["personas"]}
    assert [personas[m]["role"] for m in group["members"]] == ["Coordinator", "Staff · Legal Aid Centre"]
