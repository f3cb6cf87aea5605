"""Audio made at test time, and a transcriber that stands in for the speech engine."""

from __future__ import annotations

import io
import math
import shutil
import struct
import subprocess
import wave
from dataclasses import dataclass, field

RATE = 16_000


def tone(seconds: float = 1.5, hertz: float = 440.0) -> bytes:
    """A sine tone as a 16 kHz mono WAV file."""
    frames = b"".join(
        struct.pack("<h", int(12_000 * math.sin(2 * math.pi * hertz * n / RATE)))
        for n in range(int(seconds * RATE))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(frames)
    return out.getvalue()


def wav_seconds(audio: bytes) -> float:
    with wave.open(io.BytesIO(audio)) as wav:
        return wav.getnframes() / wav.getframerate()


def spoken(text: str, voice: str = "en") -> bytes | None:
    """``text`` spoken by espeak-ng as WAV, or None where espeak-ng is not installed."""
    program = shutil.which("espeak-ng") or shutil.which("espeak")
    if program is None:
        return None
    done = subprocess.run([program, "-v", voice, "--stdout", text], capture_output=True,
                          check=True, timeout=60)
    return done.stdout


@dataclass
class ScriptedTranscriber:
    """Returns the next scripted transcript for each recording, and keeps what it got."""

    transcripts: list[str]
    heard: list[bytes] = field(default_factory=list)
    fail: bool = False

    def transcribe(self, audio: bytes) -> str:
        self.heard.append(audio)
        if self.fail:
            raise RuntimeError("the speech engine is down")
        return self.transcripts.pop(0)
