"""The search page and the Ctrl/Cmd-K quick-jump results (pm.search does the searching)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from pm import search as global_search
from pm.htmx import is_partial, render_fragment, render_page
from pm.http import AuthedHttpRequest

PAGE_LIMIT = 10
QUICK_LIMIT = 5


def _results(request: AuthedHttpRequest, limit: int):
    text = request.GET.get("q", "")[: global_search.MAX_QUERY]
    found = global_search.reader_workspace(request)
    if found is None:
        return text, None, None
    workspace, viewer = found
    request.lodestar_workspace = workspace
    results = global_search.run(workspace=workspace, viewer=viewer, text=text, limit=limit)
    return text, workspace, results


@login_required
@require_GET
def search(request: AuthedHttpRequest) -> HttpResponse:
    """Everything in your workspace matching the query, grouped by kind; a story key (LOD-42)
    opens the story."""
    text, workspace, results = _results(request, PAGE_LIMIT)
    if results is not None and results.jump is not None and not is_partial(request):
        return redirect(results.jump.url)
    context = {"q": text, "workspace": workspace, "results": results}
    return render_page(request, "pm/search.html", context, partial="results")


@login_required
@require_GET
def quick_jump(request: AuthedHttpRequest) -> HttpResponse:
    """The quick-jump dialog's results: the story a key names first, then a few per kind."""
    text, workspace, results = _results(request, QUICK_LIMIT)
    context = {"q": text, "workspace": workspace, "results": results, "quick": True}
    return render_fragment(request, "pm/search.html", "results", context)
