"""SAMPLE DATA: the example appeals a new sandbox district starts with, so a visitor sees each feature at once.

Each example is a small async function in EXAMPLES that files an appeal and moves it on through the same
use cases the handlers call (storage/usecases.py with domain/commands.py), as the district's personas
(sandbox/district/people.json), on a timeline that ends before the sandbox's clock: the ledger, the
timers and the notices are those the bot itself writes, and the outbox delivers the notices to the
personas' chats, each step's before the next, so each reads as it did when it happened. Examples are
made only on a database with no appeals at all.

To add one: write `async def your_example(district: District) -> None` with a one-line docstring,
and append it to EXAMPLES.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram.ext import Application

from domain.commands import ActOnAppeal, EventArgs, FileAppeal, NewAppeal
from domain.events import Event
from domain.routing import Rule
from domain.wishes import WishStep
from handlers.services import BotData
from storage import usecases
from storage.dialogs import Draft, Step
from storage.models import to_ts
from storage.store import Storage

log = logging.getLogger(__name__)

# The district's personas (sandbox/district/people.json) who act in the examples.
COORDINATOR = 100001
HRSS_WORKER = 200001  # 人力资源和社会保障局
CIVIL_WORKER = 200002  # 民政局
UNION_WORKER = 200004  # 区总工会
LEGAL_AID_WORKER = 200005  # 法律援助中心, which works from its group 法律援助中心工作群
RENMIN_STATION_WORKER = 200006  # 人民广场爱心驿站
COURIER_WANG = 300003  # 骑手 王师傅
COURIER_ZHAO = 300004  # 骑手 赵姐
COURIERS = {COURIER_WANG: "+8613700000003", COURIER_ZHAO: "+8613700000004"}

# What runs after each step: the outbox sender's flush.
Settle = Callable[[], Awaitable[object]]

# The examples' timeline starts this long before the sandbox starts; each step takes STEP.
TIMELINE = timedelta(hours=8)
STEP = timedelta(minutes=15)


@dataclass
class District:
    """The sandbox district as the examples drive it: its storage, routing and a clock that only moves forward."""

    storage: Storage
    routing: list[Rule]
    now: datetime  # the sandbox's clock when it starts: no example event is later
    at: datetime  # the moment of the last step
    settle: Settle | None = None  # after each step: send its notices (the bot's outbox sender)

    def _tick(self, after: timedelta) -> datetime:
        """The next step's moment, `after` the last one, never later than the sandbox's now."""
        self.at = min(self.at + after, self.now)
        return self.at

    async def _settled(self) -> None:
        if self.settle is not None:
            await self.settle()

    async def file(
        self,
        courier: int,
        category: str,
        description: str,
        *,
        station: str | None = None,
        after: timedelta = STEP,
    ) -> int:
        """The courier files an appeal, routed as the config's rules say (none: a coordinator triages); its number."""
        at = self._tick(after)
        await self.storage.people.seen(courier, "zh", at)
        started = to_ts(at)
        # The filing dialog's last step, as the Confirm button finds it.
        draft = Draft(step=Step.REVIEW, started=started, category=category, description=description)
        await self.storage.dialogs.save_draft(courier, draft, at)
        new = NewAppeal(
            courier_id=courier,
            category=category,
            description=description,
            language="zh",
            station_id=station,
            contact_phone=COURIERS.get(courier),
        )
        applied = await usecases.file_appeal(
            self.storage, FileAppeal(new, started), routing=self.routing, limits=None, now=at
        )
        if applied is None:
            raise RuntimeError(f"example draft of {courier} was filed already")
        await self._settled()
        return applied.appeal.id

    async def act(
        self,
        number: int,
        event: Event,
        actor: int | None,
        note: str | None = None,
        *,
        days: int | None = None,
        unit: str | None = None,
        after: timedelta = STEP,
    ) -> None:
        """One lifecycle event on appeal `number` by `actor`, as the button (and typed text) would do it."""
        at = self._tick(after)
        appeal = await self.storage.appeals.get(number)
        command = ActOnAppeal(number, event, actor, EventArgs(note=note, days=days, unit=unit), appeal.version)
        await usecases.act(self.storage, command, at)
        await self._settled()


Example = Callable[[District], Awaitable[None]]


async def extension_awaiting_coordinator(district: District) -> None:
    """Wage arrears at a platform's subcontractor: the bureau accepted it and asks the coordinator for 2 more working days."""
    number = await district.file(
        COURIER_WANG,
        "work",
        "我在速达外卖跑专送，合作商是上海沪通人力资源服务有限公司。10月、11月两个月的工资共8600元一直没发，"
        "站长说公司资金周转困难，让我们再等等。我们站点还有十几个骑手也没拿到钱。",
    )
    await district.act(number, Event.ACCEPT, HRSS_WORKER)
    await district.act(
        number,
        Event.REQUEST_EXTENSION,
        HRSS_WORKER,
        "已向沪通公司调取10月、11月的工资发放记录和考勤数据，需会同劳动保障监察大队约谈企业负责人，申请延长2个工作日。",
        days=2,
    )


async def redo_after_not_solved(district: District) -> None:
    """A broken charging locker at a rest station: resolved, rated "Not solved", so back with the station as redo 1."""
    number = await district.file(
        COURIER_ZHAO,
        "facilities",
        "人民广场驿站的共享充电柜有三个格口充不进电，插上去指示灯不亮，晚上来充电的骑手要排很久的队。",
        station="hp-001",
    )
    await district.act(number, Event.ACCEPT, RENMIN_STATION_WORKER)
    await district.act(
        number,
        Event.RESOLVE,
        RENMIN_STATION_WORKER,
        "已联系充电柜厂家上门维修，更换了3号、5号、7号格口的充电模块，现场逐一测试，充电正常。",
    )
    await district.act(
        number,
        Event.RATE_UNSATISFIED,
        COURIER_ZHAO,
        "今天中午去充电，5号格口还是充不进，7号格口充了十分钟就断电了。",
    )


async def being_handled(district: District) -> None:
    """Fines for late deliveries: the trade union accepted it, asked for the order numbers and has the courier's answer."""
    number = await district.file(
        COURIER_WANG,
        "rights",
        "平台说我超时送达，一周内扣了我五单的配送费，共320元。其中两单是商家出餐慢造成的，我有截图，"
        "在骑手App里申诉了三次都被驳回。",
    )
    await district.act(number, Event.ACCEPT, UNION_WORKER)
    await district.act(
        number,
        Event.ASK,
        UNION_WORKER,
        "请提供被扣款订单的订单号、日期，以及申诉被驳回时App里显示的理由，我们好和平台核对。",
    )
    await district.act(
        number,
        Event.ANSWER,
        COURIER_WANG,
        "订单号是2611230045和2611230112，都是11月23日晚上的。驳回理由都写的是“超时属实，申诉不予支持”。",
    )


async def extension_approved(district: District) -> None:
    """After-school care for a courier's child: the civil affairs bureau was granted 3 more working days; the courier was told the new deadline."""
    number = await district.file(
        COURIER_ZHAO,
        "life",
        "我每天晚上十点以后才收工，孩子在老西门附近上小学，放学后没人接。想问问街道有没有课后托管的地方，"
        "能不能给外卖骑手的孩子留几个名额。",
    )
    await district.act(number, Event.ACCEPT, CIVIL_WORKER)
    await district.act(
        number,
        Event.REQUEST_EXTENSION,
        CIVIL_WORKER,
        "已与老西门街道和附近两所小学联系，托管名额要等街道下周一的联席会议确定，申请延长3个工作日。",
        days=3,
    )
    await district.act(number, Event.APPROVE_EXTENSION, COORDINATOR, days=3)


async def co_handled_with_a_group(district: District) -> None:
    """A dismissal without pay: the trade union leads, the Legal Aid Centre co-handles (协办) from its work group
    and has signed for its part, so the union's Resolve waits for that part."""
    number = await district.file(
        COURIER_ZHAO,
        "rights",
        "站长说我“自动离职”，11月的工资2900元和500元装备押金都不给结，可我是被他口头辞退的，微信里有聊天记录。"
        "我想申请劳动仲裁，但不知道怎么写申请书。",
    )
    await district.act(number, Event.ACCEPT, UNION_WORKER)
    await district.act(number, Event.ADD_COHANDLER, COORDINATOR, unit="legal")
    await district.act(number, Event.SIGN_PART, LEGAL_AID_WORKER)
    await district.act(
        number,
        Event.CO_NOTE,
        LEGAL_AID_WORKER,
        "已指派值班律师，明天上午与骑手电话沟通，协助准备仲裁申请书和证据清单。",
    )


async def wish_to_claim(district: District) -> None:
    """A micro-wish (微心愿) for a child's books: posted by the courier, approved by the coordinator, waiting for a unit to claim."""
    at = district._tick(STEP)
    courier = await district.storage.people.seen(COURIER_ZHAO, "zh", at)
    posted = await district.storage.wishes.post(
        courier,
        category="childrens_books",
        text="孩子上三年级，想要几本适合他读的课外书，科普类的最好。",
        language="zh",
        now=at,
    )
    coordinator = await district.storage.people.get(COORDINATOR)
    await district.storage.wishes.take(posted.wish.id, WishStep.APPROVE, coordinator, now=district._tick(STEP))
    await district._settled()


# Each makes one example, in this order (appeal numbers follow it; the wish makes no appeal).
EXAMPLES: list[Example] = [
    extension_awaiting_coordinator,
    redo_after_not_solved,
    being_handled,
    extension_approved,
    co_handled_with_a_group,
    wish_to_claim,
]


async def has_appeals(storage: Storage) -> bool:
    """Whether the database holds any appeal (then it is someone's district, and no example is added)."""
    row = await storage.db.fetchone("SELECT EXISTS (SELECT 1 FROM appeals) AS any_appeal")
    return bool(row["any_appeal"])


async def seed(
    storage: Storage,
    routing: list[Rule],
    now: datetime,
    *,
    settle: Settle | None = None,
    examples: list[Example] = EXAMPLES,
) -> int:
    """Make the examples on a database with no appeals, their events ending by `now`; how many appeals were made
    (0: none)."""
    if await has_appeals(storage):
        return 0
    log.info("a new district: making the example appeals (--no-examples leaves them out)")
    district = District(storage, routing, now=now, at=now - TIMELINE, settle=settle)
    for example in examples:
        await example(district)
    row = await storage.db.fetchone("SELECT count(*) AS n FROM appeals")
    return row["n"]


async def seed_running(application: Application) -> int:
    """`seed` with the bot's own storage, routing and clock, its outbox sender delivering each step's notices
    before the next (call it after post_init, before updates are taken); how many were made."""
    data: BotData = application.bot_data
    services = data.services
    return await seed(services.storage, services.routing, services.clock(), settle=data.sender.flush)
