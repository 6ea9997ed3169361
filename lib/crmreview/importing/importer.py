"""The import's entry points under the module path older code uses.

New code imports them from :mod:`crmreview.importing`; this module only re-exports them.

Public names: :func:`import_files`, :class:`FileResult`, :class:`ImportFileError`.
"""

from .errors import ImportFileError
from .load import FileResult, import_files

__all__ = ["FileResult", "ImportFileError", "import_files"]
