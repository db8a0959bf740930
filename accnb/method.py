"""Methods: loading one from a file or a string, its declarations, and its hash."""

from __future__ import annotations

import ast
import builtins
import dis
import inspect
import linecache
import sys
import types
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from . import hashing
from .errors import MethodError

PARTS = ("prepare", "analysis", "synthesis")


@dataclass(eq=False)
class Method:
    """A loaded method: its module, its declarations and the hashes reuse accepts.

    The declarations are read once, when the method is loaded (every build asks for them;
    and a job process later sets the module's `options` to the build's values).

    `hash` covers the code (comments and formatting aside) and the contents of its
    `depend_extra` files; `accepted_hashes` adds the ones `equivalent_hashes` vouches for.
    """

    name: str
    source: str
    filename: str
    module: types.ModuleType
    hash: str
    source_digest: str
    depend_files: tuple[Path, ...] = ()
    accepted_hashes: tuple[str, ...] = ()
    stamp: tuple = field(default=(), repr=False)
    helpers: dict[str, Path] = field(default_factory=dict)

    @cached_property
    def options(self) -> dict:
        return getattr(self.module, "options", {}) or {}

    @cached_property
    def datasets(self) -> tuple[str, ...]:
        return _input_names(self.module, "datasets")

    @cached_property
    def jobs(self) -> tuple[str, ...]:
        return _input_names(self.module, "jobs")

    @cached_property
    def list_inputs(self) -> frozenset[str]:
        """Inputs declared as `['name']`: they take a list of jobs or datasets."""
        found = set()
        for kind in ("datasets", "jobs"):
            for item in getattr(self.module, kind, ()) or ():
                if isinstance(item, list):
                    found.add(item[0])
        return frozenset(found)

    @cached_property
    def input_directories(self) -> tuple[str, ...]:
        """Options holding paths whose files enter the reuse key (see accnb.fingerprint)."""
        return tuple(getattr(self.module, "input_directories", ()) or ())

    @cached_property
    def unresolved_globals(self) -> set[str]:
        """Global names the method's code reads that neither it nor builtins define:
        in a notebook, names that exist only in the notebook's namespace."""
        found: set[str] = set()
        codes = [compile(self.source, self.filename, "exec")]
        while codes:
            code = codes.pop()
            for ins in dis.get_instructions(code):
                if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                    found.add(ins.argval)
            codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        return {n for n in found if n not in self.module.__dict__ and not hasattr(builtins, n)}

    @cached_property
    def description(self) -> str:
        return (getattr(self.module, "description", "") or "").strip()

    def function(self, part: str):
        """The method's prepare/analysis/synthesis function, or None when it has none."""
        return getattr(self.module, part, None)

    @cached_property
    def arguments(self) -> dict[str, tuple[str, ...]]:
        """The argument names each part asks for (injected by name when it runs)."""
        return {
            part: tuple(inspect.signature(func).parameters)
            for part in PARTS
            if (func := self.function(part)) is not None
        }


def load(
    name: str,
    source: str,
    filename: str,
    stamp: tuple = (),
    helper_modules: dict[str, Path] | None = None,
    package: str | None = None,
) -> Method:
    """Execute a method's source as a fresh module and read its declarations.

    `filename` is where tracebacks and `depend_extra` paths point: the method's file,
    or the workdir's stored copy of a cell's source. `helper_modules` are modules defined
    in notebook cells (name -> stored source); those the method imports count in its
    hash like `depend_extra` files. `package` (see `folder_package`) lets a method file
    import the files beside it relatively, as in the Accelerator.
    """
    try:
        code = compile(source, filename, "exec")
        code_hash = hashing.code_digest(source)
    except SyntaxError as e:
        raise MethodError(
            f"method {name!r} has a syntax error at {e.filename}:{e.lineno}: {e.msg}"
        ) from None
    _remember_source(filename, source)
    module_name = f"a_{name}_{code_hash[:12]}"
    module = types.ModuleType(
        f"{package}.{module_name}" if package else f"accnb_method_{module_name}"
    )
    module.__file__ = filename
    module.__package__ = package
    # Registered so that objects of classes the method defines pickle between processes.
    sys.modules[module.__name__] = module
    try:
        exec(code, module.__dict__)
    except Exception as e:
        del sys.modules[module.__name__]
        raise MethodError(
            f"method {name!r} failed to load ({filename}): {type(e).__name__}: {e}"
        ) from e
    _check_declarations(name, module)
    helpers = {
        imported: helper_modules[imported]
        for imported in _imported_names(source)
        if imported in (helper_modules or {})
    }
    depend_files = _depend_files(name, module, filename) + tuple(helpers.values())
    method_hash = _combined_hash(code_hash, depend_files)
    accepted = (method_hash,) + _equivalent_hashes(name, module, source, depend_files)
    method = Method(
        name=name,
        source=source,
        filename=filename,
        module=module,
        hash=method_hash,
        source_digest=hashing.text_digest(source),
        depend_files=depend_files,
        accepted_hashes=accepted,
        stamp=stamp,
        helpers=helpers,
    )
    for declaration in ("options", "datasets", "jobs", "list_inputs", "input_directories"):
        getattr(method, declaration)
    return method


def file_stamp(paths: list[Path] | tuple[Path, ...]) -> tuple:
    """What tells cheaply whether files changed: (mtime_ns, size) of each, None if missing."""
    stamps = []
    for path in paths:
        try:
            st = path.stat()
            stamps.append((st.st_mtime_ns, st.st_size))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def folder_package(folder: Path, fresh: bool = False) -> str:
    """A package for a folder of method files, so that they can import each other relatively.

    `fresh` forgets the helper modules imported from it, so that a method reloaded because
    a file changed imports the files beside it as they are now, not as they were.
    """
    name = f"accnb_methods_{hashing.text_digest(str(folder))[:12]}"
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [str(folder)]
        package.__package__ = name
        sys.modules[name] = package
    elif fresh:
        package, prefix = sys.modules[name], name + "."
        for module in [m for m in sys.modules if m.startswith(prefix)]:
            short = module[len(prefix) :]
            if short.startswith("a_"):
                continue
            # From the package's attributes too (`from . import x` looks there first), and
            # its .pyc: an edit within the same second that keeps the size would pass the
            # .pyc's mtime-and-size check and bring the old code back.
            if "." not in short and hasattr(package, short):
                delattr(package, short)
            cached = getattr(sys.modules.pop(module), "__cached__", None)
            if cached:
                Path(cached).unlink(missing_ok=True)
    return name


def _imported_names(source: str) -> set[str]:
    """Top-level names of the modules a source imports."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def load_helper_module(name: str, source: str, filename: str) -> types.ModuleType:
    """Execute helper code from a notebook cell as an importable module `name`."""
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as e:
        raise MethodError(
            f"module {name!r} has a syntax error at line {e.lineno}: {e.msg}"
        ) from None
    _remember_source(filename, source)
    module = types.ModuleType(name)
    module.__file__ = filename
    exec(code, module.__dict__)
    return module


def _remember_source(filename: str, source: str) -> None:
    """Let tracebacks show lines of sources that are not files on disk (yet)."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def _input_names(module: types.ModuleType, kind: str) -> tuple[str, ...]:
    items = getattr(module, kind, ()) or ()
    return tuple(item[0] if isinstance(item, list) else item for item in items)


def _check_declarations(name: str, module: types.ModuleType) -> None:
    options = getattr(module, "options", {})
    if not isinstance(options, dict):
        raise MethodError(f"method {name!r}: options must be a dict, not {type(options).__name__}")
    for kind in ("datasets", "jobs"):
        items = getattr(module, kind, ())
        if isinstance(items, str) or not isinstance(items, tuple | list):
            raise MethodError(
                f"method {name!r}: {kind} must be a tuple of names, e.g. {kind} = ('source',)"
            )
        for item in items:
            ok = isinstance(item, str) or (
                isinstance(item, list) and len(item) == 1 and isinstance(item[0], str)
            )
            if not ok or not (item[0] if isinstance(item, list) else item).isidentifier():
                raise MethodError(
                    f"method {name!r}: {kind} entry {item!r} must be a name or ['name']"
                )
    for option in getattr(module, "input_directories", ()) or ():
        if option not in options:
            raise MethodError(
                f"method {name!r}: input_directories names {option!r}, which is not an option"
            )
    for part in PARTS:
        func = getattr(module, part, None)
        if func is not None and not callable(func):
            raise MethodError(f"method {name!r}: {part} must be a function")


def _depend_files(name: str, module: types.ModuleType, filename: str) -> tuple[Path, ...]:
    base = Path(filename).parent
    files = []
    for dep in getattr(module, "depend_extra", ()) or ():
        if isinstance(dep, types.ModuleType):
            dep = getattr(dep, "__file__", None)
            if not dep:
                raise MethodError(f"method {name!r}: depend_extra module has no file")
        path = Path(dep)
        if not path.is_absolute():
            path = base / path
        if not path.is_file():
            raise MethodError(f"method {name!r}: depend_extra file {str(path)!r} does not exist")
        files.append(path)
    return tuple(files)


def _combined_hash(code_hash: str, depend_files: tuple[Path, ...]) -> str:
    if not depend_files:
        return code_hash
    parts = [code_hash] + [hashing.digest(path.read_bytes()) for path in depend_files]
    return hashing.digest(" ".join(parts).encode())


def _equivalent_hashes(
    name: str, module: types.ModuleType, source: str, depend_files: tuple[Path, ...]
) -> tuple[str, ...]:
    """The old hashes this source vouches for, as the Accelerator's equivalent_hashes.

    `equivalent_hashes = {verifier: (old_hash, ...)}`: the verifier is the hash of the
    method without that statement, so the promise breaks as soon as the code changes.
    """
    declared = getattr(module, "equivalent_hashes", None)
    if not declared:
        return ()
    if not (isinstance(declared, dict) and len(declared) == 1):
        raise MethodError(f"method {name!r}: equivalent_hashes must be {{verifier: (old hashes,)}}")
    ((verifier, old),) = declared.items()
    old = (old,) if isinstance(old, str) else tuple(old)
    tree = ast.parse(source)
    tree.body = [
        node
        for node in tree.body
        if not (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "equivalent_hashes" for t in node.targets)
        )
    ]
    without = hashing.digest(ast.dump(tree, include_attributes=False).encode("utf-8"))
    actual = _combined_hash(without, depend_files)
    if verifier != actual:
        warnings.warn(
            f"method {name!r}: equivalent_hashes verifier is {verifier!r} but the method "
            f"without that statement hashes to {actual!r}, so the listed hashes are not "
            "accepted; put that value as the key if they really are equivalent",
            stacklevel=2,
        )
        return ()
    return old
