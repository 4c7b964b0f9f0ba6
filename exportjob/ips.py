"""The IPS wire forms of a job and its submitJob context, as ``TypedDict`` types, and their field names.

``ExportJob.from_ips``/``to_ips`` and ``JobContext.from_ips``/``to_ips`` read and write them; the IPS
spellings (``assetHandleArray``, ``companyHandle``, ...) appear nowhere else in the library.
``EXPORT_JOB_FIELDS`` and ``JOB_CONTEXT_FIELDS`` map each attribute to its IPS name, the name an
``InvalidJobError`` problem uses for it.

>>> EXPORT_JOB_FIELDS["email_setting"], JOB_CONTEXT_FIELDS["company"]
('emailSetting', 'companyHandle')
"""

from __future__ import annotations

from ._context import JOB_CONTEXT_FIELDS, RawJobContext
from ._job import EXPORT_JOB_FIELDS, RawExportJob

__all__ = ["EXPORT_JOB_FIELDS", "JOB_CONTEXT_FIELDS", "RawExportJob", "RawJobContext"]
