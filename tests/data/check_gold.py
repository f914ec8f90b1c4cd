#!/usr/bin/env python3
"""Test helper: run every gold SQL of a question set on a SQLite file and fail loudly.

Usage:
    python3 tests/data/check_gold.py QUESTIONS.jsonl DATABASE.sqlite [--show N] [--max-ms MS]
    python3 tests/data/check_gold.py QUESTIONS.jsonl NAME=DATABASE.sqlite ... [--show N]

With NAME=PATH pairs, each line runs on the database named by its "db_id" field (a line without
db_id, or naming a database not given, fails).

Each line of QUESTIONS.jsonl is a JSON object with at least "id", "question", "sql" and
"category" (optional: "reference", "source"). A line fails when a field is missing, an id is
repeated, the SQL does not run, returns no rows, returns a row that is all NULL, or takes
longer than --max-ms milliseconds (default 1000), or ends in LIMIT n with a tie at the cut-off
(row n and row n+1 share the last column, the ranked value: the gold answer would be arbitrary). --show N prints the column names and the
first N rows of each result, for reading the answers by hand.

Exit status: 0 when every line passes, 1 otherwise. Also checks knowledge YAML examples:
pass a knowledge/<db>/examples.yml instead of a .jsonl (needs PyYAML).
"""

import json
import re
import sqlite3
import sys
import time
from collections import Counter

REQUIRED = ("id", "question", "sql", "category")


def load(path):
    """Return the list of question records in a .jsonl set or a knowledge examples.yml."""
    if path.endswith((".yml", ".yaml")):
        import yaml  # only for knowledge files

        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        return [
            {"id": f"example-{i + 1}", "question": e["question"], "sql": e["sql"], "category": "example"}
            for i, e in enumerate(doc.get("examples", []))
        ]
    records = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                records.append({"id": f"line-{n}", "_error": f"bad JSON: {e}"})
    return records


def main(argv):
    args = [a for a in argv[1:]]
    show = 0
    max_ms = 1000.0
    if "--show" in args:
        i = args.index("--show")
        show = int(args[i + 1])
        del args[i : i + 2]
    if "--max-ms" in args:
        i = args.index("--max-ms")
        max_ms = float(args[i + 1])
        del args[i : i + 2]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    questions, databases = args[0], args[1:]
    records = load(questions)
    named = dict(d.split("=", 1) for d in databases if "=" in d)
    conns = {k: sqlite3.connect(f"file:{v}?mode=ro", uri=True) for k, v in named.items()}
    default = None
    if not named:
        default = sqlite3.connect(f"file:{databases[0]}?mode=ro", uri=True)
    ids = Counter(r.get("id") for r in records)
    failures = 0
    slowest = (0.0, None)
    for r in records:
        rid = r.get("id")
        problems = []
        if "_error" in r:
            problems.append(r["_error"])
        missing = [k for k in REQUIRED if not r.get(k)]
        if missing and "_error" not in r:
            problems.append(f"missing fields {missing}")
        if ids[rid] > 1:
            problems.append("duplicate id")
        rows, cols, ms = [], [], 0.0
        conn = default if default is not None else conns.get(r.get("db_id"))
        if conn is None:
            problems.append(f"no database for db_id {r.get('db_id')!r}")
        elif r.get("sql"):
            try:
                start = time.perf_counter()
                cur = conn.execute(r["sql"])
                rows = cur.fetchall()
                ms = 1000 * (time.perf_counter() - start)
                cols = [d[0] for d in cur.description or []]
                if not rows:
                    problems.append("no rows")
                elif all(all(v is None for v in row) for row in rows):
                    problems.append("only NULL rows")
                if ms > max_ms:
                    problems.append(f"slow: {ms:.0f} ms")
                tie = _tie_at_cutoff(conn, r["sql"])
                if tie:
                    problems.append(tie)
                slowest = max(slowest, (ms, rid), key=lambda t: t[0])
            except sqlite3.Error as e:
                problems.append(f"SQL error: {e}")
        if problems:
            failures += 1
            print(f"FAIL {rid}: {'; '.join(problems)}")
        if show:
            print(f"--- {rid} [{r.get('category')}] {r.get('question')}  ({len(rows)} rows, {ms:.0f} ms)")
            print("    " + " | ".join(cols))
            for row in rows[:show]:
                print("    " + " | ".join(_fmt(v) for v in row))
    cats = Counter(r.get("category") for r in records)
    print(f"{len(records)} questions, {failures} failing; slowest {slowest[0]:.0f} ms ({slowest[1]})")
    print("categories: " + ", ".join(f"{k}={v}" for k, v in sorted(cats.items())))
    return 1 if failures else 0


def _tie_at_cutoff(conn, sql):
    """A message when `sql` ends in LIMIT n and rows n and n+1 tie on the ranked value.

    The ranked value is the result column named by the first ORDER BY term (its name without
    a table prefix), else the last column.
    """
    m = re.search(r"\bLIMIT\s+(\d+)\s*;?\s*$", sql, re.IGNORECASE)
    if not m:
        return None
    n = int(m.group(1))
    cur = conn.execute(sql[: m.start()] + f"LIMIT {n + 1}")
    rows = cur.fetchall()
    names = [d[0].lower() for d in cur.description]
    key = len(names) - 1
    order = re.findall(r"\bORDER\s+BY\s+([\w.]+)", sql[: m.start()], re.IGNORECASE)
    if order:
        term = order[-1].split(".")[-1].lower()
        if term in names:
            key = names.index(term)
    if len(rows) > n and rows[n][key] == rows[n - 1][key]:
        return f"tie at the LIMIT {n} cut-off ({rows[n][key]!r})"
    return None


def _fmt(v):
    return f"{v:.2f}" if isinstance(v, float) else str(v)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
