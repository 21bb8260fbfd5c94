"""Role-matrix entries for the imports app's routes (see tests/test_role_matrix.py): PM and above
import; engineers and stakeholders are refused (403), outsiders get 404."""

from imports.models import ToolImport
from pm.choices import Role
from tests.routing import Route


def _import(cast):
    batch = ToolImport.objects.create(
        product=cast.product,
        tool="linear",
        filename="linear.csv",
        encoding="utf-8",
        content="ID,Title,Status\nENG-1,Cache the index,Todo\n",
        content_hash="0" * 64,
        mapping={"columns": {"key": "ID", "title": "Title", "status": "Status"}, "statuses": {}},
        row_count=1,
    )
    return {"key": cast.product.key, "pk": batch.pk}


ROUTES: dict[str, Route] = {
    "tool_import": Route(Role.PM, methods=("get", "post")),
    "tool_import_preview": Route(Role.PM, kwargs=_import, methods=("get", "post")),
    "tool_import_run": Route(Role.PM, kwargs=_import, methods=("post",)),
    "tool_import_progress": Route(Role.PM, kwargs=_import),
}
