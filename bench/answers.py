"""Answers before filing at scale: the knowledge-base search on 10,000 answers, beside a plain LIKE scan.

    python bench/answers.py            # 10,000 answers, 100,000 searches (the LIKE scan on every 200th)
    python bench/answers.py --quick    # 500 answers, 2,000 searches (the LIKE scan on every 10th)

Answers and couriers' texts are generated from templates (seeded): a dozen topics (unpaid wages,
injuries, traffic accidents, fines, blocked accounts, broken chargers, ...) in every district,
platform and station of a made-up country, in Chinese and English, with their keywords; the texts
are what couriers write, in both languages, with numbers, places and padding. Everything goes to a
temporary folder. Figure: the bot's search (storage.answers.search_conn: FTS5 trigram terms and the
keyword index, then scoring) p99; baseline: the same terms found by a plain LIKE scan of every
answer, scored alike, in the same run. Where jieba is importable, its search (words segmented by
jieba into an FTS5 unicode61 index) is timed too and printed beside them; it is not a dependency.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import header, percentile, result  # noqa: E402

from domain.answers_file import AnswerRecord  # noqa: E402
from storage.answers import _UPSERT, Answer, _row, scored, search_conn, terms_of  # noqa: E402
from storage.migrations import migrate  # noqa: E402

SEED = 20261207
TARGET = 1.0  # the search's p99 at most the LIKE scan's p99

# (category, keywords, Chinese title and text, English title and text, couriers' texts in zh and en)
TOPICS = [
    (
        "work",
        ["欠薪", "工资", "拖欠", "讨薪", "wage", "wages", "unpaid", "salary"],
        ("{place}被拖欠工资怎么投诉", "向{place}人力资源和社会保障局劳动保障监察机构投诉，带身份证、合同和工资记录。"),
        (
            "Unpaid wages in {place}",
            "Complain to the labour inspectors of {place}; bring your ID card, contract and pay records.",
        ),
        ["老板拖欠我{n}个月工资不给", "站长说工资下个月再发，已经拖了{n}个月", "{place}这边的工钱一直没发怎么办"],
        ["My boss has not paid my wages for {n} months", "The station still owes me {n} months of salary in {place}"],
    ),
    (
        "work",
        ["工伤", "受伤", "摔伤", "职业伤害", "injury", "injured", "hurt"],
        ("{place}送单受伤怎么申请职业伤害保障", "先就医，再在平台App报案，向{place}社保经办机构申请职业伤害确认。"),
        (
            "Hurt while delivering in {place}",
            "See a doctor, report it in the app, then ask the {place} social insurance office to confirm it.",
        ),
        ["送餐路上摔伤了怎么报工伤", "下雨天在{place}滑倒了，腿摔伤了，医药费谁出", "骑车受伤{n}天了平台不管"],
        [
            "I fell off my scooter in {place} and hurt my leg",
            "How do I claim for an injury at work, it has been {n} days",
        ],
    ),
    (
        "rights",
        ["车祸", "交通事故", "被撞", "车撞", "交警", "accident", "crash", "collision"],
        ("在{place}遇到交通事故怎么办", "拨打122报警，拍照取证，等交警出具事故认定书，不要私了。"),
        (
            "A traffic accident in {place}",
            "Call 122, photograph the scene, wait for the police report and do not settle privately.",
        ),
        ["在{place}被车撞了，对方跑了", "送单时和电动车追尾，交警还没来", "出了车祸对方不肯赔{n}百块"],
        ["A car hit me near {place} and drove off", "I had a crash while delivering, what should I do"],
    ),
    (
        "rights",
        ["罚款", "扣款", "扣钱", "差评", "申诉", "fine", "fined", "penalty", "deducted"],
        ("{platform}罚款扣款不合理", "先在{platform}App内申诉，附上订单截图；申诉无果可提交诉求。"),
        (
            "An unfair fine from {platform}",
            "Appeal in the {platform} app with screenshots of the order; if refused, file an appeal.",
        ),
        ["{platform}罚了我{n}十块，明明是商家出餐慢", "超时被扣钱了，{platform}不让申诉", "差评扣了我{n}块钱"],
        [
            "{platform} fined me {n}0 yuan for being late because of the restaurant",
            "Money was deducted for a bad rating",
        ],
    ),
    (
        "rights",
        ["封号", "账号", "冻结", "停单", "blocked", "banned", "account", "suspended"],
        ("{platform}账号被封怎么办", "先问清封号原因，保存截图，通过{platform}申诉；无果可提交诉求。"),
        (
            "Your {platform} account blocked",
            "Ask why, keep screenshots, appeal to {platform}; if that fails, file an appeal.",
        ),
        ["{platform}把我账号封了，{n}天接不到单", "账号突然冻结了，里面还有{n}百块钱"],
        ["{platform} blocked my account {n} days ago", "My account was suspended and my earnings are stuck"],
    ),
    (
        "facilities",
        ["充电桩", "充电", "饮水机", "坏了", "损坏", "charger", "charging", "broken"],
        ("{station}的充电桩、饮水机坏了", "请提交诉求，写明{station}和坏掉的设备，附上照片。"),
        ("Broken equipment at {station}", "File an appeal naming {station} and the broken equipment, with a photo."),
        ["{station}充电桩坏了", "{station}的饮水机坏了{n}天了没人修", "驿站充电插座没电"],
        ["The charger at {station} is broken", "The water dispenser at {station} has been broken for {n} days"],
    ),
    (
        "life",
        ["驿站", "开门", "营业时间", "休息", "station", "hours", "open", "rest"],
        ("{station}几点开门", "点“附近驿站”查看{station}的开放时间和设施。"),
        ("When {station} opens", "Tap Nearest station to see the hours and amenities of {station}."),
        ["{station}几点开门，晚上能休息吗", "附近哪个驿站开着，想歇一会"],
        ["What time does {station} open", "Is there a rest station open near {place} at night"],
    ),
    (
        "work",
        ["社保", "养老保险", "医保", "灵活就业", "insurance", "pension", "medical"],
        ("在{place}骑手怎么交社保", "没有劳动合同的，可以按灵活就业人员在{place}社保中心参保。"),
        (
            "Social insurance in {place}",
            "Without a contract, join as a flexibly employed person at the {place} social insurance centre.",
        ),
        ["骑手在{place}能交社保吗", "没有合同怎么交医保和养老保险"],
        ["Can couriers pay into social insurance in {place}", "How do I get medical insurance without a contract"],
    ),
    (
        "rights",
        ["律师", "法律援助", "起诉", "法院", "lawyer", "legal", "court", "sue"],
        ("{place}免费法律援助", "{place}法律援助中心免费咨询，符合条件的免费代理。"),
        (
            "Free legal aid in {place}",
            "The {place} legal aid centre gives free advice and, where a case qualifies, a lawyer.",
        ),
        ["想找个律师起诉{platform}，没钱怎么办", "哪里有免费的法律援助"],
        ["I want a lawyer to sue {platform} but cannot pay", "Where can I get free legal advice in {place}"],
    ),
    (
        "life",
        ["高温", "中暑", "防暑", "寒冷", "heat", "hot", "heatstroke", "cold"],
        ("{place}高温天气怎么办", "{place}的驿站免费提供防暑降温用品，出现中暑症状立即休息。"),
        (
            "Hot weather in {place}",
            "Stations in {place} give out cool drinks for free; stop and rest if you feel the heat.",
        ),
        ["今天{n}十度太热了快中暑了", "高温天还要跑单，哪里有防暑药"],
        ["It is too hot today, I think I have heatstroke", "Where can I get cool drinks in {place}"],
    ),
    (
        "suggestion",
        ["工会", "入会", "会员", "union", "member"],
        ("加入{place}工会", "骑手可以加入{place}总工会，享受帮扶、体检和法律服务。"),
        (
            "Joining the union in {place}",
            "Couriers can join the {place} trade union for hardship help, health checks and legal services.",
        ),
        ["骑手能加入工会吗", "怎么在{place}入会"],
        ["Can couriers join the union", "How do I become a union member in {place}"],
    ),
    (
        "life",
        ["托管", "暑期", "孩子", "子女", "childcare", "children", "kids"],
        ("{place}骑手子女暑期托管", "{place}工会和社区开办暑期托管班，骑手子女优先。"),
        (
            "Summer childcare in {place}",
            "The {place} union and neighbourhoods run summer classes; couriers' children come first.",
        ),
        ["暑假孩子没人带，有托管吗", "{place}有没有骑手子女托管班"],
        ["Who can look after my kids this summer", "Is there childcare for couriers' children in {place}"],
    ),
]
PLATFORMS = ["美团", "饿了么", "闪送", "达达", "顺丰同城", "UU跑腿"]
PADDING_ZH = ["", "请帮帮我。", "我是外卖骑手，", "麻烦问一下，", "谢谢！", "急！", "这个月特别难。"]
PADDING_EN = ["", "Please help. ", "I am a delivery rider. ", "Thanks!", " It is urgent."]
# Texts that match no answer: the flow must stay as it was for them.
UNRELATED_ZH = ["建议多种点树", "今天天气不错", "谢谢你们的服务", "能不能多开几个停车位"]
UNRELATED_EN = ["Please plant more trees", "Thank you for the service", "Could there be more parking"]


def _places(count: int) -> list[str]:
    syllables = "东西南北中长安平和兴华新江河山湖海松柏宁远明光"
    rnd = random.Random(SEED)
    names: dict[str, None] = {}
    while len(names) < count:
        names[rnd.choice(syllables) + rnd.choice(syllables) + rnd.choice("区县镇")] = None
    return list(names)


def generate_answers(count: int) -> list[AnswerRecord]:
    """`count` answers: every topic in every place (districts, platforms and stations), in both languages."""
    places = _places(count // len(TOPICS) + 1)
    records = []
    for index in range(count):
        category, keywords, (title_zh, text_zh), (title_en, text_en), _, _ = TOPICS[index % len(TOPICS)]
        place = places[index // len(TOPICS)]
        fill = {"place": place, "platform": PLATFORMS[index % len(PLATFORMS)], "station": f"{place}爱心驿站"}
        records.append(
            AnswerRecord(
                f"a{index:05d}",
                category,
                title_zh.format(**fill)[:80],
                title_en.format(**fill)[:80],
                text_zh.format(**fill),
                text_en.format(**fill),
                (*keywords, place),
            )
        )
    return records


def generate_texts(count: int, answers: int, rnd: random.Random) -> list[tuple[str, str]]:
    """`count` couriers' texts with the category they chose: nine in ten about a topic, half of them in English."""
    places = _places(answers // len(TOPICS) + 1)
    texts = []
    for _ in range(count):
        english = rnd.random() < 0.5
        if rnd.random() < 0.1:
            texts.append((rnd.choice(UNRELATED_EN if english else UNRELATED_ZH), "suggestion"))
            continue
        category, _, _, _, zh, en = rnd.choice(TOPICS)
        fill = {"place": rnd.choice(places), "platform": rnd.choice(PLATFORMS), "n": rnd.randint(2, 9)}
        fill["station"] = f"{fill['place']}爱心驿站"
        body = rnd.choice(en if english else zh).format(**fill)
        padding = PADDING_EN if english else PADDING_ZH
        texts.append((rnd.choice(padding) + body + rnd.choice(padding), category))
    return texts


def like_scan(conn: sqlite3.Connection, text: str, category: str | None, limit: int = 3) -> list[Answer]:
    """The baseline: the search's terms found by LIKE in every answer's text and keywords, scored alike."""
    terms = terms_of(text)
    words = (*terms.keys, *terms.trigrams)
    if not words:
        return []
    body = "(title_zh || ' ' || title_en || ' ' || text_zh || ' ' || text_en || ' ' || keywords)"
    rows = conn.execute(
        f"SELECT * FROM answers WHERE active = 1 AND ({' OR '.join(f'{body} LIKE ?' for _ in words)})",
        [f"%{w}%" for w in words],
    ).fetchall()
    answers = [Answer.from_row(r) for r in rows]
    hits = {a.id: {k for k in terms.keys if k in a.keywords} for a in answers}
    return scored(answers, terms, hits, category)[:limit]


def _jieba_search(count: int, records: list[AnswerRecord], texts: list[tuple[str, str]]) -> str | None:
    """jieba's words in an FTS5 unicode61 index: the same texts' p99, or None where jieba is not installed."""
    try:
        import jieba  # type: ignore[import-not-found]
    except ImportError:
        return None
    import logging

    jieba.setLogLevel(logging.WARNING)
    started = time.perf_counter()
    jieba.initialize()
    loaded = time.perf_counter() - started
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE j USING fts5(body)")
    conn.executemany(
        "INSERT INTO j (rowid, body) VALUES (?, ?)",
        [
            (i, " ".join(jieba.cut_for_search(" ".join((r.title_zh, r.title_en, r.text_zh, r.text_en, *r.keywords)))))
            for i, r in enumerate(records)
        ],
    )
    times = []
    for text, _ in texts:
        begin = time.perf_counter()
        words = {w.strip().lower() for w in jieba.cut_for_search(text) if len(w.strip()) >= 2}
        if words:
            query = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
            conn.execute("SELECT rowid FROM j WHERE j MATCH ? ORDER BY rank LIMIT 30", (query,)).fetchall()
        times.append(time.perf_counter() - begin)
    return f"{percentile(times, 99) * 1000:.3f} ms p99, {percentile(times, 50) * 1000:.3f} ms p50 (dictionary load {loaded:.2f} s)"


def main(argv: list[str] | None = None) -> int:
    """Generate, import, search; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 answers and 2,000 searches")
    args = parser.parse_args(argv)
    count, searches, every = (500, 2_000, 10) if args.quick else (10_000, 100_000, 200)
    header(f"answers: the knowledge-base search on {count:,} answers, {searches:,} couriers' texts", args.quick)
    rnd = random.Random(SEED)
    records = generate_answers(count)
    texts = generate_texts(searches, count, rnd)
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmp:
        conn = sqlite3.connect(Path(tmp) / "answers.sqlite3")
        conn.row_factory = sqlite3.Row
        migrate(conn)
        started = time.perf_counter()
        with conn:
            conn.executemany(_UPSERT, [_row(r) for r in records])
        print(f"# import: {count:,} answers in {time.perf_counter() - started:.2f} s (FTS5 trigram index and keywords)")
        search, scan, found, agree, compared = [], [], 0, 0, 0
        for index, (text, category) in enumerate(texts):
            begin = time.perf_counter()
            shown = search_conn(conn, text, category, 3)
            search.append(time.perf_counter() - begin)
            found += bool(shown)
            if index % every == 0:
                begin = time.perf_counter()
                baseline = like_scan(conn, text, category)
                scan.append(time.perf_counter() - begin)
                compared += 1
                agree += [a.id for a in baseline] == [a.id for a in shown]
        conn.close()
    ms = lambda values, p: percentile(values, p) * 1000  # noqa: E731
    print(f"# texts with at least one answer shown: {found / len(texts):.0%} (one in ten is about nothing answered)")
    print(f"# the LIKE scan shows the same answers as the search for {agree}/{compared} texts")
    print(f"#   search (FTS5 trigram + keywords)  p50 {ms(search, 50):8.3f} ms   p99 {ms(search, 99):8.3f} ms")
    print(f"#   plain LIKE scan ({compared:,} texts)   p50 {ms(scan, 50):8.3f} ms   p99 {ms(scan, 99):8.3f} ms")
    jieba_figure = _jieba_search(count, records, texts[:: every // 2 or 1])
    print(f"#   jieba + FTS5 unicode61 (candidates only): {jieba_figure or 'jieba is not installed'}")
    ratio = ms(search, 99) / ms(scan, 99)
    result(
        "answers",
        f"{ms(search, 99):.3f} ms p99 (the bot's search, {count:,} answers, {len(search):,} texts)",
        f"{ms(scan, 99):.3f} ms p99 (a plain LIKE scan of every answer for the same terms, {compared:,} texts)",
        ratio,
        f"<= {TARGET:.0f}x",
        ratio <= TARGET,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
