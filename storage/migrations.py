"""The schema, as an append-only list of migrations counted by PRAGMA user_version.

Each migration is a name and its SQL exactly as shipped, written out in full (never formatted from
live constants): never edit one that has shipped, add a new one (tests/storage/test_migrations_frozen.py
holds every shipped text by its hash). Value sets that grow with the code (states, events, outcomes,
roles, timers and their stages, priorities) are not CHECK constraints: the code's enums are their one
home, and storage/invariants.py checks stored values against them.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[tuple[str, str]] = [
    (
        "people, units, stations, appeals, drafts, attachments, ledger, outbox, timers",
        """
CREATE TABLE units (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('station', 'department')),
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

CREATE TABLE people (
    telegram_id INTEGER PRIMARY KEY,
    role TEXT NOT NULL DEFAULT 'courier' CHECK (role IN ('courier', 'staff', 'coordinator')),
    unit_id TEXT REFERENCES units(id),
    language TEXT CHECK (language IN ('zh', 'en')),
    source TEXT NOT NULL DEFAULT 'bot' CHECK (source IN ('bot', 'config', 'cli', 'invite')),
    reachable INTEGER NOT NULL DEFAULT 1 CHECK (reachable IN (0, 1)),
    created_at INTEGER NOT NULL,
    CHECK ((role = 'staff') = (unit_id IS NOT NULL))
);
CREATE INDEX people_role_unit ON people(role, unit_id);

CREATE TABLE stations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    grade TEXT NOT NULL CHECK (grade IN ('A', 'B', 'C')),
    amenities TEXT NOT NULL DEFAULT '[]',
    hours TEXT NOT NULL DEFAULT '{}',
    unit_id TEXT REFERENCES units(id),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
CREATE INDEX stations_lat_lon ON stations(lat, lon);

CREATE TABLE appeals (
    id INTEGER PRIMARY KEY,
    courier_id INTEGER REFERENCES people(telegram_id),
    category TEXT NOT NULL,
    priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('normal', 'urgent')),
    state TEXT NOT NULL CHECK (state IN ('collecting','assessing','handling','feedback','closed')),
    outcome TEXT CHECK (outcome IN ('resolved','rejected','merged','withdrawn','auto_closed')),
    unit_id TEXT REFERENCES units(id),
    station_id TEXT REFERENCES stations(id),
    lat REAL,
    lon REAL,
    description TEXT NOT NULL,
    contact_phone TEXT,
    language TEXT NOT NULL CHECK (language IN ('zh', 'en')),
    accepted INTEGER NOT NULL DEFAULT 0 CHECK (accepted IN (0, 1)),
    awaiting_courier INTEGER NOT NULL DEFAULT 0 CHECK (awaiting_courier IN (0, 1)),
    send_backs INTEGER NOT NULL DEFAULT 0 CHECK (send_backs >= 0),
    reopens INTEGER NOT NULL DEFAULT 0 CHECK (reopens >= 0),
    send_back_until INTEGER,
    merged_into INTEGER REFERENCES appeals(id),
    version INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((state = 'closed') = (outcome IS NOT NULL)),
    CHECK ((outcome = 'merged') = (merged_into IS NOT NULL)),
    CHECK (state NOT IN ('handling', 'feedback') OR unit_id IS NOT NULL)
);
CREATE INDEX appeals_state_unit ON appeals(state, unit_id);
CREATE INDEX appeals_courier ON appeals(courier_id, id);
CREATE INDEX appeals_created ON appeals(created_at);

CREATE TABLE drafts (
    courier_id INTEGER PRIMARY KEY REFERENCES people(telegram_id),
    step TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    updated_at INTEGER NOT NULL
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    event TEXT NOT NULL CHECK (event IN ('submit','withdraw','assign','reassign','reject','merge','accept','send_back','ask','answer','note','resolve','rate_satisfied','rate_fairly_satisfied','rate_unsatisfied','auto_close')),
    actor_id INTEGER,
    actor_role TEXT NOT NULL CHECK (actor_role IN ('courier', 'staff', 'coordinator', 'system')),
    from_state TEXT NOT NULL CHECK (from_state IN ('collecting','assessing','handling','feedback','closed')),
    to_state TEXT NOT NULL CHECK (to_state IN ('collecting','assessing','handling','feedback','closed')),
    unit_id TEXT,
    note TEXT,
    on_time INTEGER CHECK (on_time IN (0, 1)),
    at INTEGER NOT NULL
);
CREATE INDEX events_appeal ON events(appeal_id, id);
CREATE INDEX events_event_at ON events(event, at);

-- The ledger is append-only; only notes and the actor may later be erased for privacy.
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event ledger is append-only');
END;
CREATE TRIGGER events_no_rewrite
BEFORE UPDATE OF id, appeal_id, event, actor_role, from_state, to_state, unit_id, on_time, at
ON events
BEGIN
    SELECT RAISE(ABORT, 'the event ledger is append-only');
END;

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    event_id INTEGER REFERENCES events(id),
    kind TEXT NOT NULL CHECK (kind IN ('photo', 'voice', 'document')),
    file_id TEXT NOT NULL,
    file_unique_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX attachments_appeal ON attachments(appeal_id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    appeal_id INTEGER REFERENCES appeals(id),
    event_id INTEGER REFERENCES events(id),
    template TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX outbox_pending ON outbox(not_before, id) WHERE status = 'pending';

CREATE TABLE timers (
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    kind TEXT NOT NULL CHECK (kind IN ('triage', 'accept', 'handle', 'feedback')),
    due_at INTEGER,
    remaining_s INTEGER CHECK (remaining_s >= 0),
    set_at INTEGER NOT NULL,
    PRIMARY KEY (appeal_id, kind),
    CHECK ((due_at IS NULL) <> (remaining_s IS NULL))
) WITHOUT ROWID;
CREATE INDEX timers_due ON timers(due_at) WHERE due_at IS NOT NULL;
""",
    ),
]

MIGRATIONS.append(
    (
        "prompts (text a person owes the bot) and staff invites",
        """
CREATE TABLE prompts (
    telegram_id INTEGER PRIMARY KEY REFERENCES people(telegram_id),
    appeal_id INTEGER REFERENCES appeals(id),
    verb TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);

CREATE TABLE invites (
    code TEXT PRIMARY KEY,
    unit_id TEXT NOT NULL REFERENCES units(id),
    created_by INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_by INTEGER,
    used_at INTEGER,
    CHECK ((used_by IS NULL) = (used_at IS NULL))
);
""",
    )
)

MIGRATIONS.append(
    (
        "timers climb a ladder (reminder, deadline, escalation) and follow-ups; appeal links",
        """
CREATE TABLE timers_new (
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    kind TEXT NOT NULL CHECK (kind IN ('triage', 'accept', 'handle', 'feedback', 'followup')),
    due_at INTEGER,
    remaining_s INTEGER CHECK (remaining_s >= 0),
    set_at INTEGER NOT NULL,
    stage TEXT NOT NULL DEFAULT 'remind' CHECK (stage IN ('remind', 'due', 'escalate', 'done')),
    fire_at INTEGER,
    PRIMARY KEY (appeal_id, kind),
    CHECK ((due_at IS NULL) <> (remaining_s IS NULL)),
    CHECK (fire_at IS NULL OR due_at IS NOT NULL)
) WITHOUT ROWID;
INSERT INTO timers_new (appeal_id, kind, due_at, remaining_s, set_at, stage, fire_at)
    SELECT appeal_id, kind, due_at, remaining_s, set_at, 'due', due_at FROM timers;
DROP TABLE timers;
ALTER TABLE timers_new RENAME TO timers;
CREATE INDEX timers_due ON timers(due_at) WHERE due_at IS NOT NULL;
CREATE INDEX timers_fire ON timers(fire_at) WHERE fire_at IS NOT NULL;

CREATE TABLE appeal_links (
    parent_id INTEGER NOT NULL REFERENCES appeals(id),
    child_id INTEGER NOT NULL REFERENCES appeals(id),
    kind TEXT NOT NULL CHECK (kind IN ('followup', 'hotspot')),
    PRIMARY KEY (parent_id, child_id)
) WITHOUT ROWID;
CREATE INDEX appeal_links_child ON appeal_links(child_id);
""",
    )
)

MIGRATIONS.append(
    (
        "station R*Tree index; last shared locations; appeals remember when they were anonymised",
        """
-- A stable integer key per station for the R*Tree (a rowid may change on VACUUM).
ALTER TABLE stations ADD COLUMN index_key INTEGER;
UPDATE stations SET index_key = rowid;
CREATE UNIQUE INDEX stations_index_key ON stations(index_key);
DROP INDEX stations_lat_lon;

-- Open stations only: a box per station, with its exact coordinates and amenity bits beside it.
CREATE VIRTUAL TABLE station_index USING rtree(
    index_key, min_lat, max_lat, min_lon, max_lon, +lat, +lon, +amenity_bits
);

CREATE TRIGGER stations_index_insert AFTER INSERT ON stations
BEGIN
    UPDATE stations SET index_key = (SELECT coalesce(max(index_key), 0) + 1 FROM stations)
        WHERE rowid = NEW.rowid AND NEW.index_key IS NULL;
    INSERT INTO station_index
        SELECT s.index_key, s.lat, s.lat, s.lon, s.lon, s.lat, s.lon, (instr(s.amenities, '"water"') > 0) | ((instr(s.amenities, '"charging"') > 0) << 1) | ((instr(s.amenities, '"rest"') > 0) << 2) | ((instr(s.amenities, '"microwave"') > 0) << 3) | ((instr(s.amenities, '"toilet"') > 0) << 4) | ((instr(s.amenities, '"first_aid"') > 0) << 5)
        FROM stations s WHERE s.rowid = NEW.rowid AND s.active = 1;
END;

CREATE TRIGGER stations_index_update AFTER UPDATE OF lat, lon, amenities, active ON stations
WHEN OLD.lat IS NOT NEW.lat OR OLD.lon IS NOT NEW.lon OR OLD.amenities IS NOT NEW.amenities
    OR OLD.active IS NOT NEW.active
BEGIN
    DELETE FROM station_index WHERE index_key = OLD.index_key;
    INSERT INTO station_index SELECT NEW.index_key, NEW.lat, NEW.lat, NEW.lon, NEW.lon, NEW.lat, NEW.lon, (instr(NEW.amenities, '"water"') > 0) | ((instr(NEW.amenities, '"charging"') > 0) << 1) | ((instr(NEW.amenities, '"rest"') > 0) << 2) | ((instr(NEW.amenities, '"microwave"') > 0) << 3) | ((instr(NEW.amenities, '"toilet"') > 0) << 4) | ((instr(NEW.amenities, '"first_aid"') > 0) << 5) WHERE NEW.active = 1;
END;

CREATE TRIGGER stations_index_delete AFTER DELETE ON stations
BEGIN
    DELETE FROM station_index WHERE index_key = OLD.index_key;
END;

INSERT INTO station_index
    SELECT s.index_key, s.lat, s.lat, s.lon, s.lon, s.lat, s.lon, (instr(s.amenities, '"water"') > 0) | ((instr(s.amenities, '"charging"') > 0) << 1) | ((instr(s.amenities, '"rest"') > 0) << 2) | ((instr(s.amenities, '"microwave"') > 0) << 3) | ((instr(s.amenities, '"toilet"') > 0) << 4) | ((instr(s.amenities, '"first_aid"') > 0) << 5)
    FROM stations s WHERE s.active = 1;

-- Where a courier last shared their location, for the amenity buttons (callback data cannot hold it).
CREATE TABLE last_locations (
    telegram_id INTEGER PRIMARY KEY REFERENCES people(telegram_id),
    lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    accuracy_m REAL CHECK (accuracy_m IS NULL OR accuracy_m >= 0),
    at INTEGER NOT NULL
);
CREATE INDEX last_locations_at ON last_locations(at);

-- Privacy: an appeal whose courier's texts, files and identity were removed.
ALTER TABLE appeals ADD COLUMN anonymised_at INTEGER;
CREATE INDEX appeals_retention ON appeals(updated_at) WHERE anonymised_at IS NULL;
""",
    )
)

MIGRATIONS.append(
    (
        "scheduled digests, each slot queued once",
        """
CREATE TABLE digest_slots (
    kind TEXT NOT NULL CHECK (kind IN ('daily', 'weekly')),
    slot INTEGER NOT NULL,
    queued INTEGER NOT NULL CHECK (queued IN (0, 1)),
    PRIMARY KEY (kind, slot)
) WITHOUT ROWID;
""",
    )
)

MIGRATIONS.append(
    (
        "updates already handled, so a redelivered update changes nothing",
        """
CREATE TABLE handled_updates (
    update_id INTEGER NOT NULL,
    digest TEXT NOT NULL,
    handled_at INTEGER NOT NULL,
    PRIMARY KEY (update_id, digest)
) WITHOUT ROWID;
CREATE INDEX handled_updates_at ON handled_updates(handled_at);
""",
    )
)

MIGRATIONS.append(
    (
        "merged appeals found by an index (the followers of an appeal hear of its accept and result)",
        """
-- Without it, every accept, resolve and auto-close scanned all appeals for merged_into (bench/transitions.py).
CREATE INDEX appeals_merged_into ON appeals(merged_into) WHERE merged_into IS NOT NULL;
""",
    )
)

MIGRATIONS.append(
    (
        "each appeal's nearest deadline on its row, so a queue reads its first page from an index",
        """
-- /queue and /triage ordered every open appeal of a unit by a subquery over its timers, which grew
-- with the backlog (bench/throughput.py: 1.7 ms a list on the million-appeal fixture).
ALTER TABLE appeals ADD COLUMN next_due INTEGER;
UPDATE appeals SET next_due = (SELECT min(t.due_at) FROM timers t WHERE t.appeal_id = appeals.id)
    WHERE id IN (SELECT appeal_id FROM timers WHERE due_at IS NOT NULL);
CREATE INDEX appeals_unit_queue ON appeals(unit_id, next_due, id) WHERE state IN ('handling', 'feedback');
CREATE INDEX appeals_triage_queue ON appeals(next_due, id) WHERE state = 'assessing';
""",
    )
)

MIGRATIONS.append(
    (
        "the digest's questions to the ledger answered from its indexes alone",
        """
-- The digest's counts take appeal ids by event and time, and look into each appeal's history for
-- its assignment and an on-time accept: with those columns in the indexes, SQLite no longer reads
-- the ledger's rows one by one (bench/digest.py: its SQL 73 -> 43 ms on a million appeals).
DROP INDEX events_event_at;
CREATE INDEX events_event_at ON events(event, at, appeal_id, to_state);
DROP INDEX events_appeal;
CREATE INDEX events_appeal ON events(appeal_id, id, event, at, on_time);
""",
    )
)

MIGRATIONS.append(
    (
        "stations' names and addresses in English, for English readers",
        """
-- Empty where the station file gives none: readers then see the Chinese. The R*Tree triggers
-- watch lat, lon, amenities and active only, so these columns leave the index alone.
ALTER TABLE stations ADD COLUMN name_en TEXT NOT NULL DEFAULT '';
ALTER TABLE stations ADD COLUMN address_en TEXT NOT NULL DEFAULT '';
""",
    )
)

MIGRATIONS.append(
    (
        "the messages that show an appeal in each chat, kept current; a notice's parts sent so far",
        """
-- One card per appeal per chat is edited in place as the appeal moves on, and buttons that no
-- longer apply are taken away: the bot remembers which of its messages show which appeal.
-- kind 'card': the appeal's card; 'buttons': a notice whose buttons answer it (a rating, a reply).
CREATE TABLE appeal_messages (
    chat_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    kind TEXT NOT NULL CHECK (kind IN ('card', 'buttons')),
    template TEXT,
    version INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (chat_id, message_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX appeal_messages_card ON appeal_messages(appeal_id, chat_id) WHERE kind = 'card';
CREATE INDEX appeal_messages_appeal ON appeal_messages(appeal_id, version);

-- A notice sent in several parts (its card, then albums and voice notes) resumes after a failure
-- at the part it stopped on.
ALTER TABLE outbox ADD COLUMN parts_sent INTEGER NOT NULL DEFAULT 0;
""",
    )
)

MIGRATIONS.append(
    (
        "prompts name what they ask for by the lifecycle event, not by a button's private verb",
        """
UPDATE prompts SET verb = CASE verb
    WHEN 'sb' THEN 'send_back'
    WHEN 'res' THEN 'resolve'
    WHEN 'rej' THEN 'reject'
    WHEN 'mrg' THEN 'merge'
    WHEN 'ans' THEN 'answer'
    WHEN 'ru' THEN 'rate_unsatisfied'
    ELSE verb
END;
-- 'ask' and 'note' were already the events' names. Anything else no bot can finish: drop it.
DELETE FROM prompts WHERE verb NOT IN
    ('send_back', 'ask', 'note', 'resolve', 'reject', 'merge', 'answer', 'rate_unsatisfied');
""",
    )
)

MIGRATIONS.append(
    (
        "invite codes can be revoked; wrong /join guesses are counted per person",
        """
-- A revoked code also has its expiry moved before the revocation, so no redemption takes it.
ALTER TABLE invites ADD COLUMN revoked_at INTEGER;
ALTER TABLE invites ADD COLUMN revoked_by INTEGER;

CREATE TABLE join_failures (
    telegram_id INTEGER NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX join_failures_by_person ON join_failures(telegram_id, at);

-- When the coordinators were last told of a person's burst of wrong guesses: one notice a burst.
CREATE TABLE join_bursts (
    telegram_id INTEGER PRIMARY KEY,
    noticed_at INTEGER NOT NULL
);
""",
    )
)

MIGRATIONS.append(
    (
        "filing limits, and the outbox read chat by chat",
        """
-- A coordinator may lift a person's filing limits: who did, and when (NULL: the limits apply).
ALTER TABLE people ADD COLUMN filing_unlimited_by INTEGER;
ALTER TABLE people ADD COLUMN filing_unlimited_at INTEGER;
-- The sender reads the oldest pending message of each chat, so one busy chat holds no other back.
CREATE INDEX outbox_pending_chat ON outbox(chat_id, id) WHERE status = 'pending';
""",
    )
)
MIGRATIONS.append(
    (
        "a typed place of its own",
        """
-- Where the courier said it happened, in their own words, when no station was picked (was a line of the description).
ALTER TABLE appeals ADD COLUMN place TEXT;
""",
    )
)

MIGRATIONS.append(
    (
        "the station index holds amenity bits in its entry ids, and no auxiliary columns",
        """
-- The nearest-station lookup read each station's exact coordinates and amenity bits from the
-- R*Tree's auxiliary columns, which live in a table of their own: a lookup per row found, five
-- times the cost of the box itself (bench/stations.py). The tree now holds only the boxes, and
-- each entry's id is the station's index_key times 65,536 plus its amenity bits (bit i is
-- domain.stations_file.AMENITIES[i]), which the tree reads from the node it is visiting.
DROP TRIGGER stations_index_insert;
DROP TRIGGER stations_index_update;
DROP TRIGGER stations_index_delete;
DROP TABLE station_index;

CREATE VIRTUAL TABLE station_index USING rtree(entry, min_lat, max_lat, min_lon, max_lon);

CREATE TRIGGER stations_index_insert AFTER INSERT ON stations
BEGIN
    UPDATE stations SET index_key = (SELECT coalesce(max(index_key), 0) + 1 FROM stations)
        WHERE rowid = NEW.rowid AND NEW.index_key IS NULL;
    INSERT INTO station_index
        SELECT s.index_key * 65536
            + (instr(s.amenities, '"water"') > 0)
            + ((instr(s.amenities, '"charging"') > 0) << 1)
            + ((instr(s.amenities, '"rest"') > 0) << 2)
            + ((instr(s.amenities, '"microwave"') > 0) << 3)
            + ((instr(s.amenities, '"toilet"') > 0) << 4)
            + ((instr(s.amenities, '"first_aid"') > 0) << 5),
            s.lat, s.lat, s.lon, s.lon
        FROM stations s WHERE s.rowid = NEW.rowid AND s.active = 1;
END;

CREATE TRIGGER stations_index_update AFTER UPDATE OF lat, lon, amenities, active ON stations
WHEN OLD.lat IS NOT NEW.lat OR OLD.lon IS NOT NEW.lon OR OLD.amenities IS NOT NEW.amenities
    OR OLD.active IS NOT NEW.active
BEGIN
    DELETE FROM station_index WHERE entry = OLD.index_key * 65536
        + (instr(OLD.amenities, '"water"') > 0)
        + ((instr(OLD.amenities, '"charging"') > 0) << 1)
        + ((instr(OLD.amenities, '"rest"') > 0) << 2)
        + ((instr(OLD.amenities, '"microwave"') > 0) << 3)
        + ((instr(OLD.amenities, '"toilet"') > 0) << 4)
        + ((instr(OLD.amenities, '"first_aid"') > 0) << 5);
    INSERT INTO station_index
        SELECT NEW.index_key * 65536
            + (instr(NEW.amenities, '"water"') > 0)
            + ((instr(NEW.amenities, '"charging"') > 0) << 1)
            + ((instr(NEW.amenities, '"rest"') > 0) << 2)
            + ((instr(NEW.amenities, '"microwave"') > 0) << 3)
            + ((instr(NEW.amenities, '"toilet"') > 0) << 4)
            + ((instr(NEW.amenities, '"first_aid"') > 0) << 5),
            NEW.lat, NEW.lat, NEW.lon, NEW.lon
        WHERE NEW.active = 1;
END;

CREATE TRIGGER stations_index_delete AFTER DELETE ON stations
BEGIN
    DELETE FROM station_index WHERE entry = OLD.index_key * 65536
        + (instr(OLD.amenities, '"water"') > 0)
        + ((instr(OLD.amenities, '"charging"') > 0) << 1)
        + ((instr(OLD.amenities, '"rest"') > 0) << 2)
        + ((instr(OLD.amenities, '"microwave"') > 0) << 3)
        + ((instr(OLD.amenities, '"toilet"') > 0) << 4)
        + ((instr(OLD.amenities, '"first_aid"') > 0) << 5);
END;

INSERT INTO station_index
    SELECT s.index_key * 65536
        + (instr(s.amenities, '"water"') > 0)
        + ((instr(s.amenities, '"charging"') > 0) << 1)
        + ((instr(s.amenities, '"rest"') > 0) << 2)
        + ((instr(s.amenities, '"microwave"') > 0) << 3)
        + ((instr(s.amenities, '"toilet"') > 0) << 4)
        + ((instr(s.amenities, '"first_aid"') > 0) << 5),
        s.lat, s.lat, s.lon, s.lon
    FROM stations s WHERE s.active = 1;
""",
    )
)


MIGRATIONS.append(
    (
        "value sets that grow with the code leave the schema: appeals, the ledger and timers rebuilt without them",
        """
-- CHECKs over states, outcomes, priorities, events, roles, timer kinds and stages named every value,
-- so each new one needed a table rebuild. SQLite's way to change a table's constraints
-- (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes"): a new
-- table, the rows copied, the old one dropped, the new one renamed, its indexes and triggers made
-- again exactly. migrate() runs this with foreign keys off and checks them all before committing.
-- CHECKs over fixed shapes stay: flags, counts, which states need a unit, an outcome, a merge target.
CREATE TABLE appeals_new (
    id INTEGER PRIMARY KEY,
    courier_id INTEGER REFERENCES people(telegram_id),
    category TEXT NOT NULL,
    priority TEXT NOT NULL DEFAULT 'normal',
    state TEXT NOT NULL,
    outcome TEXT,
    unit_id TEXT REFERENCES units(id),
    station_id TEXT REFERENCES stations(id),
    lat REAL,
    lon REAL,
    description TEXT NOT NULL,
    contact_phone TEXT,
    language TEXT NOT NULL CHECK (language IN ('zh', 'en')),
    accepted INTEGER NOT NULL DEFAULT 0 CHECK (accepted IN (0, 1)),
    awaiting_courier INTEGER NOT NULL DEFAULT 0 CHECK (awaiting_courier IN (0, 1)),
    send_backs INTEGER NOT NULL DEFAULT 0 CHECK (send_backs >= 0),
    reopens INTEGER NOT NULL DEFAULT 0 CHECK (reopens >= 0),
    send_back_until INTEGER,
    merged_into INTEGER REFERENCES appeals(id),
    version INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    anonymised_at INTEGER,
    next_due INTEGER,
    place TEXT,
    CHECK ((state = 'closed') = (outcome IS NOT NULL)),
    CHECK ((outcome = 'merged') = (merged_into IS NOT NULL)),
    CHECK (state NOT IN ('handling', 'feedback') OR unit_id IS NOT NULL)
);
INSERT INTO appeals_new (
    id, courier_id, category, priority, state, outcome, unit_id, station_id, lat, lon, description,
    contact_phone, language, accepted, awaiting_courier, send_backs, reopens, send_back_until,
    merged_into, version, created_at, updated_at, anonymised_at, next_due, place
)
    SELECT id, courier_id, category, priority, state, outcome, unit_id, station_id, lat, lon, description,
        contact_phone, language, accepted, awaiting_courier, send_backs, reopens, send_back_until,
        merged_into, version, created_at, updated_at, anonymised_at, next_due, place
    FROM appeals;
DROP TABLE appeals;
ALTER TABLE appeals_new RENAME TO appeals;
CREATE INDEX appeals_state_unit ON appeals(state, unit_id);
CREATE INDEX appeals_courier ON appeals(courier_id, id);
CREATE INDEX appeals_created ON appeals(created_at);
CREATE INDEX appeals_retention ON appeals(updated_at) WHERE anonymised_at IS NULL;
CREATE INDEX appeals_merged_into ON appeals(merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX appeals_unit_queue ON appeals(unit_id, next_due, id) WHERE state IN ('handling', 'feedback');
CREATE INDEX appeals_triage_queue ON appeals(next_due, id) WHERE state = 'assessing';

CREATE TABLE events_new (
    id INTEGER PRIMARY KEY,
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    event TEXT NOT NULL,
    actor_id INTEGER,
    actor_role TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    unit_id TEXT,
    note TEXT,
    on_time INTEGER CHECK (on_time IN (0, 1)),
    at INTEGER NOT NULL
);
INSERT INTO events_new (id, appeal_id, event, actor_id, actor_role, from_state, to_state, unit_id, note, on_time, at)
    SELECT id, appeal_id, event, actor_id, actor_role, from_state, to_state, unit_id, note, on_time, at FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_event_at ON events(event, at, appeal_id, to_state);
CREATE INDEX events_appeal ON events(appeal_id, id, event, at, on_time);

-- The ledger is append-only; only notes and the actor may later be erased for privacy.
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event ledger is append-only');
END;
CREATE TRIGGER events_no_rewrite
BEFORE UPDATE OF id, appeal_id, event, actor_role, from_state, to_state, unit_id, on_time, at
ON events
BEGIN
    SELECT RAISE(ABORT, 'the event ledger is append-only');
END;

CREATE TABLE timers_new (
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    kind TEXT NOT NULL,
    due_at INTEGER,
    remaining_s INTEGER CHECK (remaining_s >= 0),
    set_at INTEGER NOT NULL,
    stage TEXT NOT NULL DEFAULT 'remind',
    fire_at INTEGER,
    PRIMARY KEY (appeal_id, kind),
    CHECK ((due_at IS NULL) <> (remaining_s IS NULL)),
    CHECK (fire_at IS NULL OR due_at IS NOT NULL)
) WITHOUT ROWID;
INSERT INTO timers_new (appeal_id, kind, due_at, remaining_s, set_at, stage, fire_at)
    SELECT appeal_id, kind, due_at, remaining_s, set_at, stage, fire_at FROM timers;
DROP TABLE timers;
ALTER TABLE timers_new RENAME TO timers;
CREATE INDEX timers_due ON timers(due_at) WHERE due_at IS NOT NULL;
CREATE INDEX timers_fire ON timers(fire_at) WHERE fire_at IS NOT NULL;
""",
    )
)

MIGRATIONS.append(
    (
        "the ledger of people actions: filing limits lifted and applied again, people muted and unmuted",
        """
-- Who did what to whom, when, and until when. person_id is whom; appeal_id the appeal that named
-- them to the coordinator; until_at ends a mute; noticed_at is when the muted person was told once.
CREATE TABLE people_actions (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL,
    appeal_id INTEGER,
    action TEXT NOT NULL,
    actor_id INTEGER,
    at INTEGER NOT NULL,
    until_at INTEGER,
    noticed_at INTEGER
);
CREATE INDEX people_actions_person ON people_actions(person_id, id);
CREATE INDEX people_actions_at ON people_actions(at);
""",
    )
)


MIGRATIONS.append(
    (
        "extensions (延期): what a unit asked for, what a coordinator granted, and how the deadline moved",
        """
ALTER TABLE appeals ADD COLUMN extension_pending INTEGER NOT NULL DEFAULT 0 CHECK (extension_pending IN (0, 1));
ALTER TABLE appeals ADD COLUMN extensions INTEGER NOT NULL DEFAULT 0 CHECK (extensions >= 0);
CREATE TABLE extensions (
    request_id INTEGER PRIMARY KEY REFERENCES events(id),
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    asked_days INTEGER NOT NULL CHECK (asked_days > 0),
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'refused', 'lapsed')),
    granted_days INTEGER CHECK (granted_days IS NULL OR granted_days > 0),
    decision_id INTEGER REFERENCES events(id),
    due_before INTEGER,
    due_after INTEGER,
    asked_at INTEGER NOT NULL,
    decided_at INTEGER,
    CHECK ((state = 'approved') = (granted_days IS NOT NULL))
);
CREATE INDEX extensions_appeal ON extensions(appeal_id, state);
""",
    )
)


MIGRATIONS.append(
    (
        "canned replies (常用回复): a unit's reply templates, from the config or added by its staff",
        """
-- source: 'config' (replaced from the config at every start) or 'staff' (added with /replies).
CREATE TABLE canned_replies (
    id INTEGER PRIMARY KEY,
    unit_id TEXT NOT NULL REFERENCES units(id),
    text TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (unit_id, text)
);
""",
    )
)

MIGRATIONS.append(
    (
        "unit desks: a unit's Telegram group that gets its cards, and each appeal's topic there",
        """
CREATE TABLE unit_desks (
    unit_id TEXT PRIMARY KEY REFERENCES units(id),
    chat_id INTEGER NOT NULL UNIQUE CHECK (chat_id < 0),
    title TEXT NOT NULL DEFAULT '',
    topics INTEGER NOT NULL DEFAULT 0 CHECK (topics IN (0, 1)),
    language TEXT CHECK (language IN ('zh', 'en')),
    linked_by INTEGER NOT NULL,
    linked_at INTEGER NOT NULL,
    broken_at INTEGER,
    broken_reason TEXT
);
CREATE TABLE desk_topics (
    chat_id INTEGER NOT NULL,
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    thread_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (chat_id, appeal_id)
);
CREATE INDEX desk_topics_appeal ON desk_topics(appeal_id);
""",
    )
)


MIGRATIONS.append(
    (
        "co-handling (协办): units beside the lead, each with its own part, deadlines and reminders",
        """
ALTER TABLE appeals ADD COLUMN co_units TEXT NOT NULL DEFAULT '';
ALTER TABLE appeals ADD COLUMN parts_open INTEGER NOT NULL DEFAULT 0 CHECK (parts_open >= 0);
ALTER TABLE appeals ADD COLUMN parts_unsigned INTEGER NOT NULL DEFAULT 0 CHECK (parts_unsigned >= 0);
ALTER TABLE appeals ADD COLUMN parts_waived INTEGER NOT NULL DEFAULT 0 CHECK (parts_waived IN (0, 1));
CREATE TABLE cohandlers (
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    unit_id TEXT NOT NULL REFERENCES units(id),
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'accepted', 'done')),
    added_id INTEGER NOT NULL REFERENCES events(id),
    added_at INTEGER NOT NULL,
    accept_due INTEGER NOT NULL,
    part_due INTEGER NOT NULL,
    accepted_at INTEGER,
    accept_on_time INTEGER CHECK (accept_on_time IN (0, 1)),
    done_id INTEGER REFERENCES events(id),
    done_at INTEGER,
    reminded INTEGER NOT NULL DEFAULT 0 CHECK (reminded IN (0, 1, 2)),
    PRIMARY KEY (appeal_id, unit_id),
    CHECK ((state = 'done') = (done_id IS NOT NULL)),
    CHECK ((state = 'open') = (accepted_at IS NULL))
);
CREATE INDEX cohandlers_added ON cohandlers(added_at);
CREATE INDEX cohandlers_waiting ON cohandlers(reminded, state) WHERE state != 'done' AND reminded < 2;
""",
    )
)


MIGRATIONS.append(
    (
        "answers before filing (知识库): the answers, their search index and keywords, and the direct answers given",
        """
CREATE TABLE answers (
    id TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    text_zh TEXT NOT NULL,
    text_en TEXT NOT NULL,
    keywords TEXT NOT NULL DEFAULT '[]',
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);
CREATE INDEX answers_category ON answers(category, id);
CREATE VIRTUAL TABLE answer_index USING fts5(body, tokenize = 'trigram');
CREATE TABLE answer_keywords (
    keyword TEXT NOT NULL,
    answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    PRIMARY KEY (keyword, answer_id)
) WITHOUT ROWID;
CREATE TRIGGER answers_indexed AFTER INSERT ON answers BEGIN
    INSERT INTO answer_index (rowid, body) VALUES (new.rowid,
        new.title_zh || ' ' || new.title_en || ' ' || new.text_zh || ' ' || new.text_en || ' '
        || (SELECT coalesce(group_concat(value, ' '), '') FROM json_each(new.keywords)));
    INSERT OR IGNORE INTO answer_keywords (keyword, answer_id) SELECT value, new.id FROM json_each(new.keywords);
END;
CREATE TRIGGER answers_reindexed AFTER UPDATE ON answers BEGIN
    DELETE FROM answer_index WHERE rowid = old.rowid;
    INSERT INTO answer_index (rowid, body) VALUES (new.rowid,
        new.title_zh || ' ' || new.title_en || ' ' || new.text_zh || ' ' || new.text_en || ' '
        || (SELECT coalesce(group_concat(value, ' '), '') FROM json_each(new.keywords)));
    DELETE FROM answer_keywords WHERE answer_id = old.id;
    INSERT OR IGNORE INTO answer_keywords (keyword, answer_id) SELECT value, new.id FROM json_each(new.keywords);
END;
CREATE TRIGGER answers_unindexed AFTER DELETE ON answers BEGIN
    DELETE FROM answer_index WHERE rowid = old.rowid;
    DELETE FROM answer_keywords WHERE answer_id = old.id;
END;
CREATE TABLE direct_answers (
    id INTEGER PRIMARY KEY,
    category TEXT NOT NULL,
    answer_id TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX direct_answers_at ON direct_answers(at);
""",
    )
)

MIGRATIONS.append(
    (
        "outreach: who hears about what, sends to an audience counted, notices, and the outbox's outreach lane",
        """
-- A person's choices: each topic off until they say yes; asked_at, once they were asked (or chose).
CREATE TABLE outreach_choices (
    telegram_id INTEGER PRIMARY KEY,
    surveys INTEGER NOT NULL DEFAULT 0 CHECK (surveys IN (0, 1)),
    activities INTEGER NOT NULL DEFAULT 0 CHECK (activities IN (0, 1)),
    notices INTEGER NOT NULL DEFAULT 0 CHECK (notices IN (0, 1)),
    asked_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One send to an audience: what it is (a notice, a survey...), what it refers to, and its delivery counted.
CREATE TABLE outreach_sends (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    topic TEXT NOT NULL,
    created_by INTEGER,
    created_at INTEGER NOT NULL,
    audience INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0,
    dead INTEGER NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0,
    stopped INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outreach_sends_kind ON outreach_sends(kind, ref);

CREATE TABLE outreach_notices (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    photo TEXT,
    link_kind TEXT,
    link_ref TEXT,
    created_by INTEGER,
    created_at INTEGER NOT NULL
);

-- A coordinator's unfinished notice dialog.
CREATE TABLE outreach_drafts (
    telegram_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL DEFAULT '{}',
    updated_at INTEGER NOT NULL
);

-- Lane 0: appeals' own notices; lane 1: outreach, sent only when lane 0 has nothing due.
ALTER TABLE outbox ADD COLUMN lane INTEGER NOT NULL DEFAULT 0 CHECK (lane IN (0, 1));
ALTER TABLE outbox ADD COLUMN send_id INTEGER REFERENCES outreach_sends(id);
CREATE INDEX outbox_pending_appeals ON outbox(chat_id, id) WHERE status = 'pending' AND lane = 0;
CREATE INDEX outbox_pending_outreach ON outbox(id) WHERE status = 'pending' AND lane = 1;
CREATE INDEX outbox_outreach_chat ON outbox(chat_id, id) WHERE status = 'pending' AND lane = 1;

-- Each outreach row that leaves 'pending' is counted on its send.
CREATE TRIGGER outbox_outreach_counted AFTER UPDATE OF status ON outbox
WHEN new.send_id IS NOT NULL AND old.status = 'pending' AND new.status != 'pending'
BEGIN
    UPDATE outreach_sends SET
        sent = sent + (new.status = 'sent'),
        blocked = blocked + (new.status = 'dead' AND (new.last_error LIKE 'forbidden%' OR new.last_error LIKE 'unreachable%')),
        stopped = stopped + (new.status = 'dead' AND new.last_error LIKE 'not listening%'),
        dead = dead + (new.status = 'dead' AND coalesce(new.last_error, '') NOT LIKE 'forbidden%'
            AND coalesce(new.last_error, '') NOT LIKE 'unreachable%' AND coalesce(new.last_error, '') NOT LIKE 'not listening%')
    WHERE id = new.send_id;
END;

-- A person whose first appeal is settled (rated, or closed unrated after the feedback window) is asked,
-- once, what they want to hear about: ten minutes later, after the appeal's own notices and the rating's thanks.
CREATE TRIGGER outreach_asked_after_first_close AFTER UPDATE OF state ON appeals
WHEN new.state = 'closed' AND old.state != 'closed' AND new.outcome IN ('resolved', 'auto_closed')
    AND new.courier_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM outreach_choices WHERE telegram_id = new.courier_id)
BEGIN
    INSERT INTO outreach_choices (telegram_id, asked_at, updated_at) VALUES (new.courier_id, new.updated_at, new.updated_at);
    INSERT INTO outbox (chat_id, template, params, not_before, created_at, lane)
        VALUES (new.courier_id, 'outreach.ask', '{}', new.updated_at + 600, new.updated_at, 1);
END;
""",
    )
)


MIGRATIONS.append(
    (
        "activities with sign-up: the activities, their places and waiting lists, attendance, the publishing dialog",
        """
CREATE TABLE activities (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '',
    starts_at INTEGER NOT NULL,
    station_id TEXT,
    address TEXT NOT NULL DEFAULT '',
    lat REAL,
    lon REAL,
    places INTEGER NOT NULL CHECK (places > 0),
    audience TEXT NOT NULL DEFAULT 'couriers' CHECK (audience IN ('couriers', 'everyone')),
    language TEXT CHECK (language IN ('zh', 'en')),
    signup_until INTEGER NOT NULL,
    reminded INTEGER NOT NULL DEFAULT 0 CHECK (reminded IN (0, 1)),
    created_by INTEGER,
    created_at INTEGER NOT NULL,
    CHECK (station_id IS NOT NULL OR address != '')
);
CREATE INDEX activities_starts ON activities(starts_at);
CREATE TABLE activity_signups (
    id INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES activities(id),
    person_id INTEGER NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN ('in', 'waiting')),
    at INTEGER NOT NULL,
    attended INTEGER CHECK (attended IN (0, 1)),
    UNIQUE (activity_id, person_id)
);
CREATE INDEX activity_signups_queue ON activity_signups(activity_id, state, id);
CREATE INDEX activity_signups_person ON activity_signups(person_id);
CREATE TRIGGER activity_places_insert BEFORE INSERT ON activity_signups
WHEN NEW.state = 'in' AND (SELECT count(*) FROM activity_signups WHERE activity_id = NEW.activity_id AND state = 'in')
    >= (SELECT places FROM activities WHERE id = NEW.activity_id)
BEGIN
    SELECT RAISE(ABORT, 'activity full');
END;
CREATE TRIGGER activity_places_update BEFORE UPDATE OF state ON activity_signups
WHEN NEW.state = 'in' AND OLD.state != 'in'
    AND (SELECT count(*) FROM activity_signups WHERE activity_id = NEW.activity_id AND state = 'in')
    >= (SELECT places FROM activities WHERE id = NEW.activity_id)
BEGIN
    SELECT RAISE(ABORT, 'activity full');
END;
CREATE TABLE activity_drafts (
    telegram_id INTEGER PRIMARY KEY,
    step TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
""",
    )
)


MIGRATIONS.append(
    (
        "surveys (问卷): surveys, couriers' progress, who answered, and the answers (unlinked when anonymous)",
        """
CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    anonymous INTEGER NOT NULL CHECK (anonymous IN (0, 1)),
    state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'open', 'closed')),
    imported_at INTEGER NOT NULL,
    opened_at INTEGER,
    closed_at INTEGER
);
CREATE TABLE survey_progress (
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    telegram_id INTEGER NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    answers TEXT NOT NULL DEFAULT '{}',
    awaiting_text INTEGER NOT NULL DEFAULT 0 CHECK (awaiting_text IN (0, 1)),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (survey_id, telegram_id)
) WITHOUT ROWID;
CREATE INDEX survey_progress_person ON survey_progress(telegram_id);
CREATE TABLE survey_takers (
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    telegram_id INTEGER NOT NULL,
    PRIMARY KEY (survey_id, telegram_id)
) WITHOUT ROWID;
CREATE INDEX survey_takers_person ON survey_takers(telegram_id);
CREATE TABLE survey_responses (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    telegram_id INTEGER,
    submitted_at INTEGER
);
CREATE INDEX survey_responses_survey ON survey_responses(survey_id);
CREATE INDEX survey_responses_person ON survey_responses(telegram_id) WHERE telegram_id IS NOT NULL;
CREATE TABLE survey_answers (
    response_id INTEGER NOT NULL REFERENCES survey_responses(id) ON DELETE CASCADE,
    question INTEGER NOT NULL,
    choice INTEGER,
    text TEXT,
    CHECK ((choice IS NULL) != (text IS NULL))
);
CREATE INDEX survey_answers_response ON survey_answers(response_id);
""",
    )
)


MIGRATIONS.append(
    (
        "micro-wishes (微心愿): a courier's small wish, its steps in a ledger of its own, and the text being typed",
        """
CREATE TABLE wishes (
    id INTEGER PRIMARY KEY,
    courier_id INTEGER,
    category TEXT NOT NULL,
    text TEXT NOT NULL,
    language TEXT NOT NULL,
    state TEXT NOT NULL,
    unit_id TEXT,
    place TEXT,
    reason TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX wishes_state ON wishes(state, id);
CREATE INDEX wishes_courier ON wishes(courier_id, state);
CREATE TABLE wish_events (
    id INTEGER PRIMARY KEY,
    wish_id INTEGER NOT NULL REFERENCES wishes(id),
    step TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor_id INTEGER,
    actor_role TEXT NOT NULL,
    unit_id TEXT,
    note TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX wish_events_step_at ON wish_events(step, at);
CREATE INDEX wish_events_wish ON wish_events(wish_id, id);
CREATE TABLE wish_dialogs (
    telegram_id INTEGER PRIMARY KEY,
    step TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
""",
    )
)

MIGRATIONS.append(
    (
        "co-handling parts by unit: a unit's open parts are found from its own rows, not by walking every appeal in hand",
        """
CREATE INDEX cohandlers_open_by_unit ON cohandlers(unit_id, part_due) WHERE state != 'done';
""",
    )
)

MIGRATIONS.append(
    (
        "outreach scheduled: a send's start and its cancellation",
        """
-- When a send's messages may start going (its rows' not_before), and when a coordinator cancelled it
-- before it started (its pending rows are then deleted).
ALTER TABLE outreach_sends ADD COLUMN starts_at INTEGER;
ALTER TABLE outreach_sends ADD COLUMN cancelled_at INTEGER;
UPDATE outreach_sends SET starts_at = created_at;
""",
    )
)


MIGRATIONS.append(
    (
        "activities in two languages: an English title, details and address beside the Chinese",
        """
ALTER TABLE activities ADD COLUMN title_en TEXT NOT NULL DEFAULT '';
ALTER TABLE activities ADD COLUMN details_en TEXT NOT NULL DEFAULT '';
ALTER TABLE activities ADD COLUMN address_en TEXT NOT NULL DEFAULT '';
""",
    )
)


MIGRATIONS.append(
    (
        "the outbox's dead letters found by an index (the /metrics gauge counts them on every scrape)",
        """
CREATE INDEX outbox_dead ON outbox(id) WHERE status = 'dead';
""",
    )
)

MIGRATIONS.append(
    (
        "appeals by courier and time: a filing limit reads a person's last day of filings, not every appeal they ever filed",
        """
CREATE INDEX appeals_courier_created ON appeals(courier_id, created_at);
""",
    )
)

MIGRATIONS.append(
    (
        "new outbox rows wake the sender in whichever worker process sends",
        """
-- Nothing on SQLite: one process writes the file and kicks its own sender (PostgreSQL: a NOTIFY).
""",
    )
)

MIGRATIONS.append(
    (
        "the nearest-station index's function names the schema its cube type lives in",
        """
-- Nothing on SQLite: its R*Tree needs no extension (PostgreSQL: pg_restore builds indexes with an empty search_path).
""",
    )
)

MIGRATIONS.append(
    (
        "the stations' nearest-first index on PostgreSQL holds a tiny box per station, which its splits measure",
        """
-- PostgreSQL's only: SQLite's R*Tree splits points by its own measure.
""",
    )
)

MIGRATIONS.append(
    (
        "tables an erasure left old row versions in, rewritten by the night's retention run",
        """
-- Written on PostgreSQL only (SQLite's secure_delete overwrites at once); here so both hold the same tables.
CREATE TABLE scrub_due (
    id INTEGER PRIMARY KEY,
    table_name TEXT NOT NULL
);
""",
    )
)


LATEST = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The migration count recorded in the database file."""
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn: sqlite3.Connection, target: int = LATEST) -> int:
    """Apply every migration after the file's version up to `target`, each atomically; return the new version.

    Foreign keys are off while a migration runs, as SQLite requires for rebuilding a table others
    point at (it can only be switched outside a transaction), and every key is checked before its
    commit: a migration that leaves a dangling reference rolls back whole.
    """
    current = schema_version(conn)
    if current > LATEST:
        raise RuntimeError(
            f"the database is at schema version {current}, newer than this bot ({LATEST}): upgrade the bot"
        )
    if current >= target:
        return current
    foreign_keys = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for version in range(current + 1, target + 1):
            _apply(conn, version, MIGRATIONS[version - 1][1])
    finally:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
    return schema_version(conn)


def _apply(conn: sqlite3.Connection, version: int, sql: str) -> None:
    try:
        # executescript would COMMIT a pending transaction first, so the whole script, its BEGIN
        # and its version bump, go in one call; the transaction stays open for the check.
        conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};")
        dangling = conn.execute("PRAGMA foreign_key_check").fetchmany(5)
        if dangling:
            raise RuntimeError(f"migration {version} would leave rows pointing at missing ones: {dangling}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
