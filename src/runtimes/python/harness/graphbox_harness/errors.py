"""Error reports whose tracebacks show the program's own lines and no engine paths."""

import importlib.util
import os
import traceback

from . import loader

_HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))


PACKAGES_SETTING = "GRAPHBOX_PYTHON_PACKAGES"


def _name_the_setting(err: BaseException) -> None:
    """A module missing from the runtime: say which setting would add it (once, on the error itself)."""
    if not isinstance(err, ModuleNotFoundError) or not isinstance(err.msg, str) or PACKAGES_SETTING in err.msg:
        return
    top = (err.name or "").partition(".")[0]
    # `import json.nope` names a module of an installed package: no package to add.
    if not top or (top != err.name and importlib.util.find_spec(top) is not None):
        return
    err.msg = (f"{err.msg}; it is not installed in this runtime: the operator can add its package with "
               f"{PACKAGES_SETTING}=<package>==<version> (then `npm run setup`)")


def describe(err: BaseException) -> str:
    _name_the_setting(err)
    text = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    return text[:4000]


def _shorten(filename: str) -> str:
    """Library frames keep their package-relative path, never the host's install location."""
    for marker in ("site-packages/", "dist-packages/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    if "/lib/python" in filename:
        return "python/" + filename.split("/lib/python", 1)[1].split("/", 1)[-1]
    return os.path.basename(filename)


def program_traceback(err: BaseException) -> str:
    """The traceback of `err`: the program's frames in full, library frames counted, harness frames dropped."""
    _name_the_setting(err)
    lines = ["Traceback (most recent call last):\n"]
    hidden = 0
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename in loader.program_filenames:
            if hidden:
                lines.append(f"  ... {hidden} frame(s) in LangGraph and libraries\n")
                hidden = 0
            lines.extend(traceback.format_list([frame]))
        elif not frame.filename.startswith(_HARNESS_DIR):
            hidden += 1
    if hidden:
        lines.append(f"  ... {hidden} frame(s) in LangGraph and libraries\n")
    lines.extend(traceback.format_exception_only(type(err), err))
    return "".join(lines).replace(_HARNESS_DIR, "<engine>")


def syntax_traceback(err: SyntaxError) -> str:
    return "".join(traceback.format_exception_only(type(err), err))


def library_frames_to_text(err: BaseException) -> str:
    """Used only for the harness's own crashes: paths shortened."""
    frames = traceback.extract_tb(err.__traceback__)
    for frame in frames:
        frame.filename = _shorten(frame.filename)
    return "".join(traceback.format_list(frames) + traceback.format_exception_only(type(err), err))
