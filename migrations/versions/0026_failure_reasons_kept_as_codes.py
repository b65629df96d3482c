"""why a job or an import failed is kept as a sentence's code and values, not as text: said in
the reader's language when shown (issue 16)

Revision ID: 0026
Revises: 0032
Create Date: 2026-12-04

`jobs.error` and `import_runs.message` become JSON holding `{"code", "params"}`
(coopreg/core/sentences.py). What is already stored is read against the message catalogues
(English, Spanish, French, Portuguese): a sentence the application said becomes its message id
and values; anything else is kept as a literal text that shows as it is. The downgrade writes
English text back.

An answer file's row problems (`acknowledgement_lines.problems`, a JSON list) are kept sentences
since 0031, but the rows 0031 carried over are still the uploader's sentences as text: each is
read back the same way. The downgrade writes those (and only those) back as English text.
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0032'
branch_labels = None
depends_on = None

# (table, column): the failure reasons kept as text until now
COLUMNS = (("jobs", "error"), ("import_runs", "message"))

# the job runner's own failures, in English, for the downgrade
JOB_TEXTS = {
    "jobs.unexpected_error": "The job stopped on an unexpected error; nothing was saved. Try "
                             "again, and tell your admin if it happens again.",
    "jobs.stopped_times": "The worker running this job stopped {n} times; nothing was saved. "
                          "Start it again; if it stops again, tell your admin.",
    "jobs.worker_stopped": "The worker stopped while running this job; nothing was saved. "
                           "Start it again.",
    "imports.unexpected_stop": "The import stopped on an unexpected error ({kind}); nothing "
                               "was written. Try again; if it happens again, tell your admin.",
}


def _load(value):
    if not isinstance(value, str | bytes):
        return value
    return json.loads(value)


def _english(value) -> str | None:
    """A kept sentence in English, without the application (for the downgrade)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return str(value)
    params = value.get("params") or {}
    code = value.get("code")
    if code == "text":
        return str(params.get("text", ""))
    if code == "message":
        values = {name: _english(inner) if isinstance(inner, dict) else inner
                  for name, inner in (params.get("values") or {}).items()}
        try:
            return params["msgid"] % values if values else params["msgid"]
        except (KeyError, TypeError, ValueError):
            return params.get("msgid", "")
    if code in JOB_TEXTS:
        try:
            return JOB_TEXTS[code].format(**params)
        except (KeyError, IndexError):
            return JOB_TEXTS[code]
    return str(code)


def _swap(table_name: str, column: str, new_type, convert) -> None:
    """Replace `column` by one of `new_type`, each row's value converted."""
    bind = op.get_bind()
    with op.batch_alter_table(table_name, schema=None) as batch_op:
        batch_op.add_column(sa.Column(f"{column}_new", new_type, nullable=True))
    table = sa.table(table_name, sa.column('id', sa.Integer), sa.column(column),
                     sa.column(f"{column}_new", new_type))
    for row in bind.execute(sa.select(table.c.id, table.c[column]).where(
            table.c[column].is_not(None))).all():
        bind.execute(table.update().where(table.c.id == row.id).values(
            {f"{column}_new": convert(row[1])}))
    with op.batch_alter_table(table_name, schema=None) as batch_op:
        batch_op.drop_column(column)
    with op.batch_alter_table(table_name, schema=None) as batch_op:
        batch_op.alter_column(f"{column}_new", new_column_name=column)


def _each_problem(convert) -> None:
    """Convert each problem of each answer-file row kept in a list."""
    bind = op.get_bind()
    lines = sa.table('acknowledgement_lines', sa.column('id', sa.Integer),
                     sa.column('problems', sa.JSON))
    for row_id, problems in bind.execute(sa.select(lines.c.id, lines.c.problems).where(
            lines.c.problems.is_not(None))).all():
        problems = _load(problems)
        if not isinstance(problems, list):
            continue
        changed = [convert(problem) for problem in problems]
        if changed != problems:
            bind.execute(lines.update().where(lines.c.id == row_id).values(problems=changed))


def _problem_back(problem):
    """A sentence recognised by the upgrade, as English text; declared codes stay as kept."""
    if isinstance(problem, dict) and problem.get("code") in ("text", "message"):
        return _english(problem)
    return problem


def upgrade():
    # the catalogues are the list of sentences the application says
    from coopreg.core.sentences import recognise

    for table_name, column in COLUMNS:
        _swap(table_name, column, sa.JSON(), recognise)
    _each_problem(lambda problem: recognise(problem) if isinstance(problem, str) else problem)


def downgrade():
    _each_problem(_problem_back)
    for table_name, column in COLUMNS:
        _swap(table_name, column, sa.Text(), lambda value: _english(_load(value)))
