"""The sentence quoted around a finding in the feedback on a whole exchange."""

from __future__ import annotations

from leavewell.dialogs.exchange import SENTENCE_LIMIT, sentence_around


def span(text: str, words: str) -> dict[str, object]:
    start = text.index(words)
    return {"text": words, "start": start, "end": start + len(words)}


def test_a_short_sentence_is_quoted_whole() -> None:
    text = "I liked the team. My manager never listened to anyone. Then we moved."
    assert sentence_around(text, span(text, "never listened")) == \
        "My manager never listened to anyone"


def test_a_long_sentence_is_cut_between_words_and_the_cut_is_marked() -> None:
    filler = " ".join(f"word{n}" for n in range(60))
    text = f"{filler} my manager never listened {filler}"
    quoted = sentence_around(text, span(text, "never listened"))
    assert quoted.startswith("…") and quoted.endswith("…")
    inner = quoted.strip("…")
    words = set(text.split())
    assert all(w in words for w in inner.split()), quoted
    assert "never listened" in inner
    assert len(inner) <= SENTENCE_LIMIT + len("never listened")


def test_a_chinese_sentence_without_spaces_is_cut_by_characters() -> None:
    text = "我" * 200 + "领导从不听意见" + "的" * 200
    quoted = sentence_around(text, span(text, "领导从不听意见"))
    assert quoted.startswith("…") and quoted.endswith("…")
    assert "领导从不听意见" in quoted


def test_a_span_that_does_not_point_into_the_text_is_quoted_alone() -> None:
    assert sentence_around("something else", {"text": "boss", "start": 0, "end": 4}) == "boss"
