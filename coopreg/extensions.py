"""Flask extensions, created unbound and initialised in `create_app`."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="fixed-window")


# PostgreSQL-only trigram indexes (pg_trgm) that make "contains" searches use an index; they
# are made by the migrations where the extension is available and are not in the models.
TRIGRAM_INDEX_PREFIX = "trgm_"


# SQLite-only FTS5 table (trigram tokenizer) over the members' name, national ID and phone,
# kept by triggers (migration 0027), with the shadow tables FTS5 makes; not in the models.
MEMBERS_SEARCH = "members_search"


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic autogenerate filter: leave the optional trigram indexes and the SQLite
    full-text table alone."""
    if type_ == "table" and name and name.startswith(MEMBERS_SEARCH):
        return False
    return not (type_ == "index" and name and name.startswith(TRIGRAM_INDEX_PREFIX))
