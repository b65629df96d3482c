"""job language and sentences kept as codes: a job carries the language of the person who
started it; a registration's history keeps the application's reasons as a code and its values
(said in the reader's language), and job results likewise

Revision ID: 0014
Revises: 0016
Create Date: 2026-12-04

Existing text is converted: the reasons the application wrote in the history ("Sent in batch
B-000002", in any of the four languages) and the summaries of job results (written in English
by the worker) become codes; anything else (a reason a person typed) stays as it is. The
downgrade writes the codes back as English text.
"""
import json
import re

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0016'
branch_labels = None
depends_on = None

# code -> the text the application wrote, in en, es, fr, pt ({ref}, {number}, {date})
REASONS = {
    "registrations.enrolled": ["Enrolled", "Inscrito", "Inscrit", "Filiado"],
    "registrations.enrolled_again": ["Enrolled again", "Inscrito de nuevo", "Inscrit à nouveau",
                                     "Filiado novamente"],
    "registrations.sent_in_batch": ["Sent in batch {ref}", "Enviada en el lote {ref}",
                                    "Envoyé dans le lot {ref}", "Enviado no lote {ref}"],
    "registrations.exit_sent_in_batch": ["Exit sent in batch {ref}",
                                         "Baja enviada en el lote {ref}",
                                         "Sortie envoyée dans le lot {ref}",
                                         "Saída enviada no lote {ref}"],
    "registrations.accepted_in_answer": ["Accepted in the answer to {ref}",
                                         "Aceptada en la respuesta a {ref}",
                                         "Accepté dans la réponse à {ref}",
                                         "Aceito na resposta a {ref}"],
    "registrations.registered_as": [
        "Registered as {number} from {date}",
        "Afiliado con el número {number} desde el {date}",
        "Affilié sous le numéro {number} à partir du {date}",
        "Registrada com o número {number} a partir de {date}"],
}

# job result summaries as the worker wrote them (in English): the text's pattern, and the
# English text the downgrade writes back
SUMMARIES = {
    "batches.draft_made": (r"Draft (?P<ref>.+?) made: check its lines, then seal it\.",
                           "Draft {ref} made: check its lines, then seal it."),
    "batches.draft_remade": (r"The draft was made again from today's data: (?P<n>\d+) "
                             r"line\(s\)\.",
                             "The draft was made again from today's data: {n} line(s)."),
    "batches.replacement_made": (r"Draft (?P<new>.+?) will replace (?P<old>.+?) once sealed\.",
                                 "Draft {new} will replace {old} once sealed."),
    "batches.sealed": (r"Batch (?P<ref>.+?) is sealed: (?P<name>.+?)\. It will never change; "
                       r"download it and send it\.",
                       "Batch {ref} is sealed: {name}. It will never change; download it and "
                       "send it."),
    "imports.rows_checked": (r"(?P<read>\d+) rows checked: (?P<refused>\d+) with problems\.",
                             "{read} rows checked: {refused} with problems."),
    "imports.members_imported": (r"(?P<created>\d+) members created, (?P<updated>\d+) "
                                 r"updated\.", "{created} members created, {updated} updated."),
    "imports.members_exported": (r"(?P<num>\d+) members? exported\.",
                                 "{num} members exported."),
    "contributions.arrears_exported": (r"(?P<num>\d+) members? in arrears exported\.",
                                       "{num} members in arrears exported."),
    "agreements.coverage_exported": (r"Coverage report of (?P<num>\d+) active members? "
                                     r"exported\.",
                                     "Coverage report of {num} active members exported."),
    "contributions.dues_generated": (r"(?P<created>\d+) dues created for (?P<periods>\d+) "
                                     r"period\(s\)\.",
                                     "{created} dues created for {periods} period(s)."),
}
NUMBERS = {"n", "num", "read", "refused", "created", "updated", "periods"}


def _pattern(text: str) -> re.Pattern:
    """A reason's text with {placeholders} as a pattern that captures them."""
    parts = re.split(r"\{(\w+)\}", text)
    return re.compile("".join(re.escape(part) if n % 2 == 0 else f"(?P<{part}>.+?)"
                              for n, part in enumerate(parts)) + "$")


REASON_PATTERNS = [(code, _pattern(text)) for code, texts in REASONS.items() for text in texts]
SUMMARY_PATTERNS = [(code, re.compile(pattern + "$"))
                    for code, (pattern, _text) in SUMMARIES.items()]


def _reason_code(text):
    for code, pattern in REASON_PATTERNS:
        match = pattern.match(text)
        if match:
            return code, match.groupdict()
    return None


def _summary_code(text):
    for code, pattern in SUMMARY_PATTERNS:
        match = pattern.match(text)
        if match:
            params = {k: int(v) if k in NUMBERS else v for k, v in match.groupdict().items()}
            if code == "contributions.dues_generated":
                params.update(closed=[], missing=[], missing_count=0, credit=0)
            return code, params
    return None


def _english(template: str, params: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(params.get(m[1], "")), template)


def _load(value):
    if value is None or isinstance(value, dict):
        return value
    return json.loads(value)


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=True))
    with op.batch_alter_table('registration_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_code', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('reason_params', sa.JSON(), nullable=True))

    bind = op.get_bind()
    events = sa.table('registration_events', sa.column('id', sa.Integer),
                      sa.column('reason', sa.String), sa.column('reason_code', sa.String),
                      sa.column('reason_params', sa.JSON))
    for row in bind.execute(sa.select(events.c.id, events.c.reason).where(
            events.c.reason.is_not(None))).all():
        found = _reason_code(row.reason)
        if found:
            bind.execute(events.update().where(events.c.id == row.id).values(
                reason=None, reason_code=found[0], reason_params=found[1]))

    jobs = sa.table('jobs', sa.column('id', sa.Integer), sa.column('result', sa.JSON))
    for row in bind.execute(sa.select(jobs.c.id, jobs.c.result).where(
            jobs.c.result.is_not(None))).all():
        result = _load(row.result)
        summary = (result or {}).get("summary")
        if isinstance(summary, str):
            found = _summary_code(summary)
            if found:
                result["summary"] = {"code": found[0], "params": found[1]}
                bind.execute(jobs.update().where(jobs.c.id == row.id).values(result=result))


def downgrade():
    bind = op.get_bind()
    events = sa.table('registration_events', sa.column('id', sa.Integer),
                      sa.column('reason', sa.String), sa.column('reason_code', sa.String),
                      sa.column('reason_params', sa.JSON))
    for row in bind.execute(sa.select(events.c.id, events.c.reason_code,
                                      events.c.reason_params).where(
            events.c.reason_code.is_not(None))).all():
        if row.reason_code in REASONS:
            text = _english(REASONS[row.reason_code][0], _load(row.reason_params) or {})
            bind.execute(events.update().where(events.c.id == row.id).values(reason=text))
    jobs = sa.table('jobs', sa.column('id', sa.Integer), sa.column('result', sa.JSON))
    for row in bind.execute(sa.select(jobs.c.id, jobs.c.result).where(
            jobs.c.result.is_not(None))).all():
        result = _load(row.result)
        summary = (result or {}).get("summary")
        if isinstance(summary, dict) and summary.get("code") in SUMMARIES:
            result["summary"] = _english(SUMMARIES[summary["code"]][1],
                                         summary.get("params") or {})
            bind.execute(jobs.update().where(jobs.c.id == row.id).values(result=result))

    with op.batch_alter_table('registration_events', schema=None) as batch_op:
        batch_op.drop_column('reason_params')
        batch_op.drop_column('reason_code')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('language')
