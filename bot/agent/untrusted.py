"""Text that people outside the maintainers can write (issue bodies, comments, reviews, CI logs)
reaches the model only as data: cleaned of what a human reviewer would not see, and fenced in a
block the system prompt tells the model never to obey.

Cleaning removes HTML comments (invisible once GitHub renders Markdown), format characters
(Unicode category Cf: zero-width spaces and joiners, bidi embeddings/overrides/isolates, the
BOM, soft hyphens, and the tag characters U+E0000–E007F used for "ASCII smuggling"), variation
selectors (which can also smuggle bytes) and control characters other than tab and newline.
"""

from __future__ import annotations

import re
import unicodedata

OPEN_TAG = "untrusted-data"

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_DELIMITER = re.compile(r"<(\s*/?\s*)(untrusted-data)", re.IGNORECASE)
_KEPT_CONTROLS = {"\n", "\t"}
_INVISIBLE_EXTRA = {
    "\u034f",  # combining grapheme joiner
    "\u115f", "\u1160", "\u3164", "\uffa0",  # Hangul fillers render as nothing
}


def is_invisible(char: str) -> bool:
    code = ord(char)
    if char in _KEPT_CONTROLS:
        return False
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:  # variation selectors
        return True
    if 0xE0000 <= code <= 0xE007F:  # tag characters (Cf already, listed for clarity)
        return True
    return char in _INVISIBLE_EXTRA or unicodedata.category(char) in {"Cf", "Cc"}


def strip_invisible(text: str) -> str:
    return "".join(char for char in text if not is_invisible(char))


def clean(text: str | None) -> str:
    """The text as a reader of the rendered page sees it: no HTML comments, no invisible characters."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = strip_invisible(text)
    # Stripping invisibles first stops `<!-\u200b-` from hiding a comment from the pattern.
    return _HTML_COMMENT.sub("", text).strip("\n")


def neutralise_delimiters(text: str) -> str:
    """`</untrusted-data>` inside the data must not close the block: `<` becomes `&lt;`."""
    return _DELIMITER.sub(lambda m: "&lt;" + m.group(1) + m.group(2), text)


def untrusted_block(source: str, text: str | None) -> str:
    """`text` cleaned and fenced as data; `source` says where it came from (written by us)."""
    label = re.sub(r"[^A-Za-z0-9 ,.:#@/_()\-]", "", source)[:120]
    body = neutralise_delimiters(clean(text)) or "(empty)"
    return f'<{OPEN_TAG} source="{label}">\n{body}\n</{OPEN_TAG}>'
