"""Settings read from the environment: a numeric setting that is not a number, or is too
small, stops the app at start with a message naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("value,expected", [(None, 256), ("", 256), (" 12 ", 12), ("0", 0)])
def test_a_number_setting_reads_its_value_or_the_default(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("COOPREG_TEST_SETTING", raising=False)
    else:
        monkeypatch.setenv("COOPREG_TEST_SETTING", value)
    assert config._env_number("COOPREG_TEST_SETTING", 256) == expected


@pytest.mark.parametrize("value,kind,minimum", [("many", int, 0), ("2.5", int, 0),
                                                ("-1", int, 0), ("0", int, 1),
                                                ("nan", float, 0), ("soon", float, 0)])
def test_a_bad_number_setting_is_named_in_the_refusal(monkeypatch, value, kind, minimum):
    monkeypatch.setenv("COOPREG_TEST_SETTING", value)
    with pytest.raises(ValueError, match=r"COOPREG_TEST_SETTING must be a (whole )?number of "
                                         r"at least"):
        config._env_number("COOPREG_TEST_SETTING", 1, minimum, kind)


def test_the_app_does_not_start_with_a_bad_setting():
    env = {**os.environ, "COOPREG_MEMBER_ROWS_CACHE_SIZE": "lots", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", "import config"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode != 0
    assert "COOPREG_MEMBER_ROWS_CACHE_SIZE must be a whole number of at least 0; it is " \
           "'lots'" in done.stderr
