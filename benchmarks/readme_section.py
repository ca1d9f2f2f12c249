"""Helpers the benchmark scripts share: their section of ``benchmarks/README.md``, the machine line."""

import os
import platform
from pathlib import Path

README = Path(__file__).parent / "README.md"


def write_section(name: str, title: str, table: str) -> None:
    """Put ``table`` between ``<!-- name:start -->`` and ``<!-- name:end -->``; append the section
    under ``## title`` if the markers are not there yet."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    section = f"{start}\n{table}\n{end}"
    if start in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end) :]
    else:
        text += f"\n## {title}\n\n{section}\n"
    README.write_text(text)


def machine() -> str:
    """CPU model, cores, OS and Python, for the line above a table of timings."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )
