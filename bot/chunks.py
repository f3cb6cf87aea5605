"""Split a long rendered message into platform-sized chunks at paragraph boundaries."""

from __future__ import annotations

from collections.abc import Callable

# How a format cuts one line that is longer than the limit on its own.
LineCutter = Callable[[str, int], list[str]]


def split_paragraphs(text: str, limit: int, cut_line: LineCutter) -> list[str]:
    """Whole paragraphs where they fit, then whole lines, and only then `cut_line`."""
    chunks: list[str] = []
    current = ""
    for block in _pieces(text, limit, cut_line):
        candidate = f"{current}\n\n{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        current = block
    if current:
        chunks.append(current)
    return chunks or [text[:limit]]


def _pieces(text: str, limit: int, cut_line: LineCutter) -> list[str]:
    pieces: list[str] = []
    for paragraph in text.split("\n\n"):
        if len(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        for line in paragraph.split("\n"):
            pieces.extend([line] if len(line) <= limit else cut_line(line, limit))
    return pieces
