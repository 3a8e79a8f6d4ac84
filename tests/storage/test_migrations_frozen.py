"""Every shipped migration is frozen, SQLite's and PostgreSQL's: its name and its SQL, byte for byte, as it shipped."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from types import ModuleType

from storage import migrations, postgres_migrations

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
    (
        "the stations' nearest-first index on PostgreSQL holds a tiny box per station, which its splits measure",
        "8a4b51ef6943e414fcc74adeab2b18996d50d68c45d84133aab95ea36d74d07c",
    ),
    (
        "tables an erasure left old row versions in, rewritten by the night's retention run",
        "7c44b9d7697bc14f134e29083dbc0c462a2ac9beb9cb56fd15e501937e9799e2",
    ),
]

# The same for PostgreSQL's counterparts (storage/postgres_migrations.py), by the same names.
POSTGRESQL_SHIPPED = [
    (
        "people, units, stations, appeals, drafts, attachments, ledger, outbox, timers",
        "7dc00b602a7900648bde5c7c158a688435cb3e5bea7c390caf1970e58810a4a9",
    ),
    (
        "prompts (text a person owes the bot) and staff invites",
        "284cbd8f5c7ab02843cafca11c4f15e55ccabc6897bec5fac3909101d88e9b7c",
    ),
    (
        "timers climb a ladder (reminder, deadline, escalation) and follow-ups; appeal links",
        "e4fc110f6052a1a1c71bca95d3714fca873dcc4f989a8ecf6dc9c9e816951e36",
    ),
    (
        "station R*Tree index; last shared locations; appeals remember when they were anonymised",
        "79b1017f461960400b790f9c3ce5559871fe968936e2904beef44f64d6122f9f",
    ),
    (
        "scheduled digests, each slot queued once",
        "d7bfb09179fa2fbf157e65ad9ca67079fe005395e7e2ed8c186cece01b11285f",
    ),
    (
        "updates already handled, so a redelivered update changes nothing",
        "2039720f7092badcf5d8297eda956541d047ea8b0d33b56905fb881ba1687144",
    ),
    (
        "merged appeals found by an index (the followers of an appeal hear of its accept and result)",
        "7eb31927475fa3cab7b57d3a4ea6ac38b695e76951b028638b740958d028e129",
    ),
    (
        "each appeal's nearest deadline on its row, so a queue reads its first page from an index",
        "fdfd8b0e9da64a38e492f6f31cae6c1ec6b6970864af884a7f3d1ee221a564e8",
    ),
    (
        "the digest's questions to the ledger answered from its indexes alone",
        "0ef83ab2c813aa869aa812128bcbe7d8c55849180ff0d43082f99fcad3adf6d4",
    ),
    (
        "stations' names and addresses in English, for English readers",
        "5145cecd9031ce0853af6914fada3a1c23a5b3c5cfc5f0dc684573b1096b46b4",
    ),
    (
        "the messages that show an appeal in each chat, kept current; a notice's parts sent so far",
        "35ad5f3ed986c4185f5b18f778d19f1de54317684fefd1f076c20cba661ca038",
    ),
    (
        "prompts name what they ask for by the lifecycle event, not by a button's private verb",
        "033de06d82fa861738227776cee1bc0b4e32200bd36b58786635c31eacd09a00",
    ),
    (
        "invite codes can be revoked; wrong /join guesses are counted per person",
        "a03797c99413d8613015e25f6f247b42a0e95bff15d4ccc0de26c8fefd27d567",
    ),
    (
        "filing limits, and the outbox read chat by chat",
        "abc198bbc39b25e6ec312efc57b82e14b885e60c547da2c7002592a14e4da9d9",
    ),
    (
        "a typed place of its own",
        "9a8b404975f9521830517593902ef3d18c45047343e494a9103830e411cd80ce",
    ),
    (
        "the station index holds amenity bits in its entry ids, and no auxiliary columns",
        "de226450a1800c8894a664f7442b3d22eee84105fafc99e152bec470cc2c776d",
    ),
    (
        "value sets that grow with the code leave the schema: appeals, the ledger and timers rebuilt without them",
        "baa4f8f975f6edec483d5273616504cca6098bea227dfac6bdbbf17397193146",
    ),
    (
        "the ledger of people actions: filing limits lifted and applied again, people muted and unmuted",
        "24fd84bd7b2f1f7d3d4d1ba709b34f45e9ed4822f2732193fd44ef342daa7d6e",
    ),
    (
        "extensions (延期): what a unit asked for, what a coordinator granted, and how the deadline moved",
        "c2908616518abeaed24eeceb1141e81c65dc218de4d66ff0cfdac49a2053041e",
    ),
    (
        "canned replies (常用回复): a unit's reply templates, from the config or added by its staff",
        "76e584761f0f15105dc22e82ff86aaa137f4698c0bea1db995bb35dfee84ca13",
    ),
    (
        "unit desks: a unit's Telegram group that gets its cards, and each appeal's topic there",
        "d2c25db642066a7717251376579daa6eb599d361a1c3005290ba713059f06e7d",
    ),
    (
        "co-handling (协办): units beside the lead, each with its own part, deadlines and reminders",
        "ef242477fe374f712f0ed19780cfda9958836fd21c51d280579d965a13772297",
    ),
    (
        "answers before filing (知识库): the answers, their search index and keywords, and the direct answers given",
        "72b5fb6258f7ad658258a041efd3fc9d5b782f3503f5578c9e19b1c52db95801",
    ),
    (
        "outreach: who hears about what, sends to an audience counted, notices, and the outbox's outreach lane",
        "f3ec83cb93d1f71494c84cc84712f78a0cfdce8f7d3de5760dfd869db999785c",
    ),
    (
        "activities with sign-up: the activities, their places and waiting lists, attendance, the publishing dialog",
        "e37fe59f400bfe8cea9a0283b3e5c100ff89e46da3741baad74f41f1501613b9",
    ),
    (
        "surveys (问卷): surveys, couriers' progress, who answered, and the answers (unlinked when anonymous)",
        "71e077bb49530dfb7cce2abeeb857d200ba624fb75969c08eebc5c2abb607389",
    ),
    (
        "micro-wishes (微心愿): a courier's small wish, its steps in a ledger of its own, and the text being typed",
        "de08132c8b02a70e8733e2af93f3f85836b5d42a6e710fe703c21b18186881ae",
    ),
    (
        "co-handling parts by unit: a unit's open parts are found from its own rows, not by walking every appeal in hand",
        "c58602088453e7c81159eeb1ef8f18355cc58374383a8cc7ddfc704d21cc5f41",
    ),
    (
        "outreach scheduled: a send's start and its cancellation",
        "155970d363da126b54ac9693aa6cee9ce389611544643d8fd05b36f619b089ae",
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
        "271c077bd208f7f4e228b49e26805ada5ba66bb6d1d25e02ef5923fa8f8ce78a",
    ),
    (
        "the nearest-station index's function names the schema its cube type lives in",
        "77f5e8c294923d18b30508539056f8e20e6ae3fc6713917a7a01cb74a3701c4d",
    ),
    (
        "the stations' nearest-first index on PostgreSQL holds a tiny box per station, which its splits measure",
        "306c7df5bf921c6c632923b5b9908e497565f821219130db10dda948fd71e0a5",
    ),
    (
        "tables an erasure left old row versions in, rewritten by the night's retention run",
        "0d9f7918f7134aa5b5883b73f636329a7c1472a1ef52925121272f0194ec4820",
    ),
]


def changed_since_shipped(module: ModuleType, shipped: list[tuple[str, str]]) -> list[str]:
    """What differs between `module`'s migrations and the shipped ones, one line per migration (none if unchanged)."""
    problems = []
    if len(module.MIGRATIONS) < len(shipped):
        problems.append(f"{module.__name__} has {len(module.MIGRATIONS)} migrations; {len(shipped)} shipped")
    for version, ((name, sql), (shipped_name, digest)) in enumerate(
        zip(module.MIGRATIONS, shipped, strict=False), start=1
    ):
        if name != shipped_name:
            problems.append(f"migration {version} of {module.__name__} was renamed: {shipped_name!r} is now {name!r}")
        elif hashlib.sha256(sql.encode()).hexdigest() != digest:
            problems.append(
                f"migration {version} of {module.__name__} ({name!r}) changed after it shipped: databases that ran it"
                " will not run it again, so put it back as it was and write a new migration for the change"
            )
    return problems


def test_every_shipped_migration_is_unchanged() -> None:
    problems = changed_since_shipped(migrations, SHIPPED)
    assert not problems, "\n".join(problems)


def test_every_shipped_postgresql_migration_is_unchanged() -> None:
    problems = changed_since_shipped(postgres_migrations, POSTGRESQL_SHIPPED)
    assert not problems, "\n".join(problems)


def test_a_changed_migration_is_named_in_the_failure() -> None:
    """The check itself: an edited or renamed shipped migration is caught, by version and name."""
    edited = ModuleType("edited")
    edited.MIGRATIONS = [(name, sql) for name, sql in postgres_migrations.MIGRATIONS]  # type: ignore[attr-defined]
    edited.MIGRATIONS[1] = (edited.MIGRATIONS[1][0], edited.MIGRATIONS[1][1] + "\n")  # type: ignore[attr-defined]
    edited.MIGRATIONS[2] = ("another name", edited.MIGRATIONS[2][1])  # type: ignore[attr-defined]
    problems = changed_since_shipped(edited, POSTGRESQL_SHIPPED)
    assert len(problems) == 2
    assert problems[0].startswith(f"migration 2 of edited ({POSTGRESQL_SHIPPED[1][0]!r}) changed after it shipped")
    assert problems[1].startswith("migration 3 of edited was renamed")


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
