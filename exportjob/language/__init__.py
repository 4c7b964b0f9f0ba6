"""The Image Serving modifier and macro language: parse, render and resolve requests.

Layers run bottom to top, each importing only the ones below it: scalar values (``_values``) and
colours (``_color_syntax``), command arguments (``_arguments``), the command vocabulary
(``_vocabulary``), request syntax (``_syntax``, which takes any ``MacroLookup``), macro libraries
(``_macros``), and resolution into render options (``_resolve``).

>>> from exportjob.language import MacroLibrary, parse_request, resolve_request
>>> [c.name for c in parse_request("&fmt=png&wid=400")]
['fmt', 'wid']
>>> resolve_request("&fmt=png&wid=400", "$thumb$", macros=MacroLibrary({"thumb": "wid=120"})).options.wid
120
"""

from __future__ import annotations

from ._macros import MAX_LOAD_CHARS, MAX_LOAD_MODIFIERS, MacroLibrary
from ._resolve import ResolvedRequest, parse_request, resolve_request
from ._syntax import (
    MAX_EXPANDED_CHARS,
    MAX_EXPANDED_MODIFIERS,
    Command,
    MacroLookup,
    render_commands,
)
from ._vocabulary import COMMANDS, CommandSpec, Kind

__all__ = [
    "COMMANDS",
    "MAX_EXPANDED_CHARS",
    "MAX_EXPANDED_MODIFIERS",
    "MAX_LOAD_CHARS",
    "MAX_LOAD_MODIFIERS",
    "Command",
    "CommandSpec",
    "Kind",
    "MacroLibrary",
    "MacroLookup",
    "ResolvedRequest",
    "parse_request",
    "render_commands",
    "resolve_request",
]
