"""Generate the Mandarin clips of the audio captcha, once: one WAV per letter and digit (any
CAPTCHA_ALPHABET or CAPTCHA_TEXT_FACTORY can be read),
spoken by espeak-ng's Mandarin voice `cmn`, in the format the `captcha` library mixes (8 kHz,
8-bit unsigned, mono), into moderation/data/captcha_voice_cmn/<SIGN>/cmn.wav (committed).

Digits are read as Mandarin numbers (二 三 四 …); letters as Mandarin readers say Latin letters.
Needs espeak-ng (`scripts/install-voice-tools.sh`). Run: .venv/bin/python scripts/mandarin_captcha_voice.py
"""

from __future__ import annotations

import array
import shutil
import string
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TARGET = ROOT / "moderation" / "data" / "captcha_voice_cmn"
RATE = 8000
SIGNS = string.ascii_uppercase + string.digits
DIGITS = dict(zip(string.digits, "零一二三四五六七八九", strict=True))


def spoken(sign: str) -> str:
    return DIGITS.get(sign, sign)


def to_library_format(source: Path, target: Path) -> None:
    """16-bit espeak output → 8 kHz 8-bit unsigned mono (linear interpolation; speech only)."""
    with wave.open(str(source)) as reader:
        assert reader.getnchannels() == 1 and reader.getsampwidth() == 2
        rate = reader.getframerate()
        samples = array.array("h", reader.readframes(reader.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    count = int(len(samples) * RATE / rate)
    out = bytearray(count)
    for index in range(count):
        position = index * rate / RATE
        low = int(position)
        high = min(low + 1, len(samples) - 1)
        value = samples[low] + (samples[high] - samples[low]) * (position - low)
        out[index] = max(0, min(255, int(value / 256) + 128))
    target.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(target), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(1)
        writer.setframerate(RATE)
        writer.writeframes(bytes(out))


def main() -> int:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        print("espeak-ng is missing: run scripts/install-voice-tools.sh", file=sys.stderr)
        return 1
    shutil.rmtree(TARGET, ignore_errors=True)
    with tempfile.TemporaryDirectory() as scratch:
        for sign in SIGNS:
            raw = Path(scratch) / f"{sign}.wav"
            subprocess.run([espeak, "-v", "cmn", "-s", "130", "-w", str(raw), spoken(sign)], check=True)
            to_library_format(raw, TARGET / sign / "cmn.wav")
    print(f"{len(SIGNS)} clips in {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
