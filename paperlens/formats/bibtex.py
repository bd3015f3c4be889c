"""BibTeX out (for reference managers) and in (from Zotero, JabRef, Mendeley, Google Scholar).

bibtexparser handles the file structure; pylatexenc turns text into LaTeX and back,
so that titles and names with accents, ``&`` or ``%`` survive a round trip. Every value
is written so that it cannot end its field: text is LaTeX with balanced braces on one
line, and identifiers and URLs are percent-encoded where they hold anything else than
the characters a URL is made of.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bibtexparser import middlewares, model
from bibtexparser.entrypoint import parse_string, write_string
from bibtexparser.library import Library
from bibtexparser.middlewares.middleware import Middleware
from bibtexparser.middlewares.names import NameParts
from pydantic import TypeAdapter
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.latexencode import UnicodeToLatexEncoder
from pylatexenc.latexwalker import (
    get_default_latex_context_db as get_default_latex_walker_context_db,
)

from paperlens.formats.escaping import identifier_text, one_line, url_text
from paperlens.formats.limits import (
    AUTHORS_MAX_CHARS,
    BRACE_DEPTH_MAX,
    FIELD_MAX_CHARS,
    ImportRefused,
    too_many_items,
)
from paperlens.formats.records import ExportRecord
from paperlens.identifiers import local_paper_id, parse_paper_id
from paperlens.schemas import TagList
from paperlens.store.library import ImportCandidate, Snapshot

# Characters LaTeX has no name for (CJK, most emoji) pass through: BibTeX files are UTF-8 now.
_encoder = UnicodeToLatexEncoder(
    unknown_char_policy="keep", unknown_char_warning=False, replacement_latex_protection="braces"
)


def _decoder_context() -> Any:
    """pylatexenc's defaults, plus the macros its encoder writes and its decoder lacks."""
    context = get_default_latex_context_db()
    context.add_context_category(
        "paperlens-bibtex",
        prepend=True,
        macros=[
            MacroTextSpec("url", simplify_repl="%s"),
            MacroTextSpec("S", simplify_repl="§"),
            MacroTextSpec("P", simplify_repl="¶"),
            MacroTextSpec("textasciicircum", simplify_repl="^"),
            MacroTextSpec("textbraceleft", simplify_repl="{"),
            MacroTextSpec("textbraceright", simplify_repl="}"),
        ],
    )
    return context


_decoder = LatexNodes2Text(
    latex_context=_decoder_context(), math_mode="verbatim", strict_latex_spaces=True
)
_TAG_LIST: TypeAdapter[list[str]] = TypeAdapter(TagList)

# Where reference managers put an arXiv id: Google Scholar in journal, Zotero in note.
_ARXIV_IN_TEXT = re.compile(
    r"arxiv[:\s]*(?:abs/)?([0-9]{4}\.[0-9]{4,5}(?:v[0-9]+)?|[a-z\-]+(?:\.[A-Z]{2})?/[0-9]{7})", re.I
)
_KEYWORD_SEPARATORS = re.compile(r"[,;]")
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}


# --- export -----------------------------------------------------------------------


def to_bibtex(records: Sequence[ExportRecord]) -> str:
    library = Library()
    for record in records:
        library.add(_entry(record))
    return write_string(library)


def _entry(record: ExportRecord) -> model.Entry:
    fields: list[tuple[str, str | None]] = [
        # Double braces keep capitals such as 'MoE' or 'BERT' as written.
        ("title", "{" + _latex(record.title) + "}"),
        ("author", _authors(record.authors) or None),
        ("year", str(record.year) if record.year else None),
    ]
    version = record.published_version
    if version is not None:
        # The published paper, its preprint kept as the eprint; the note says which was chosen.
        entry_type: str = version.entry_type
        container = "booktitle" if entry_type == "inproceedings" else "journal"
        fields += [
            (container, _latex(version.venue)),
            ("pages", identifier_text(version.pages or "")),
            ("eprint", identifier_text(record.arxiv_id or "")),
            ("archivePrefix", "arXiv"),
            ("primaryClass", identifier_text(record.primary_class or "")),
            ("note", _latex(record.version_note or "")),
        ]
    elif record.arxiv_id is not None:
        entry_type = "misc"
        fields += [
            ("eprint", identifier_text(record.arxiv_id)),
            ("archivePrefix", "arXiv"),
            ("primaryClass", identifier_text(record.primary_class or "")),
        ]
        if record.venue:
            fields.append(("howpublished", _latex(record.venue)))
    elif record.venue:
        entry_type = "article"
        fields.append(("journal", _latex(record.venue)))
    else:
        entry_type = "misc"
    fields += [
        ("doi", identifier_text(record.doi or "")),
        ("url", url_text(record.url or "")),
        ("abstract", _latex(record.abstract) if record.abstract else None),
        ("keywords", ", ".join(_latex(tag) for tag in record.tags) or None),
        ("annote", _latex(record.note) if record.note else None),
    ]
    entry = model.Entry(
        entry_type, record.key, [model.Field(name, value) for name, value in fields if value]
    )
    if record.published is not None and version is None:
        # The month is the preprint's, so a published version's entry goes without one.
        # BibTeX styles know months by their three-letter macros, written without braces.
        month = model.Field("month", _MONTH_NAMES[record.published.month - 1])
        month.enclosing = "no-enclosing"
        names = [field.key for field in entry.fields]
        entry.fields.insert(names.index("year") + 1 if "year" in names else len(names), month)
    return entry


def _authors(names: Sequence[str]) -> str:
    """Names joined by 'and', with an 'and' inside a name braced so that it splits nothing."""
    latex = (_latex(name, in_name=True) for name in names)
    return " and ".join(_AND_WORD.sub("{and}", name) for name in latex if name)


def _latex(text: str, *, in_name: bool = False) -> str:
    """Text as LaTeX on one line, with balanced braces, that reads back as the same text.

    White space and control characters become single spaces (LaTeX reads any run of
    them as one), so that no value spans lines. Braces that pair up are written as
    ``\\{`` and ``\\}``; a brace without its partner as a macro, since BibTeX itself
    counts every brace, escaped or not, and a lone one would end the field for it.
    In names every macro is braced, as BibTeX's name rules expect ('{\\'E}mile'), and
    so is every brace.
    """
    plain = _SPACES.sub(" ", one_line(text)).strip(" ")
    tokens = _BRACE.split(plain)
    paired = set() if in_name else _paired_braces(tokens)
    table = _NAME_TABLE if in_name else _TEXT_TABLE
    return "".join(
        _BRACE_LATEX[token, index in paired] if token in _BRACES else _plain_latex(token, table)
        for index, token in enumerate(tokens)
    )


def _paired_braces(tokens: list[str]) -> set[int]:
    """Positions of the brace tokens that open or close a pair."""
    paired: set[int] = set()
    opened: list[int] = []
    for index, token in enumerate(tokens):
        if token == "{":
            opened.append(index)
        elif token == "}" and opened:
            paired.update((opened.pop(), index))
    return paired


def _plain_latex(text: str, table: _LatexTable) -> str:
    """Brace-free text; the character pairs LaTeX reads as one character ('--' as a dash,
    two backquotes as a quote) are kept apart by an empty group."""
    return "{}".join(part.translate(table) for part in _LIGATURE.split(text))


class _LatexTable(dict[int, str]):
    """str.translate's table: ASCII filled in up front, other characters looked up."""

    def __init__(self, *, braced: bool) -> None:
        super().__init__({code: _char_latex(chr(code), braced) for code in range(128)})
        self.braced = braced

    def __missing__(self, codepoint: int) -> str:
        return _char_latex(chr(codepoint), self.braced)


@functools.lru_cache(maxsize=8192)
def _char_latex(char: str, braced: bool) -> str:
    """pylatexenc's LaTeX for one character when it reads back as that character and keeps
    braces balanced; the character itself otherwise (BibTeX files are UTF-8)."""
    latex = str(_encoder.unicode_to_latex(char))
    if latex != char and not (_balanced(latex) and _decoder.latex_to_text(latex) == char):
        return char
    return "{" + latex + "}" if braced and latex.startswith("\\") else latex


def _balanced(latex: str) -> bool:
    depth = 0
    for char in latex:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


_SPACES = re.compile(r" {2,}")
_BRACES = ("{", "}")
_BRACE = re.compile(r"([{}])")
_BRACE_LATEX = {
    ("{", True): r"\{",
    ("}", True): r"\}",
    ("{", False): r"{\textbraceleft}",
    ("}", False): r"{\textbraceright}",
}
_LIGATURE = re.compile(r"(?<=[-`'?!])(?=[-`'])")
_AND_WORD = re.compile(r"(?<![^ ])and(?![^ ])", re.IGNORECASE)
_TEXT_TABLE = _LatexTable(braced=False)
_NAME_TABLE = _LatexTable(braced=True)


# --- import -----------------------------------------------------------------------


def parse_bibtex(text: str, *, max_items: int) -> list[ImportCandidate]:
    """Every entry of a BibTeX file for a reading list, resolved to a paper id where the
    file names one.

    Reading stops at the first entry past ``max_items`` or at a block nested too deeply:
    a refused file costs the part read. Raises ImportRefused for a file refused as a whole.
    """
    candidates: list[ImportCandidate] = []
    valid = 0
    for block in read_entries(text_lines(text), max_entries=max_items):
        if block.too_deep:
            raise _too_deep()
        valid += block.well_formed
        if block.entry is not None:
            candidates.append(_candidate(block.entry))
        elif block.error is not None:
            candidates.append(ImportCandidate(input=block.label, paper_id=None, reason=block.error))
    if candidates and not valid:
        raise ImportRefused("not_bibtex", "The file holds no valid BibTeX entry.")
    return candidates


@dataclass(frozen=True)
class BibEntry:
    """One entry as every reader of BibTeX files takes it, the catalogue's ingest as a
    reading list's import: text decoded from LaTeX, names as "First Last", and ids."""

    key: str
    entry_type: str
    title: str
    authors: list[str]
    # Every id the entry names, the canonical one first (arXiv, then DOI, then what the
    # URL names); for an entry that names none, the project's own id from its title.
    ids: list[str]
    doi: str | None
    url: str
    # The journal or book title, unless it only names an arXiv preprint.
    venue: str
    year: int | None
    month: int
    keywords: str
    note: str
    fields: dict[str, Any]

    @property
    def paper_id(self) -> str | None:
        return self.ids[0] if self.ids else None

    @property
    def abstract(self) -> str:
        """Decoded only when asked for: a reading list keeps no abstract, and decoding
        LaTeX costs more than linear time in a value's length. Markup nested deeper than
        the LaTeX reader goes is kept as it stands, braces dropped."""
        try:
            return _text(self.fields.get("abstract"))
        except RecursionError:
            return " ".join(_raw(self.fields.get("abstract")).split())


@dataclass(frozen=True)
class BibBlock:
    """One block of a BibTeX file: an entry, or why it cannot be read as one; neither for
    comments, ``@string`` and ``@preamble``."""

    line: int  # the line the block starts on
    resume: int  # the offset to read on from to read what follows this block
    entry: BibEntry | None = None
    label: str = ""  # how a report names the block: the entry's key, or its first line
    error: str | None = None
    well_formed: bool = False  # bibtexparser read an entry (even one refused for its size)
    too_deep: bool = False  # nested deeper than BRACE_DEPTH_MAX, so not parsed at all


def text_lines(text: str) -> Iterator[tuple[int, int, str]]:
    """A whole file's lines as ``read_entries`` takes them, offsets counted in characters."""
    for number, line in enumerate(_LINE.finditer(text), start=1):
        yield number, line.end(), line.group()


def read_entries(
    lines: Iterable[tuple[int, int, str]], *, start: int = 0, max_entries: int | None = None
) -> Iterator[BibBlock]:
    """The blocks of a BibTeX file in the order it holds them, from its lines given as
    ``(line number, offset after the line, line)`` from offset ``start`` on.

    The file is cut before every line that starts a block (where bibtexparser itself
    ends an unclosed block) and each piece parsed in turn, seeing the ``@string`` macros
    of the pieces before it: memory holds one piece, the macros and the keys seen (a key
    used again is refused), a broken entry costs only itself, and reading the pieces in
    turn reads the file as a whole. With
    ``max_entries``, reading stops at the first entry past it (ImportRefused).
    """
    strings: list[model.String] = []
    keys: set[str] = set()
    entries = 0
    for number, (first_line, begin, end, chunk) in enumerate(_chunks(lines, start)):
        if max_entries is not None and number > 2 * max_entries:
            raise too_many_items(max_entries)  # comments and strings are blocks to read too
        blocks = _read_chunk(chunk, first_line, strings, keys)
        entries += sum(not block.too_deep for block in blocks)
        if max_entries is not None and entries > max_entries:
            raise too_many_items(max_entries)
        if not blocks:
            yield BibBlock(first_line, end)
        for index, block in enumerate(blocks):
            # A chunk is resumed whole: only its last block is done with it.
            yield replace(block, resume=end if index == len(blocks) - 1 else begin)


def _chunks(
    lines: Iterable[tuple[int, int, str]], start: int
) -> Iterator[tuple[int, int, int, str]]:
    """``(first line number, offset before, offset after, text)`` of each piece."""
    piece: list[str] = []
    first, begin, position = 0, start, start
    for number, after, line in lines:
        if piece and _BLOCK_LINE.match(line):
            yield first, begin, position, "".join(piece)
            piece = []
        if not piece:
            first, begin = number, position
        piece.append(line)
        position = after
    if piece:
        yield first, begin, position, "".join(piece)


def _read_chunk(
    chunk: str, first_line: int, strings: list[model.String], keys: set[str]
) -> list[BibBlock]:
    """The entries and broken blocks of one piece; its ``@string`` macros join ``strings``
    and its entries' keys join ``keys``, so that a key used again is refused."""
    if _nested_too_deep(chunk):
        return [_too_deep_block(chunk, first_line)]
    library = Library(list(strings))
    known = len(library.blocks)
    found: list[BibBlock] = []
    try:
        library = parse_string(chunk, append_middleware=_middlewares(), library=library)
        for block in library.blocks[known:]:
            if isinstance(block, model.String):
                strings.append(block)
            elif isinstance(block, model.Entry) and block.key in keys:
                reason = f"not valid BibTeX: Duplicate entry key '{block.key}'"
                found.append(BibBlock(first_line, 0, label=_first_line(block.raw), error=reason))
            elif isinstance(block, model.Entry):
                keys.add(block.key)
                found.append(_entry_block(block, first_line))
            elif isinstance(block, model.ParsingFailedBlock):
                reason = f"not valid BibTeX: {_describe(block.error)}"
                found.append(BibBlock(first_line, 0, label=_first_line(block.raw), error=reason))
    except RecursionError:  # LaTeX nested deeper than the decoder's recursion goes
        return [_too_deep_block(chunk, first_line)]
    return found


def _nested_too_deep(chunk: str) -> bool:
    depth = 0
    for match in _BRACE_OR_ESCAPE.finditer(chunk):
        if match.group() == "{":
            depth += 1
            if depth > BRACE_DEPTH_MAX:
                return True
        elif match.group() == "}":
            depth = max(depth - 1, 0)
    return False


def _too_deep_block(chunk: str, first_line: int) -> BibBlock:
    return BibBlock(
        first_line, 0, label=_first_line(chunk), error=_too_deep().message, too_deep=True
    )


def _too_deep() -> ImportRefused:
    return ImportRefused(
        "too_deep", f"The file nests braces or LaTeX deeper than {BRACE_DEPTH_MAX} levels."
    )


def _middlewares() -> list[Middleware]:
    return [
        middlewares.NormalizeFieldKeys(),
        middlewares.SeparateCoAuthors(),
        middlewares.SplitNameParts(),
    ]


def _first_line(raw: str | None) -> str:
    first = (raw or "").strip().splitlines()[:1]
    return first[0][:200] if first else "?"


def _describe(error: Exception) -> str:
    return str(getattr(error, "abort_reason", "") or error or type(error).__name__).strip()


_LINE = re.compile(r"[^\n]*\n|[^\n]+")
_BLOCK_LINE = re.compile(r"[ \t]*@\w*[ \t]*[{(]")
_BRACE_OR_ESCAPE = re.compile(r"\\.|[{}]", re.DOTALL)


def _entry_block(entry: model.Entry, first_line: int) -> BibBlock:
    fields = {field.key: field.value for field in entry.fields}
    oversized = _oversized_field(fields)
    if oversized is not None:
        reason = f"the field '{oversized}' has more than {FIELD_MAX_CHARS} characters"
        return BibBlock(first_line, 0, label=entry.key, error=reason, well_formed=True)
    title = _text(fields.get("title"))
    ids, doi, url = _ids(fields)
    if not ids and title:
        ids = [local_paper_id(title)]
    venue = _text(fields.get("journal")) or _text(fields.get("booktitle"))
    read = BibEntry(
        key=entry.key,
        entry_type=entry.entry_type.lower(),
        title=title,
        authors=[
            _display_name(name)
            for name in fields.get("author") or []
            if isinstance(name, NameParts)
        ],
        ids=ids,
        doi=doi,
        url=url,
        venue="" if _ARXIV_IN_TEXT.search(venue) else venue,
        year=_year(fields.get("year")),
        month=_month(fields.get("month")),
        keywords=_text(fields.get("keywords")),
        note=_text(fields.get("annote")),
        fields=fields,
    )
    return BibBlock(first_line, 0, entry=read, label=entry.key, well_formed=True)


def _candidate(entry: BibEntry) -> ImportCandidate:
    details: dict[str, Any] = {"bibtex_key": entry.key, "bibtex_type": entry.entry_type}
    if entry.url:
        details["url"] = entry.url
    if entry.doi:
        details["doi"] = entry.doi
    if entry.venue:
        details["venue"] = entry.venue
    if entry.year:
        details["year"] = entry.year
    return ImportCandidate(
        input=entry.key,
        paper_id=entry.paper_id,
        reason=None if entry.paper_id else "the entry has no identifier, URL or title",
        tags=_tags(entry.keywords),
        note=entry.note,
        ids=entry.ids,
        snapshot=Snapshot(
            title=entry.title or None,
            authors=entry.authors,
            published=dt.date(entry.year, entry.month, 1) if entry.year else None,
            details=details,
        ),
    )


def _ids(fields: dict[str, object]) -> tuple[list[str], str | None, str]:
    """The ids an entry names, its arXiv id first (canonical), then DOI, then URL; with
    the DOI (without its scheme) and the URL as the entry gives them."""
    found: dict[str, str] = {}
    doi = _raw(fields.get("doi"))
    if doi:
        ref = parse_paper_id(f"doi:{doi}") or parse_paper_id(doi)
        if ref is not None:
            found["doi" if ref.paper_id.startswith("doi:") else "arxiv"] = ref.paper_id
    archive = (_raw(fields.get("archiveprefix")) or _raw(fields.get("eprinttype"))).lower()
    eprint = _raw(fields.get("eprint"))
    arxiv_texts = [
        f"arXiv:{eprint}" if eprint and archive in ("arxiv", "") else "",
        f"arXiv:{_raw(fields.get('arxivid'))}" if fields.get("arxivid") else "",
        _text(fields.get("journal")),
        _text(fields.get("note")),
    ]
    for text in arxiv_texts:
        match = _ARXIV_IN_TEXT.search(text)
        ref = parse_paper_id(f"arxiv:{match.group(1)}") if match else None
        if ref is not None:
            found.setdefault("arxiv", ref.paper_id)
            break
    url = _raw(fields.get("url"))
    if url:
        ref = parse_paper_id(url)
        if ref is not None:
            found.setdefault(ref.paper_id.partition(":")[0], ref.paper_id)
    canonical = [found[scheme] for scheme in ("arxiv", "doi") if scheme in found]
    ids = list(dict.fromkeys([*canonical, *found.values()]))
    return ids, found["doi"].removeprefix("doi:") if "doi" in found else None, url


def _tags(keywords: str) -> list[str]:
    """Keywords that make valid tags; the rest are dropped rather than failing the entry."""
    tags: list[str] = []
    for keyword in _KEYWORD_SEPARATORS.split(keywords):
        try:
            tags.extend(_TAG_LIST.validate_python([keyword]))
        except ValueError:
            continue
    return list(dict.fromkeys(tags))


def _oversized_field(fields: dict[str, Any]) -> str | None:
    """The first field this reader decodes that is longer than the limit: decoding LaTeX
    costs more than linear time in a value's length."""
    for name, value in fields.items():
        if name == "author" and isinstance(value, list):
            size = sum(len(word) for parts in value for word in _words(parts))
            if size > AUTHORS_MAX_CHARS:
                return name
        elif name in _READ_FIELDS and isinstance(value, str) and len(value) > FIELD_MAX_CHARS:
            return name
    return None


def _words(parts: object) -> list[str]:
    if not isinstance(parts, NameParts):
        return []
    return [*parts.first, *parts.von, *parts.last, *parts.jr]


def _display_name(parts: NameParts) -> str:
    words = [*parts.first, *parts.von, *parts.last]
    name = " ".join(_text(word) for word in words if word)
    if parts.jr:
        name += ", " + " ".join(_text(word) for word in parts.jr)
    return name


def _text(value: object) -> str:
    """A field's text with LaTeX markup turned into the characters it stands for."""
    if not isinstance(value, str) or not value:
        return ""
    if _LATEX_MARKUP.search(value):
        value = str(_decoder.latex_to_text(value, latex_context=_WALKER_CONTEXT))
    return " ".join(value.split())


# What makes pylatexenc's reading of a text differ from the text: without any of these,
# the text is read as it stands, which is what most titles and names are.
_LATEX_MARKUP = re.compile(r"[\\{}$%&~]|--|``|''|!`|\?`")
# The walker's own context, built once rather than for every value it reads.
_WALKER_CONTEXT = get_default_latex_walker_context_db()
_READ_FIELDS = frozenset(
    {"title", "journal", "booktitle", "keywords", "annote", "note", "doi", "url", "eprint"}
    | {"archiveprefix", "eprinttype", "arxivid", "year", "month"}
)


def _raw(value: object) -> str:
    """Identifier fields: braces dropped, nothing decoded."""
    return value.replace("{", "").replace("}", "").strip() if isinstance(value, str) else ""


def _year(value: object) -> int | None:
    match = re.search(r"\b(1[5-9][0-9]{2}|2[0-9]{3})\b", str(value or ""))
    return int(match.group(1)) if match else None


def _month(value: object) -> int:
    text = _raw(value).lower()[:3]
    if text.isdigit() and 1 <= int(text) <= 12:
        return int(text)
    return _MONTHS.get(text, 1)
