"""Voice answers through the transcriber interface (bot/voice.py), with audio made here."""

from __future__ import annotations

import os

import pytest

from leavewell.bot.settings import load_settings
from leavewell.bot.voice import FasterWhisper, Listener, engine_installed, load_transcriber
from leavewell.dialogs.events import TextAnswer
from leavewell.dialogs.speech import combine, fillers, speech_stats
from tests.support.transcript import Transcript
from tests.support.voice import ScriptedTranscriber, spoken, tone, wav_seconds

ANSWER = ("Um, our team was cut when the company lost its largest client. Before that I, "
          "like, built the revenue dashboard and cut report time by 60 percent, you know. "
          "Now I want to grow into a senior analyst role, and this role fits.")


async def test_a_voice_answer_becomes_its_transcript() -> None:
    audio = tone(2.0)
    assert wav_seconds(audio) == pytest.approx(2.0)
    engine = ScriptedTranscriber([ANSWER])
    listener = Listener(engine)

    async def fetch() -> bytes:
        return audio

    event = await listener.hear(TextAnswer(at=1.0, text="", voice_seconds=41.0), fetch)
    assert engine.heard == [audio]  # the recording reached the engine as it was
    assert event == TextAnswer(at=1.0, text=ANSWER, voice_seconds=41.0, transcribed=True)


async def test_typed_answers_and_failures_are_left_alone() -> None:
    engine = ScriptedTranscriber([], fail=True)
    listener = Listener(engine)

    async def fetch() -> bytes:
        return tone(0.5)

    typed = TextAnswer(at=1.0, text="I wanted to grow.")
    assert await listener.hear(typed, fetch) is typed and engine.heard == []
    captioned = TextAnswer(at=1.0, text="the gist", voice_seconds=30.0)
    assert await listener.hear(captioned, fetch) is captioned
    voice = TextAnswer(at=1.0, text="", voice_seconds=30.0)
    assert await listener.hear(voice, fetch) is voice  # the engine failed: timed only
    assert len(engine.heard) == 1


def test_no_engine_without_the_extra_or_when_switched_off() -> None:
    off = load_settings({"voice_transcription": False})
    assert load_transcriber(off) is None
    on = load_transcriber(load_settings({"voice_model": "tiny"}))
    if engine_installed():
        assert isinstance(on, FasterWhisper) and on.model == "tiny"
    else:
        assert on is None


def test_a_transcribed_answer_is_analysed_and_its_speech_reported() -> None:
    t = Transcript()
    t.through_setup("en", "laid_off")
    reply = t.send(TextAnswer(at=t.tick(), text=ANSWER, voice_seconds=40.0, transcribed=True))
    assert "I heard (40 s)" in reply and "revenue dashboard" in reply
    assert t.state["analysis"]["voice"] and t.state["analysis"]["speaking_seconds"] == 40.0
    while t.stage == "answer_followup":
        t.send(TextAnswer(at=t.tick(), text="Uh, the timing is right, um, now.",
                          voice_seconds=5.0, transcribed=True))
    feedback = t.outgoing("feedback")
    speech = feedback.params["speech"]
    words = {f["word"]: f["count"] for f in speech["fillers"]}
    assert words["um"] >= 2 and words["like"] == 1 and words["you know"] == 1
    assert speech["per_minute"] > 0
    text = t.render(feedback)
    assert "Filler words:" in text and f"About {speech['per_minute']} words per minute" in text


def test_a_transcript_with_no_words_is_asked_again() -> None:
    t = Transcript()
    t.through_setup("zh", "laid_off")
    reply = t.send(TextAnswer(at=t.tick(), text=" ", voice_seconds=12.0, transcribed=True))
    assert "没有听清" in reply and t.stage == "answer_main"


def test_fillers_and_pace_in_both_languages() -> None:
    assert fillers("I would like to grow, and I like data.", "en") == []
    assert {f["word"] for f in fillers("嗯，那个，我就是说，呃，想换个环境。", "zh")} == {
        "嗯", "那个", "就是说", "呃"}
    stats = speech_stats("嗯，我想成长。", 30.0, 60, "zh")
    assert stats["per_minute"] == 120 and stats["unit"] == "chars"
    assert combine([]) is None
    both = combine([speech_stats("um, yes", 30.0, 75, "en"), speech_stats("um", 30.0, 75, "en")])
    assert both is not None
    assert both["per_minute"] == 150 and both["fillers"] == [{"word": "um", "count": 2}]


def test_the_real_engine_transcribes_speech_made_here() -> None:
    if not engine_installed():
        pytest.skip("faster-whisper is not installed (pip install 'leavewell[voice]')")
    engine = FasterWhisper(os.environ.get("LEAVEWELL_VOICE_MODEL", "tiny"))
    try:
        engine.load()
    except Exception as exc:  # no weights on this machine and no way to fetch them
        pytest.skip(f"no speech model can be loaded here: {type(exc).__name__}: {exc}")
    audio = spoken("I left my last job to grow into a senior role.")
    if audio is None:
        assert isinstance(engine.transcribe(tone(1.0)), str)  # plumbing only: no speech
        return
    assert "senior" in engine.transcribe(audio).lower()
