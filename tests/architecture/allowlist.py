"""An import-linter contract that is an allow-list: every module of the source packages imports only the standard
library and the modules it names. A forbidden-list forgets what it did not think of; this one refuses what it was
not told about. External packages are matched by the full module name written in the import statement (so
``eventsourcing.domain`` can be allowed while ``eventsourcing.postgres`` is not)."""

from __future__ import annotations

import sys

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output

STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


def _within(module: str, allowed: str) -> bool:
    return module == allowed or module.startswith(allowed + ".")


class AllowListContract(Contract):
    """Source modules import only the standard library and the allowed modules (direct imports)."""

    source_modules = fields.ListField(subfield=fields.StringField())
    allowed_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        allowed = list(self.allowed_modules) + list(self.source_modules)  # type: ignore[call-overload]
        broken: list[dict[str, object]] = []
        for source in self.source_modules:  # type: ignore[attr-defined]
            for importer in sorted(graph.find_descendants(source) | {source}):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    for detail in graph.get_import_details(importer=importer, imported=imported) or [
                        {"line_number": 0, "line_contents": f"import {imported}"}
                    ]:
                        name = _imported_name(str(detail["line_contents"]), imported)
                        if name.split(".")[0] in STDLIB or any(_within(name, ok) for ok in allowed):
                            continue
                        broken.append({"importer": importer, "imported": name, "line": detail["line_number"]})
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["broken"]:
            output.print_error(f"{item['importer']}:{item['line']} imports {item['imported']}, which is not allowed")


def _imported_name(line: str, imported: str) -> str:
    """The full module named in an import statement (`from a.b import c` gives `a.b`), or the graph's name."""
    words = line.replace(",", " ").split()
    if len(words) >= 2 and words[0] in ("from", "import"):
        name = words[1]
        if _within(name, imported):  # an external package, which the graph knows by its top-level name only
            return name
    return imported
