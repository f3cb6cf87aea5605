"""bench/calibrate.py take_back: the rule changes a labelled set prompted are taken back
from today's rules (calibrate --history), even where later commits moved or lengthened
the lines they touched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench import calibrate

BEFORE = """\
rules:
  en:
  - id: words
    terms: alpha | beta
  - id: other
    terms: gamma
    examples:
      fire:
      - keep this one
      - a shared example
  zh:
  - id: words
    terms: 甲 | 乙
"""

# the round: a new entry in each language, a word added to a list, an example removed
ROUND = """\
rules:
  en:
  - id: words
    terms: alpha | beta | delta
  - id: other
    terms: gamma
    examples:
      fire:
      - keep this one
  - id: new-pattern
    regex: new\\s+thing
  zh:
  - id: words
    terms: 甲 | 乙
  - id: new-pattern
    regex: 新东西
"""

# later work: the English entry edited, the example moved to a new entry, a word
# appended to the list the round lengthened
LATER = """\
rules:
  en:
  - id: words
    terms: alpha | beta | delta | epsilon
  - id: moved
    terms: zeta
    examples:
      fire:
      - a shared example
  - id: other
    terms: gamma
    examples:
      fire:
      - keep this one
  - id: new-pattern
    regex: new\\s+things?
  zh:
  - id: words
    terms: 甲 | 乙
  - id: new-pattern
    regex: 新东西
"""

# what taking the round back from LATER must leave: later work kept, the round's gone
EXPECTED = """\
rules:
  en:
  - id: words
    terms: alpha | beta | epsilon
  - id: moved
    terms: zeta
    examples:
      fire:
      - a shared example
  - id: other
    terms: gamma
    examples:
      fire:
      - keep this one
      - a shared example
  zh:
  - id: words
    terms: 甲 | 乙
"""


def _commit(repo: Path, text: str) -> str:
    (repo / calibrate.RULES_PATH / "x.yaml").write_text(text, encoding="utf-8")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-qm", "x"], check=True)
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


def test_a_round_is_taken_back_from_rules_edited_since(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / calibrate.RULES_PATH).mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    first = _commit(repo, BEFORE)
    second = _commit(repo, ROUND)
    _commit(repo, LATER)
    monkeypatch.setattr(calibrate, "ROOT", repo)
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "x.yaml").write_text(LATER, encoding="utf-8")

    left = calibrate.take_back(first, second, folder)

    assert left == []
    assert (folder / "x.yaml").read_text(encoding="utf-8") == EXPECTED
