"""How much of a letter is still the template, and how much is copied from other letters (WriteToThem-style).

Letters are compared as runs of SHINGLE words: a word counts as "the template's" when it sits in a
run of SHINGLE words that also appears in the template. static/js/act.js does the same sum in the
browser for the live "still the template" figure, so both say the same number.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

SHINGLE = 4
_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    return _WORD.findall((text or "").lower().replace("’", "'"))


def shingles(ws: list[str]) -> set[tuple[str, ...]]:
    if len(ws) < SHINGLE:
        return {tuple(ws)} if ws else set()
    return {tuple(ws[i:i + SHINGLE]) for i in range(len(ws) - SHINGLE + 1)}


def covered_share(ws: list[str], other: set[tuple[str, ...]]) -> float:
    """The share (0..1) of the words in `ws` that sit in a run also found in `other`."""
    if not ws:
        return 0.0
    if len(ws) < SHINGLE:
        return 1.0 if tuple(ws) in other else 0.0
    covered = [False] * len(ws)
    for i in range(len(ws) - SHINGLE + 1):
        if tuple(ws[i:i + SHINGLE]) in other:
            for j in range(i, i + SHINGLE):
                covered[j] = True
    return sum(covered) / len(ws)


@dataclass(frozen=True)
class Similarity:
    template_pct: int  # of the letter, still the template
    copied_pct: int  # of the letter's own words, the same as another letter to the same target
    own_words: int  # words not from the template

    @property
    def highest(self) -> int:
        return max(self.template_pct, self.copied_pct)


def measure(letter: str, template: str, others: Iterable[str] = ()) -> Similarity:
    """Compare a letter with its template and with other letters already written to the same target."""
    ws = words(letter)
    template_set = shingles(words(template))
    share = covered_share(ws, template_set)
    template_pct = round(share * 100) if ws else 100
    own = round(len(ws) * (1 - share))
    # Another letter's copy of the template is not copying: only the writer's own runs count.
    own_runs = shingles(ws) - template_set
    copied = 0.0
    if own_runs:
        for other in others:
            overlap = len(own_runs & shingles(words(other))) / len(own_runs)
            copied = max(copied, overlap)
            if copied >= 1:
                break
    return Similarity(template_pct=template_pct, copied_pct=round(copied * 100), own_words=own)
