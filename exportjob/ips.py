"""The IPS wire forms of a job and its submitJob context, as ``TypedDict`` types.

``ExportJob.from_ips``/``to_ips`` and ``JobContext.from_ips``/``to_ips`` read and write them; the IPS
spellings (``assetHandleArray``, ``companyHandle``, ...) appear nowhere else in the library.
"""

from __future__ import annotations

from ._model import RawExportJob, RawJobContext

__all__ = ["RawExportJob", "RawJobContext"]
