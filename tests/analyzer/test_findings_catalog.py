"""The texts of the findings: both language files are complete and validated on load."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from dialogs.analyzer.messages import (
    LANGS,
    SCRIPTS_DIR,
    finding_field,
    finding_message,
    finding_name,
    finding_tip,
    load_catalog,
    load_catalogs,
    parse_catalog,
)
from dialogs.errors import ScriptError
from dialogs.findings import ALL_FINDING_IDS, IMPROVEMENT_IDS, RED_FLAG_IDS, STRENGTH_IDS


def raw(lang: str) -> dict[str, Any]:
    data = yaml.safe_load((SCRIPTS_DIR / f"findings_{lang}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_both_files_cover_every_finding() -> None:
    catalogs = load_catalogs()
    assert set(catalogs) == set(LANGS) == {"en", "zh"}
    for catalog in catalogs.values():
        assert set(catalog) == set(ALL_FINDING_IDS)
        for fid, text in catalog.items():
            assert text.name.strip() and text.message.strip()
            if fid in RED_FLAG_IDS or fid in IMPROVEMENT_IDS:
                assert text.tip.strip(), fid


def test_messages_are_one_sentence_in_the_right_language() -> None:
    catalogs = load_catalogs()
    for fid, text in catalogs["en"].items():
        assert text.message.isascii(), fid
        assert text.message.endswith("."), fid
        assert ". " not in text.message[:-1], fid
    for fid, text in catalogs["zh"].items():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text.message), fid
        assert text.message.endswith("。"), fid
        assert "。" not in text.message[:-1], fid
        assert "." not in text.message, fid


def test_texts_differ_between_findings() -> None:
    for catalog in load_catalogs().values():
        messages = [t.message for t in catalog.values()]
        assert len(set(messages)) == len(messages)
        tips = [t.tip for t in catalog.values() if t.tip]
        assert len(set(tips)) == len(tips)
        assert all(t.tip != t.message for t in catalog.values())


def test_accessors() -> None:
    assert finding_message("blame", "en") == load_catalogs()["en"]["blame"].message
    assert finding_tip("blame", "zh") == load_catalogs()["zh"]["blame"].tip
    assert finding_name("hedging", "en") == finding_field("hedging", "en", "name")
    for sid in STRENGTH_IDS:
        assert finding_tip(sid, "en") == ""
    with pytest.raises(KeyError):
        finding_message("no_such_finding", "en")
    with pytest.raises(ValueError):
        finding_message("blame", "de")
    with pytest.raises(ValueError):
        finding_field("blame", "en", "colour")


def test_missing_tip_names_file_and_field() -> None:
    data = copy.deepcopy(raw("zh"))
    del data["findings"]["blame"]["tip"]
    with pytest.raises(ScriptError, match=r"^findings_zh\.yaml: findings\.blame\.tip: missing$"):
        parse_catalog(data, "findings_zh.yaml")


def test_missing_inference_names_file_and_field() -> None:
    data = copy.deepcopy(raw("en"))
    del data["findings"]["no_growth"]["infer"]
    with pytest.raises(ScriptError,
                       match=r"^findings_en\.yaml: findings\.no_growth\.infer: missing$"):
        parse_catalog(data, "findings_en.yaml")


def test_strengths_need_no_tip() -> None:
    data = copy.deepcopy(raw("en"))
    data["findings"]["growth"].pop("tip", None)
    assert parse_catalog(data, "findings_en.yaml")["growth"].tip == ""


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda d: d["findings"].pop("evasive"), r"findings\.evasive: missing"),
        (lambda d: d["findings"].__setitem__("grit", {"name": "x", "message": "y"}),
         r"findings\.grit: unknown finding id"),
        (lambda d: d["findings"]["hedging"].__setitem__("message", "   "),
         r"findings\.hedging\.message: must be a non-empty string"),
        (lambda d: d["findings"]["hedging"].__setitem__("tip", 42),
         r"findings\.hedging\.tip: must be a non-empty string"),
        (lambda d: d["findings"]["too_long"].pop("name"), r"findings\.too_long\.name: missing"),
        (lambda d: d["findings"]["results"].__setitem__("emoji", "x"),
         r"findings\.results\.emoji: unknown field"),
        (lambda d: d["findings"].__setitem__("blame", "just a string"),
         r"findings\.blame: must be a mapping"),
        (lambda d: d.__setitem__("extra", 1), r"extra: unknown key"),
        (lambda d: d.pop("findings"), r"findings: missing"),
    ],
)
def test_invalid_catalog_is_rejected(change: Any, error: str) -> None:
    data = copy.deepcopy(raw("en"))
    change(data)
    with pytest.raises(ScriptError, match=rf"^findings_en\.yaml: {error}"):
        parse_catalog(data, "findings_en.yaml")


def test_loading_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match=r"^findings_en\.yaml: file is missing"):
        load_catalog(tmp_path / "findings_en.yaml")
    broken = tmp_path / "findings_zh.yaml"
    broken.write_text("findings: [unclosed", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"^findings_zh\.yaml: not valid YAML"):
        load_catalog(broken)
    broken.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"^findings_zh\.yaml: must be a mapping"):
        load_catalog(broken)


def test_a_directory_missing_one_language_fails(tmp_path: Path) -> None:
    (tmp_path / "findings_en.yaml").write_text(
        (SCRIPTS_DIR / "findings_en.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(ScriptError, match=r"^findings_zh\.yaml: file is missing"):
        load_catalogs(tmp_path)


def test_script_error_is_a_value_error() -> None:
    assert issubclass(ScriptError, ValueError)

