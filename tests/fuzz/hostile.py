"""Generators of hostile input: mutated spreadsheets and random form posts.

Used at a small size by the suite (tests/fuzz/) and at full size by `make fuzz`
(`COOPREG_FUZZ_FILES=10000 COOPREG_FUZZ_POSTS=5000`)."""

from __future__ import annotations

import io
import os
import random
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "imports" / "fixtures"
FILES = int(os.environ.get("COOPREG_FUZZ_FILES", 400))
POSTS = int(os.environ.get("COOPREG_FUZZ_POSTS", 3))  # random posts per route

NASTY_TEXT = [
    "", " ", "0", "-1", "1e309", "NaN", "9" * 40, "=HYPERLINK(\"http://x\",\"y\")", "+1",
    "@SUM(1)", "\t\r\n", "<script>alert(1)</script>", "' OR 1=1 --", "%s%n%x", "\x00",
    "ñandú", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "😀" * 50, "x" * 5000, "2024-02-30", "31/12/1899", "../../etc/passwd",
    "{{7*7}}", "null", "[]", "{}", "true", "１２３", "0x1F", "-0", "1,000.00", "1.000,00",
]


def _valid_samples() -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in sorted(FIXTURES.iterdir())
            if path.suffix in (".csv", ".xlsx", ".ods")]


def _rezip(data: bytes, mutate) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, mutate(info.filename, source.read(info.filename)))
    return out.getvalue()


def _entity(name: str, content: bytes) -> bytes:
    if name.endswith(".xml") and content.startswith(b"<?xml"):
        end = content.index(b"?>") + 2
        return (content[:end] + b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b '
                b'"&a;&a;&a;&a;&a;&a;&a;&a;">]>' + content[end:])
    return content


def hostile_files(count: int = FILES, seed: int = 7):
    """Yield (filename, bytes, how) for `count` generated or mutated files."""
    rng = random.Random(seed)
    samples = _valid_samples()
    for n in range(count):
        name, data = samples[n % len(samples)]
        kind = n % 12
        if kind == 0:
            yield name, data[: rng.randrange(1, max(2, len(data)))], "truncated"
        elif kind == 1:
            mutated = bytearray(data)
            for _ in range(rng.randint(1, 40)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            yield name, bytes(mutated), "bytes flipped"
        elif kind == 2 and name.endswith((".xlsx", ".ods")):
            yield name, _rezip(data, _entity), "entity declarations"
        elif kind == 3:
            yield name.rsplit(".", 1)[0] + rng.choice([".xlsx", ".ods", ".csv", ".xls"]), \
                data, "wrong extension"
        elif kind == 4:
            yield "big.csv", ("name;id\n" + ("x" * rng.randint(10_000, 300_000)) + ";1\n")\
                .encode(), "huge cell"
        elif kind == 5:
            text = "Nombre;Cédula\n" + "\n".join(f"{rng.choice(NASTY_TEXT)};"
                                                 f"{rng.choice(NASTY_TEXT)}"
                                                 for _ in range(rng.randint(1, 30)))
            encoding = rng.choice(["utf-8", "utf-16", "cp1252", "latin-1", "utf-8-sig"])
            yield "nasty.csv", text.encode(encoding, errors="replace"), f"nasty text {encoding}"
        elif kind == 6:
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("xl/worksheets/sheet1.xml", b"\0" * rng.randint(10**6, 4 * 10**6))
            yield "bomb.xlsx", out.getvalue(), "zip bomb"
        elif kind == 7:
            yield rng.choice(["a.csv", "a.xlsx", "a.ods"]), bytes(rng.randrange(256) for _ in
                                                                 range(rng.randint(0, 3000))),\
                "random bytes"
        elif kind == 8:
            yield "empty.csv", b"", "empty"
        elif kind == 9:
            rows = "\n".join(";".join(str(rng.random()) for _ in range(rng.randint(1, 300)))
                             for _ in range(rng.randint(1, 50)))
            yield "wide.csv", rows.encode(), "many columns"
        elif kind == 10 and name.endswith((".xlsx", ".ods")):
            yield name, _rezip(data, lambda n, c: c[: len(c) // 2] if n.endswith(".xml")
                               else c), "truncated xml parts"
        else:
            yield name, data + bytes(rng.randrange(256) for _ in range(rng.randint(1, 500))),\
                "trailing garbage"


def random_value(rng: random.Random) -> str:
    return rng.choice(NASTY_TEXT + [str(rng.randint(-10**12, 10**12)),
                                    f"{rng.randint(1900, 2100)}-{rng.randint(0, 13):02d}-"
                                    f"{rng.randint(0, 32):02d}"])
