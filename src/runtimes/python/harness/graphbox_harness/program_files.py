"""The program's other modules (the request's `files`), imported from memory as one package.

The entry (`code`) is the package itself (`__workflow__`), so `from .state import State` works in
it, and every file is importable by its own top-level name too (`from state import State`), as a
script's folder is on sys.path; both names give the same module object, so its classes are one.
Nothing is written to disk: each source is compiled under its relative name, which tracebacks show.
"""

import importlib
import importlib.abc
import importlib.machinery
import linecache
import sys


def _module_name(path: str) -> tuple[str, bool]:
    """`tools/search.py` → (`tools.search`, False); `tools/__init__.py` → (`tools`, True)."""
    parts = path[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


class ProgramFiles(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, package: str, files: dict[str, str]):
        self._prefix = package + "."
        self._sources: dict[str, tuple[str, str]] = {}
        self._packages: set[str] = set()
        for path, source in files.items():
            name, is_init = _module_name(path)
            self._sources[name] = (path, source)
            if is_init:
                self._packages.add(name)
            parts = name.split(".")
            # A folder without __init__.py is a package all the same (an implicit one).
            self._packages.update(".".join(parts[:i]) for i in range(1, len(parts)))
        self.filenames = frozenset(path for path, _ in self._sources.values())

    def _relative(self, fullname: str) -> str | None:
        if fullname.startswith(self._prefix):
            name = fullname[len(self._prefix):]
        elif fullname.split(".", 1)[0] in sys.stdlib_module_names:
            # A file named like a standard module (`graphlib.py`) is not what LangGraph and the
            # libraries get when they import that module later: only relative imports reach it.
            return None
        else:
            name = fullname
        return name if name in self._sources or name in self._packages else None

    def find_spec(self, fullname, path=None, target=None):
        name = self._relative(fullname)
        if name is None:
            return None
        origin = self._sources[name][0] if name in self._sources else None
        return importlib.machinery.ModuleSpec(fullname, self, origin=origin, is_package=name in self._packages)

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        fullname = module.__name__
        if not fullname.startswith(self._prefix):
            # The top-level name is the package's module under another name: the import system
            # returns what sys.modules holds for the name once this returns.
            sys.modules[fullname] = importlib.import_module(self._prefix + fullname)
            return
        found = self._sources.get(fullname[len(self._prefix):])
        if found is None:
            return  # a folder without __init__.py
        filename, source = found
        module.__file__ = filename
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
