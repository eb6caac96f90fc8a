-- hubform plan store: one SQLite file (.hubform/plans.db by default, or
-- --state FILE / HUBFORM_STATE). hubform creates these tables itself; they
-- are written down here so that people can query plans with sqlite3:
--
--   sqlite3 .hubform/plans.db 'SELECT id, status, n_create, n_update FROM plans'
--   sqlite3 .hubform/plans.db "SELECT kind, hfid, action, changed FROM changes
--                              WHERE plan_id = 'abc123def456' AND action <> 'no-op'"
--   sqlite3 .hubform/plans.db "SELECT action, count(*) FROM all_changes
--                              WHERE plan_id = 'abc123def456' GROUP BY action"
--
-- A plan's changes are rows of `changes`, except the unchanged objects
-- apply has nothing to do with (no-ops that adopt nothing): those are in
-- `unchanged`, many to a row, since one row each made saving a large plan
-- several times slower. The view `all_changes` shows every change as a
-- row of the same columns as `changes`.
--
-- JSON columns hold compact JSON text; SQLite's json_extract() reads them.

PRAGMA user_version = 4;

CREATE TABLE IF NOT EXISTS plans (
	id               TEXT PRIMARY KEY,   -- 12 hex characters
	created_at       TEXT NOT NULL,      -- UTC, ISO-8601 with microseconds
	address          TEXT NOT NULL,      -- the target: its normalised address
	                                     -- (never a token), or local:/abs/path
	                                     -- of the embedded endpoint's database
	branch           TEXT NOT NULL,      -- target branch
	branch_is_default INTEGER NOT NULL DEFAULT 0, -- 1: branch was the server's
	                                     -- default branch when planned
	schema_hash      TEXT NOT NULL,      -- the target's schema hash at plan time
	manifest_digest  TEXT NOT NULL,      -- SHA-256 over the object files read
	checksum         TEXT NOT NULL,      -- SHA-256 over the plan's content
	status           TEXT NOT NULL CHECK (status IN
	                   ('planned', 'applying', 'applied', 'failed', 'stale')),
	n_create         INTEGER NOT NULL,
	n_update         INTEGER NOT NULL,
	n_noop           INTEGER NOT NULL,
	waves            INTEGER NOT NULL,
	apply_branch     TEXT,               -- hubform-<id> while/after applying
	apply_started_at TEXT,
	apply_finished_at TEXT,
	requests_sent    INTEGER,
	error            TEXT,               -- why the apply failed or went stale
	stack            TEXT NOT NULL DEFAULT 'default', -- the owning stack
	group_id         TEXT,               -- its ownership group's node id, when
	                                     -- the group existed at plan time
	partial          INTEGER NOT NULL DEFAULT 0, -- 1: --target/--exclude
	n_delete         INTEGER NOT NULL DEFAULT 0,
	n_forget         INTEGER NOT NULL DEFAULT 0, -- leave the stack, kept
	n_adopt          INTEGER NOT NULL DEFAULT 0  -- existing objects the stack
	                                     -- takes ownership of
);

CREATE TABLE IF NOT EXISTS changes (
	plan_id      TEXT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
	seq          INTEGER NOT NULL,       -- order within the plan
	id           TEXT NOT NULL,          -- stable: hash of action, kind, HFID
	action       TEXT NOT NULL CHECK (action IN
	               ('create', 'update', 'no-op', 'delete', 'forget')),
	kind         TEXT NOT NULL,
	hfid         TEXT NOT NULL,          -- JSON array of strings
	node_id      TEXT,                   -- live id; NULL for creates
	before       TEXT,                   -- JSON object: managed fields as read
	after        TEXT,                   -- JSON object: managed fields as stated
	changed      TEXT NOT NULL,          -- JSON array of changed field names
	deps         TEXT NOT NULL,          -- JSON array of change ids
	wave         INTEGER NOT NULL,
	fingerprint  TEXT NOT NULL,          -- SHA-256 of the live managed fields
	status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
	               ('pending', 'applied', 'failed', 'skipped')),
	error        TEXT,                   -- the server's message on failure
	started_at   REAL,                   -- Unix time
	finished_at  REAL,
	adopt        INTEGER NOT NULL DEFAULT 0, -- 1: apply adds the object to
	                                     -- the stack's group
	cascade_of   TEXT,                   -- delete only: the change whose
	                                     -- cascade removes this object
	sources      TEXT,                   -- JSON array of {file, line}
	PRIMARY KEY (plan_id, id)
);

CREATE TABLE IF NOT EXISTS unchanged (
	plan_id      TEXT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
	part         INTEGER NOT NULL,       -- 0, 1, ...
	changes      TEXT NOT NULL,          -- JSON array of up to 1024
	               -- [seq, id, kind, hfid, node_id, fields, fingerprint,
	               --  wave, sources], one to a line: action 'no-op',
	               -- before = after = fields, changed and deps [],
	               -- status 'pending', adopt 0
	PRIMARY KEY (plan_id, part)
);

-- No index by seq: a plan's rows are inserted in key order, and an index
-- by seq would take them at random (a third of the time of saving a large
-- plan). hubform reads a plan's rows by its key and orders them by seq
-- itself; stores made before drop the index they had.
DROP INDEX IF EXISTS changes_by_seq;
CREATE INDEX IF NOT EXISTS plans_by_created ON plans (created_at);
CREATE INDEX IF NOT EXISTS plans_by_target ON plans (address, branch, created_at);

-- Views: made after stores from older versions are upgraded (hubform
-- runs the text below this line once the tables have every column).

CREATE VIEW IF NOT EXISTS all_changes AS
	SELECT plan_id, seq, id, action, kind, hfid, node_id, before, after,
	       changed, deps, wave, fingerprint, status, error, started_at,
	       finished_at, adopt, cascade_of, sources FROM changes
	UNION ALL
	SELECT u.plan_id, json_extract(e.value, '$[0]'),
	       json_extract(e.value, '$[1]'), 'no-op',
	       json_extract(e.value, '$[2]'), coalesce(json_extract(e.value, '$[3]'), 'null'),
	       json_extract(e.value, '$[4]'), json_extract(e.value, '$[5]'),
	       json_extract(e.value, '$[5]'), '[]', '[]',
	       json_extract(e.value, '$[7]'), json_extract(e.value, '$[6]'),
	       'pending', NULL, NULL, NULL, 0, NULL,
	       json_extract(e.value, '$[8]')
	FROM unchanged AS u, json_each(u.changes) AS e;
