"""Every shipped migration is frozen: its name and its SQL, byte for byte, as it shipped."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from storage import migrations

# (name, sha256 of its SQL) of every shipped migration, in order. Add a line when a migration ships;
# never change one: a shipped migration already ran on databases that will not run it again.
SHIPPED = [
    (
        "people, units, stations, appeals, drafts, attachments, ledger, outbox, timers",
        "4d9137bc8a4ad08d4d48dfa606bf37e9a5e6700ae0d7393841d9e92a70fe4498",
    ),
    (
        "prompts (text a person owes the bot) and staff invites",
        "708e674b1264bc07cd597147bb7bf13e24a0c070443339d46376b56bde473e91",
    ),
    (
        "timers climb a ladder (reminder, deadline, escalation) and follow-ups; appeal links",
        "cd94c7431c895c57b9fd170b13e5613dcb57537d4821b3632819681aa25bd376",
    ),
    (
        "station R*Tree index; last shared locations; appeals remember when they were anonymised",
        "932635aa6f12d254bf8b58cd45fa6e83b26363ba3f4dc0635637abb1fa46fcca",
    ),
    ("scheduled digests, each slot queued once", "0dbf8e6ff20cf7218cf46e64ba861e728df6d7028f481724f29e1954a81aeb97"),
    (
        "updates already handled, so a redelivered update changes nothing",
        "b05891609131f929423d4e6a28e9a880ff52ba0fd20857a5b79b4e83b71adedc",
    ),
    (
        "merged appeals found by an index (the followers of an appeal hear of its accept and result)",
        "d4a54b5f4e7daa1a496a57cd21012ecad43de6b9d52bb97e0a4401fc1f08d6b7",
    ),
    (
        "each appeal's nearest deadline on its row, so a queue reads its first page from an index",
        "03f03688cacfeef0ffd76099c8eb1fc8133a690661c81166ca0b23e661ed97a3",
    ),
    (
        "the digest's questions to the ledger answered from its indexes alone",
        "c0024537d9efd784886fb16c63dcce2664595d75fb52b4929fe8aa325a5c922e",
    ),
    (
        "stations' names and addresses in English, for English readers",
        "277b3aa719cbb0d1e356f1d8b59f7f6dd97fe2ffb09851fb5c428d625f51d9b8",
    ),
    (
        "the messages that show an appeal in each chat, kept current; a notice's parts sent so far",
        "4980969e4345368cd369976f693be61d027d468f38c39847f31dcbd99c81d673",
    ),
    (
        "prompts name what they ask for by the lifecycle event, not by a button's private verb",
        "9eae520d56e796a37c7883bdbc3efdac3776b9cce4bffecfde8db4da94e7fe72",
    ),
    (
        "invite codes can be revoked; wrong /join guesses are counted per person",
        "a0e0fa5256ca1daa59e4d6000a05f57d5286d3ebe86593e073e04c3bed3b3a9c",
    ),
    (
        "filing limits, and the outbox read chat by chat",
        "2b506c975aae546a8b5ec68508a5eac4112e3ba802d1e35ebc61465b6bb5075d",
    ),
    ("a typed place of its own", "280734fef013e5e5d856ae13d4c1bfc9c34326d3a35e262f61c5aa2bee54930b"),
    (
        "the station index holds amenity bits in its entry ids, and no auxiliary columns",
        "a82df1e2b58f703208d39c687df0b00ae58d4d2eb3069b1b7e74eb9dc56c6e66",
    ),
    (
        "value sets that grow with the code leave the schema: appeals, the ledger and timers rebuilt without them",
        "d1863ed738fd4de3ee208e6d9857f6a20dce7835b5d4a4b5ee7270b4f79b489e",
    ),
    (
        "the ledger of people actions: filing limits lifted and applied again, people muted and unmuted",
        "fc33b1d91e9b6f1afcf932a87df3a2c2ea76c77f31291ec7d92640e8a4f0cf1c",
    ),
    (
        "extensions (延期): what a unit asked for, what a coordinator granted, and how the deadline moved",
        "e89e934068c79dd124beda8cbee425a738e7bbcf370ba2bb20866e6a40f8f156",
    ),
    (
        "canned replies (常用回复): a unit's reply templates, from the config or added by its staff",
        "75d0c9b3d8fba0b412f4db6a2d3c6bbcaf1829eb125426ffd6f93ee043480f20",
    ),
    (
        "unit desks: a unit's Telegram group that gets its cards, and each appeal's topic there",
        "83e8abd1c862a5ed6624990638bee33198f9c2001e63bc7d02b5bb854d6c8515",
    ),
    (
        "co-handling (协办): units beside the lead, each with its own part, deadlines and reminders",
        "ffc4f40292a0ee623d5f4d6c82cd28e008148f540ffe9e153f95cf566539c9e8",
    ),
    (
        "answers before filing (知识库): the answers, their search index and keywords, and the direct answers given",
        "e29e4b7607da4465c73152222eef15dfd3dceb1e209d005688d1c53a5806b674",
    ),
    (
        "outreach: who hears about what, sends to an audience counted, notices, and the outbox's outreach lane",
        "5d12ed792595e0bcc19acfdaca7690a626cd10243a88d8b1a68c8c9ca6e6149b",
    ),
    (
        "activities with sign-up: the activities, their places and waiting lists, attendance, the publishing dialog",
        "3a8974c5d2e4ad7c2ef5e64784cf1dadd430238fd59b7b443f8330b4fb279c3e",
    ),
    (
        "surveys (问卷): surveys, couriers' progress, who answered, and the answers (unlinked when anonymous)",
        "af2297b406177d8c248a16e796b3891f241f845d17d2bdea320daa96ffd80800",
    ),
    (
        "micro-wishes (微心愿): a courier's small wish, its steps in a ledger of its own, and the text being typed",
        "95d52e960bf920f22ceaf332172d93b968d1820acc7241c572cc69fc588e206e",
    ),
    (
        "co-handling parts by unit: a unit's open parts are found from its own rows, not by walking every appeal in hand",
        "c58602088453e7c81159eeb1ef8f18355cc58374383a8cc7ddfc704d21cc5f41",
    ),
    (
        "outreach scheduled: a send's start and its cancellation",
        "a44b759c93ae76907a814a1f178076dcc9436cc67aee8af3a7c7f473b58dd2f6",
    ),
    (
        "activities in two languages: an English title, details and address beside the Chinese",
        "546736afc2b4d0edbe181f030b68093031989b945152646b1cc5475adb636b2c",
    ),
    (
        "the outbox's dead letters found by an index (the /metrics gauge counts them on every scrape)",
        "4829f3a64e74eb72a309ff3c19f899d4fbe3740e849e01057cfd43fae3566ee0",
    ),
    (
        "appeals by courier and time: a filing limit reads a person's last day of filings, not every appeal they ever filed",
        "54c306b1b4d8d48287e55daf299af844e95bd7058cb941c63ea20ac66a3b1a5d",
    ),
    (
        "new outbox rows wake the sender in whichever worker process sends",
        "cd311252b6b3c00e6ea0298dca0c954051891f1002d9c610e85d969c7ba643e6",
    ),
    (
        "the nearest-station index's function names the schema its cube type lives in",
        "bb799726b92869607821611a053dfbfed0fef76bb1a2eddc1534b2a1ddfcebf6",
    ),
]


def test_every_shipped_migration_is_unchanged() -> None:
    shipped = [(name, hashlib.sha256(sql.encode()).hexdigest()) for name, sql in migrations.MIGRATIONS[: len(SHIPPED)]]
    assert shipped == SHIPPED


def test_migration_names_are_unique() -> None:
    names = [name for name, _ in migrations.MIGRATIONS]
    assert len(names) == len(set(names))


def test_no_migration_is_formatted_from_live_constants() -> None:
    """Each migration's SQL is a literal in the source: an f-string or a name could change what it says."""
    tree = ast.parse(Path(migrations.__file__).read_text())
    entries: list[ast.expr] = []
    for statement in tree.body:  # MIGRATIONS = [...] and MIGRATIONS.append(...) at the module's top level
        if isinstance(statement, ast.AnnAssign) and ast.unparse(statement.target) == "MIGRATIONS":
            assert isinstance(statement.value, ast.List)
            entries += statement.value.elts
        elif isinstance(statement, ast.Expr) and isinstance(call := statement.value, ast.Call):
            assert ast.unparse(call.func) == "MIGRATIONS.append"
            entries += call.args
    assert len(entries) == len(migrations.MIGRATIONS)
    for entry in entries:
        assert isinstance(entry, ast.Tuple) and len(entry.elts) == 2, ast.unparse(entry)[:80]
        name, sql = entry.elts
        assert isinstance(name, ast.Constant) and isinstance(sql, ast.Constant), ast.unparse(entry)[:80]
