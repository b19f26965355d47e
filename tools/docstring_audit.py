"""List public names whose docstrings miss numpydoc sections.

Run from anywhere with scorefast and numpydoc installed:
``python tools/docstring_audit.py``. Reports names with no docstring, and
names whose docstring lacks a Parameters section for some parameter (PR01)
or a Returns section (RT01). Exit status 1 when anything is reported.
"""
import inspect
import sys

from numpydoc.validate import validate

import scorefast

MODULES = ["scorefast.plots", "scorefast.torch"]    # public submodules with __all__


def public_names():
    names = []
    for n in scorefast.__all__:
        if n in ("__version__", "BASELINES"):
            continue
        obj = getattr(scorefast, n)
        names.append(f"scorefast.{n}")
        if inspect.isclass(obj):
            for cls in obj.__mro__:
                if not cls.__module__.startswith("scorefast"):
                    continue
                for k in vars(cls):
                    full = f"scorefast.{n}.{k}"
                    if (not k.startswith("_") or k == "__call__") and full not in names:
                        names.append(full)
    for m in MODULES:
        try:
            mod = __import__(m, fromlist=["__all__"])
        except ImportError:
            continue
        names += [f"{m}.{n}" for n in mod.__all__]
    names.append("scorefast.capi.kernel_names")
    return names


def main():
    missing, partial = [], []
    for name in public_names():
        codes = {c for c, _ in validate(name)["errors"]}
        if "GL08" in codes:
            missing.append(name)
        elif codes & {"PR01", "RT01"}:
            partial.append(f"{name} ({', '.join(sorted(codes & {'PR01', 'RT01'}))})")
    print(f"no docstring ({len(missing)}):", *missing, sep="\n  ")
    print(f"no Parameters (PR01) or Returns (RT01) section ({len(partial)}):", *partial,
          sep="\n  ")
    return 1 if missing or partial else 0


if __name__ == "__main__":
    sys.exit(main())
