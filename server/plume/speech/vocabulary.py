"""The commune's vocabulary (`data/vocabulaire.txt`) as Whisper's initial prompt.

Whisper spells names it has never heard as it can (« Le Locle » → « le roclat »); words given in the
prompt come out as written there. The file is the commune's own list: one name, place, service or
acronym per line, or a whole sentence; `#` starts a comment. Consecutive names are joined with commas
into one sentence, because Whisper reads its prompt as the text said just before: a sentence steers
it, while a bare column of words can make a weak model repeat the list. It is read at the start of
each job, so a change applies to the next transcription without a restart.
"""

from __future__ import annotations

from pathlib import Path

MAX_FILE_BYTES = 16_384
MAX_PROMPT_CHARS = 600  # with the text just before, within the 223 tokens Whisper keeps


def prompt_for(vocabulary_file: Path, request_prompt: str = "") -> str:
    """The vocabulary, then the request's own `prompt` (OpenAI's field): Whisper keeps the end of a
    long prompt, so the request's words, closer to the audio, win over the list."""
    vocabulary = read(vocabulary_file)
    request_prompt = " ".join(request_prompt.split())
    room = MAX_PROMPT_CHARS - len(request_prompt) - 1
    return " ".join(p for p in (vocabulary[:max(0, room)].rstrip(), request_prompt) if p)


def read(vocabulary_file: Path) -> str:
    try:
        raw = vocabulary_file.read_bytes()[:MAX_FILE_BYTES].decode("utf-8", errors="ignore")
    except OSError:
        return ""
    sentences: list[str] = []
    names: list[str] = []
    for line in raw.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line[-1] in ".!?:;":
            sentences.append(_names_sentence(names))
            names = []
            sentences.append(line)
        else:
            names.append(line.rstrip(","))
    sentences.append(_names_sentence(names))
    return " ".join(s for s in sentences if s)


def _names_sentence(names: list[str]) -> str:
    return ", ".join(names) + "." if names else ""
