"""Voice answers as text, when the optional extra is installed (pip install 'leavewell[voice]').

The engine is faster-whisper, run locally; the model is named in the settings
(LEAVEWELL_VOICE_MODEL: a size such as "base" or a path to a converted model). Without
the extra, or when the model cannot be loaded, a voice answer is handled as before: it
is timed and the candidate is asked to type the gist.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from leavewell.bot.settings import Settings
from leavewell.dialogs.events import Event, TextAnswer

log = logging.getLogger(__name__)

ENGINE_MODULE = "faster_whisper"
TRANSCRIBE_TIMEOUT = 120.0  # seconds for one voice answer, model loading included


class Transcriber(Protocol):
    """Speech to text. Blocking (it runs in a worker thread); raises when it cannot."""

    def transcribe(self, audio: bytes) -> str: ...


@dataclass(slots=True)
class FasterWhisper:
    model: str
    device: str = "cpu"
    compute_type: str = "int8"
    _loaded: Any = field(default=None, repr=False)

    def load(self) -> Any:
        if self._loaded is None:
            from faster_whisper import WhisperModel

            self._loaded = WhisperModel(self.model, device=self.device,
                                        compute_type=self.compute_type)
        return self._loaded

    def transcribe(self, audio: bytes) -> str:
        segments, _info = self.load().transcribe(io.BytesIO(audio), beam_size=1)
        return " ".join(s.text.strip() for s in segments).strip()


def engine_installed() -> bool:
    return importlib.util.find_spec(ENGINE_MODULE) is not None


def load_transcriber(settings: Settings) -> Transcriber | None:
    """The configured transcriber, or None (voice answers are then timed, not read)."""
    if not settings.voice_transcription:
        return None
    if not engine_installed():
        log.info("voice answers are not transcribed: install leavewell[voice] for that")
        return None
    return FasterWhisper(settings.voice_model, device=settings.voice_device)


def is_untranscribed_voice(event: Event) -> bool:
    return (isinstance(event, TextAnswer) and event.voice_seconds is not None
            and not event.transcribed and not event.text.strip())


class Listener:
    """Turns a timed voice answer into a transcribed one: one at a time (the model is
    CPU-bound), off the event loop. Any failure leaves the event as it was."""

    def __init__(self, transcriber: Transcriber, timeout: float = TRANSCRIBE_TIMEOUT) -> None:
        self.transcriber = transcriber
        self.timeout = timeout
        self._one_at_a_time = asyncio.Semaphore(1)

    async def hear(self, event: Event, fetch: Callable[[], Awaitable[bytes]]) -> Event:
        if not is_untranscribed_voice(event):
            return event
        assert isinstance(event, TextAnswer)
        try:
            audio = await fetch()
            async with self._one_at_a_time:
                text = await asyncio.wait_for(
                    asyncio.to_thread(self.transcriber.transcribe, audio), self.timeout)
        except Exception:
            log.warning("a voice answer could not be transcribed", exc_info=True)
            return event
        return replace(event, text=text, transcribed=True)
