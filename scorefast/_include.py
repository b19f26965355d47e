"""Where the C headers are, for projects that build against scorefast."""
import os

__all__ = ["get_include"]

_HEADER = "sf_common.h"


def get_include() -> str:
    """Return the directory that holds scorefast's C headers.

    Pass it to the compiler of an extension that cimports
    ``scorefast.capi`` (or includes the headers from C), as with
    :func:`numpy.get_include`::

        Extension("mymod", ["mymod.pyx"],
                  include_dirs=[scorefast.get_include(), numpy.get_include()])

    Returns
    -------
    str
        ``scorefast/include`` inside an installed scorefast (the headers are
        copied there when the wheel is built), or ``src_c`` of the source
        checkout that an editable install runs from.

    Raises
    ------
    FileNotFoundError
        If neither directory holds the headers (a broken installation).

    Notes
    -----
    The headers declare the kernels (``categorical.h``, ``bernoulli.h``,
    ``gaussian.h``), the status codes (``sf_common.h``) and header-only
    scalar functions (``sf_math.h``). Downstream code calls the kernels
    through ``scorefast.capi`` and never links against scorefast's objects.
    """
    package = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(package, "include"),
                      os.path.join(os.path.dirname(package), "src_c")):
        if os.path.isfile(os.path.join(candidate, _HEADER)):
            return candidate
    raise FileNotFoundError(
        "scorefast: the C headers were not found next to the package "
        f"({os.path.join(package, 'include')}); reinstall scorefast")
