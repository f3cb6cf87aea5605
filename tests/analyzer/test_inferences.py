"""What an interviewer infers from each red flag and improvement ("infer"), and which
rule and signal a finding names: what "Why was this flagged?" shows (dialogs/why.py)."""

from __future__ import annotations

import pytest

from leavewell.dialogs.analyzer.messages import finding_field
from leavewell.dialogs.findings import (
    IMPROVEMENT_IDS,
    RED_FLAG_IDS,
    STRENGTH_IDS,
    Evidence,
    Finding,
)

HAN = ("\u4e00", "\u9fff")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_red_flag_and_improvement_says_what_an_interviewer_infers(lang: str) -> None:
    inferences = {fid: finding_field(fid, lang, "infer") for fid in (*RED_FLAG_IDS,
                                                                     *IMPROVEMENT_IDS)}
    assert all(inferences.values()), [fid for fid, text in inferences.items() if not text]
    assert len(set(inferences.values())) == len(inferences)  # no text reused
    for fid, text in inferences.items():
        assert text not in (finding_field(fid, lang, "message"), finding_field(fid, lang, "tip"))
    assert all(finding_field(fid, lang, "infer") == "" for fid in STRENGTH_IDS)


def test_inferences_are_one_sentence_in_the_right_language() -> None:
    for fid in (*RED_FLAG_IDS, *IMPROVEMENT_IDS):
        english, chinese = finding_field(fid, "en", "infer"), finding_field(fid, "zh", "infer")
        assert english.isascii() and english.endswith(".") and ". " not in english, fid
        assert chinese.endswith("。") and "。" not in chinese[:-1], fid
        assert any(HAN[0] <= ch <= HAN[1] for ch in chinese), fid


def test_a_finding_says_which_rule_and_signal_fired() -> None:
    plain = Finding("blame", "red_flag", "m", (Evidence(0, 2, "it"),)).to_dict()
    assert (plain["rule"], plain["signal"]) == ("", "rule")  # "": the finding's own id
    told = Finding("trash_talk", "red_flag", "m", rule="trash_talk.insult",
                   signal="lexicon").to_dict()
    assert (told["rule"], told["signal"]) == ("trash_talk.insult", "lexicon")
