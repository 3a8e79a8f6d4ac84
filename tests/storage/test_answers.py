"""The knowledge-base search on the sandbox's sample answers: couriers' own words, in Chinese and English."""

import dataclasses
from pathlib import Path

import pytest

from domain.answers_file import AnswerRecord, read_answers
from storage.answers import terms_of
from tests.storage.conftest import MONDAY_10

SAMPLE = Path(__file__).resolve().parents[2] / "sandbox" / "district" / "answers.toml"
CATEGORIES = ("work", "life", "rights", "facilities", "suggestion")


@pytest.fixture
async def answers(storage):
    await storage.answers.import_records(read_answers(SAMPLE.read_bytes(), "toml", CATEGORIES))
    return storage.answers


@pytest.mark.parametrize(
    ("text", "category", "first"),
    [
        ("老板拖欠我三个月工资不给", "work", "wage-arrears"),
        ("送餐路上摔伤了怎么报工伤", "work", "injury-protection"),
        ("驿站充电桩坏了", "facilities", "station-broken"),
        ("十月份的工资没有发", "work", "wage-arrears"),  # only two-character words: the keywords find it
        ("被车撞了，对方跑了", "rights", "traffic-accident"),
        ("平台罚了我五十块，明明是商家出餐慢", "rights", "platform-penalty"),
        ("美团把我账号封了，三天接不到单", "rights", "account-blocked"),
        ("骑手怎么交社保？没有合同", "work", "social-insurance"),
        ("天太热了快中暑了", "life", "heat-protection"),
        ("My boss has not paid my wages for three months", "work", "wage-arrears"),
        ("I fell off my scooter while delivering and hurt my leg", "work", "injury-protection"),
        ("The charger at the station is broken", "facilities", "station-broken"),
        ("A car hit me and drove off, the police are not here yet", "rights", "traffic-accident"),
        ("The platform fined me 50 yuan for being late", "rights", "platform-penalty"),
        ("I want a lawyer but cannot pay", "rights", "legal-aid"),
        ("How do I join the union?", "suggestion", "join-union"),
    ],
)
async def test_couriers_words_find_the_right_answer_first(answers, text, category, first) -> None:
    found = await answers.search(text, category)
    assert found and found[0].id == first, [a.id for a in found]
    assert len(found) <= 3


@pytest.mark.parametrize(
    "text", ["建议在复兴路多种点树", "今天天气很好", "Please plant more trees along Fuxing Road", "谢谢", "ok", "12345"]
)
async def test_words_about_nothing_answered_find_nothing(answers, text) -> None:
    assert await answers.search(text, "suggestion") == []


async def test_the_category_chosen_breaks_a_tie_and_a_wrong_one_still_finds_the_answer(answers) -> None:
    assert (await answers.search("老板拖欠我三个月工资不给", "facilities"))[0].id == "wage-arrears"


async def test_a_withdrawn_answer_is_not_found_and_importing_again_updates_by_id(answers, storage) -> None:
    wage = await answers.get("wage-arrears")
    record = AnswerRecord(
        wage.id, "work", "新标题", "New title", wage.text_zh, wage.text_en, ("欠薪", "工资"), active=False
    )
    imported = await answers.import_records([record])
    assert (imported.added, imported.updated) == (0, 1)
    assert [a.id for a in await answers.search("老板拖欠我三个月工资不给", "work")] == []
    # A file without `active` leaves an answer as it is; active = true brings it back, with its new words.
    back = AnswerRecord(wage.id, "work", "新标题", "New title", wage.text_zh, wage.text_en, ("欠薪", "工资"), None)
    await answers.import_records([back])
    assert (await answers.get("wage-arrears")).active is False
    await answers.import_records([dataclasses.replace(back, active=True)])
    assert (await answers.search("老板拖欠我三个月工资不给", "work"))[0].title_zh == "新标题"
    # The keyword index follows the update: the old keyword 拖欠 is gone.
    rows = await storage.db.fetchall("SELECT keyword FROM answer_keywords WHERE answer_id = 'wage-arrears'")
    assert sorted(r[0] for r in rows) == ["工资", "欠薪"]


async def test_a_direct_answer_is_recorded_once_without_the_person(storage) -> None:
    from storage.dialogs import Draft

    draft = Draft.stored("answers", {"category": "work", "description": "欠薪", "started": 5})
    await storage.people.seen(11, "zh", MONDAY_10)
    await storage.dialogs.save_draft(11, draft, MONDAY_10)
    record = storage.answers.record_direct_answer
    assert await record(11, 4, category="work", answer_id="wage-arrears", now=MONDAY_10) is False  # another draft
    assert await record(11, 5, category="work", answer_id="wage-arrears", now=MONDAY_10) is True
    assert await record(11, 5, category="work", answer_id="wage-arrears", now=MONDAY_10) is False  # a second tap
    rows = await storage.db.fetchall("SELECT * FROM direct_answers")
    assert [tuple(r)[1:] for r in rows] == [("work", "wage-arrears", int(MONDAY_10.timestamp()))]
    assert await storage.answers.direct_answers(MONDAY_10, MONDAY_10.replace(hour=11)) == 1


def test_terms_cut_chinese_into_windows_and_english_into_stems() -> None:
    terms = terms_of("欠薪三月 Wages unpaid!")
    assert set(terms.trigrams) == {"欠薪三", "薪三月", "wage", "unpaid"}
    assert {"欠薪", "薪三", "三月", "欠薪三月", "wages", "wage", "unpaid"} <= set(terms.keys)
