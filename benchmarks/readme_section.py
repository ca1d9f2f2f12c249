"""Replace (or append) one script's section of ``benchmarks/README.md``, between its markers."""

from pathlib import Path

README = Path(__file__).parent / "README.md"


def write_section(name: str, title: str, table: str) -> None:
    """Put ``table`` between ``<!-- name:start -->`` and ``<!-- name:end -->``; append the section
    under ``## title`` if the markers are not there yet."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    section = f"{start}\n{table}\n{end}"
    if start in text:
        text = text[: text.index(start)] + section + text[text.index(end) + len(end):]
    else:
        text += f"\n## {title}\n\n{section}\n"
    README.write_text(text)
