"""Answer-language detection: which rules fit an answer, and when none do."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leavewell.dialogs.language import (
    EN_WORD_WEIGHT,
    MIXED_SHARE,
    Detection,
    answer_language_issue,
    detect_language,
)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # plain answers
        ("I left because I wanted to grow into a data engineering role.", "en"),
        ("我离开是因为想在更大的平台上成长，也想接触更多的数据项目。", "zh"),
        ("我想要更好的發展機會，所以離職了。", "zh"),  # traditional characters
        # short answers count
        ("ok", "en"),
        ("Yes.", "en"),
        ("好的", "zh"),
        ("是", "zh"),
        # a Chinese answer naming tools and companies in English stays Chinese
        ("我在做 Python 和 AWS 的项目，想找更大的平台", "zh"),
        ("我负责 Excel 和 SQL 报表，也用 Power BI 做看板。", "zh"),
        ("Python SQL AWS Docker 我都会用", "zh"),
        ("我在IT部门工作", "zh"),  # an acronym is no English function word
        ("公司拿到A轮融资以后方向变了", "zh"),  # nor is a single capital letter
        # an English answer with a Chinese name or title stays English
        ("I left 腾讯 because I wanted to grow into a product role.", "en"),
        ("I worked at 字节跳动 for three years as a data analyst.", "en"),
        ("My title was 高级工程师, and I led the migration of our reports.", "en"),
        # real mixes: both languages carry prose
        ("我离开是因为 I want to grow into a bigger role", "mixed"),
        ("我觉得 the company was not a good fit for me, 所以我离开了。", "mixed"),
        ("I left because 公司的方向变了，我想找新的机会", "mixed"),
        # no letters at all
        ("", "unknown"),
        ("   \n\t", "unknown"),
        ("🙂👍🎉", "unknown"),
        ("2023-2024 !!! 100%", "unknown"),
        ("。，！？；：“”（）……", "unknown"),
        ("https://example.com/jobs?id=42", "unknown"),
        ("www.example.com", "unknown"),
        ("@leavewell_bot <@123456789>", "unknown"),
        ("me@example.com", "unknown"),
    ],
)
def test_detects_the_answer_language(text: str, lang: str) -> None:
    assert detect_language(text).lang == lang


def test_emoji_digits_and_punctuation_are_neutral() -> None:
    plain = detect_language("I want to grow")
    noisy = detect_language("🙂 I want to grow!!! 100% 🚀")
    assert (noisy.lang, noisy.latin_words, noisy.han_chars) == ("en", 4, 0)
    assert noisy.latin_words == plain.latin_words


def test_full_width_punctuation_is_neutral_and_full_width_letters_are_latin() -> None:
    zh = detect_language("我想要更大的平台。！？，（真的）")
    assert (zh.lang, zh.han_chars, zh.latin_words, zh.zh_share) == ("zh", 10, 0, 1.0)
    assert detect_language("ＯＫ，ｔｈａｎｋｓ") == Detection("en", 0.0, 0, 2)


def test_links_and_mentions_do_not_count_nor_swallow_the_text_around_them() -> None:
    result = detect_language("看这里https://example.com/a，我觉得很好 @bob")
    assert (result.lang, result.han_chars, result.latin_words) == ("zh", 8, 0)
    result = detect_language("See https://example.com/jobs and www.example.org, thanks @bob")
    assert (result.lang, result.latin_words) == ("en", 3)


def test_every_han_block_counts() -> None:
    # CJK Unified, Extension A, Compatibility, Extension B
    assert detect_language("中\u3400\uf900\U00020000").han_chars == 4


def test_apostrophes_and_hyphens_join_words() -> None:
    assert detect_language("I didn't leave my co-workers").latin_words == 5
    assert detect_language("I didn’t leave").latin_words == 3  # curly apostrophe


def test_zh_share_weighs_an_english_word_as_several_characters() -> None:
    assert detect_language("Fine.").zh_share == 0.0
    assert detect_language("好的").zh_share == 1.0
    mixed = detect_language("好 ok")
    assert mixed.zh_share == pytest.approx(1 / (1 + EN_WORD_WEIGHT))
    assert 1.5 <= EN_WORD_WEIGHT <= 2.0


def test_a_minority_below_the_threshold_does_not_make_a_mix() -> None:
    # 20 Han characters and 2 English prose words: English is 3.5 / 23.5 < 25 %
    text = "我想要更大的平台和更多的成长机会所以离开了 to be"
    result = detect_language(text)
    assert 1 - result.zh_share < MIXED_SHARE
    assert result.lang == "zh"


def test_primary_is_the_dominant_language() -> None:
    assert detect_language("我离开原来的公司是因为 I want to grow").primary == "zh"
    assert detect_language("I left because 我想成长").primary == "en"
    assert detect_language("Fine.").primary == "en"
    assert detect_language("好").primary == "zh"
    assert detect_language("🙂").primary is None


def test_answer_language_issue() -> None:
    en, zh = detect_language("I want to grow."), detect_language("我想成长。")
    assert answer_language_issue(en, "en") is None
    assert answer_language_issue(zh, "zh") is None
    assert answer_language_issue(zh, "en") == "other_language"
    assert answer_language_issue(en, "zh") == "other_language"
    mixed = detect_language("我离开是因为 I want to grow into a bigger role")
    assert answer_language_issue(mixed, "en") == "mixed"
    assert answer_language_issue(mixed, "zh") == "mixed"
    assert answer_language_issue(detect_language("🙂"), "en") == "no_text"
    with pytest.raises(ValueError, match="fr"):
        answer_language_issue(en, "fr")


def test_non_text_is_unknown() -> None:
    assert detect_language(None).lang == "unknown"  # type: ignore[arg-type]


@given(st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from("中文好的我ab cI'-@:/.。，！🙂1\u3400\uf900")),
))
def test_never_raises_and_stays_consistent(text: str) -> None:
    result = detect_language(text)
    assert result.lang in {"en", "zh", "mixed", "unknown"}
    assert 0.0 <= result.zh_share <= 1.0
    assert result.han_chars >= 0 and result.latin_words >= 0
    if result.lang == "unknown":
        assert result.primary is None and result.han_chars == result.latin_words == 0
    else:
        assert result.primary in {"en", "zh"}
        assert result.han_chars + result.latin_words > 0
    for expected in ("en", "zh"):
        assert answer_language_issue(result, expected) in {
            None, "other_language", "mixed", "no_text"}


def test_traditional_chinese_prose_mixed_with_english() -> None:
    assert detect_language("我覺得這個 company was not a good fit for me").lang == "mixed"
    assert detect_language("I worked at 臺灣積體電路 for years as an engineer").lang == "en"
