"""One poll of GitHub: the three searches, my PRs' CI, and the state items they make.

The strategy (conditional requests, quota) is described in `source.py`.
"""

from __future__ import annotations

from pydantic import ValidationError

from oxymus.connectors.github.api import (
    CHECK_RUN_PAGES,
    CheckRunsPage,
    CombinedStatus,
    GitHubApi,
    RequestFailed,
    SearchItem,
    SearchPage,
    WireCheckRun,
    WirePull,
    validation_summary,
)
from oxymus.connectors.github.config import GitHubConfig
from oxymus.connectors.github.models import KIND_ISSUE, KIND_PR, KIND_REVIEW_REQUEST, Issue, PullRequest, combine_ci
from oxymus.sources.contract import NeedsHuman, PollContext, PollResult, StateItem, utc_iso

QUERY_REVIEW_REQUESTS = "is:open is:pr review-requested:@me archived:false"
QUERY_MY_PULLS = "is:open is:pr author:@me archived:false"
QUERY_MY_ISSUES = "is:open is:issue assignee:@me archived:false"
LOW_CORE_QUOTA = 50  # refuse to poll with fewer core requests left than this
SEARCHES_PER_POLL = 3


class GitHubPoll:
    """One poll's work and its warnings."""

    def __init__(self, api: GitHubApi, config: GitHubConfig, ctx: PollContext):
        self.api = api
        self.config = config
        self.now = ctx.now()
        self.observed_at = utc_iso(self.now)
        self.warnings: list[str] = []

    def run(self) -> PollResult:
        self.api.check_budget("core", LOW_CORE_QUOTA, self.now)
        self.api.check_budget("search", SEARCHES_PER_POLL, self.now)
        review_requests = self._only(self._search(QUERY_REVIEW_REQUESTS), pulls=True)
        mine = self._only(self._search(QUERY_MY_PULLS), pulls=True)
        issues = self._only(self._search(QUERY_MY_ISSUES), pulls=False)

        items = [self._item(KIND_REVIEW_REQUEST, _pull(found, draft=bool(found.draft))) for found in review_requests]
        items += [self._my_pull(found) for found in mine]
        items += [self._item(KIND_ISSUE, _issue(found)) for found in issues]
        self.api.end_poll()
        # The store keys items by (source, key): one URL, one item, whatever GitHub's searches overlap.
        unique = {item.key: item for item in reversed(items)}
        return PollResult(items=[item for item in items if unique[item.key] is item], warnings=self.warnings)

    def _item(self, kind: str, data: PullRequest | Issue, error: str | None = None) -> StateItem:
        return StateItem(source="github", kind=kind, key=data.url, observed_at=self.observed_at,
                         data=data.model_dump(mode="json"), error=error)

    # -- search

    def _search(self, query: str) -> list[SearchItem]:
        """Up to `max_items` results, most recently updated first; bad items skipped with a warning."""
        limit = self.config.max_items
        per_page = min(100, limit)
        found: dict[str, SearchItem] = {}
        page = 1
        while True:
            params = {"q": query, "sort": "updated", "order": "desc", "per_page": per_page}
            if page > 1:
                params["page"] = page
            try:
                result = self.api.get("/search/issues", SearchPage, params, now=self.now)
            except RequestFailed as e:
                if e.status in (403, 404):
                    raise NeedsHuman(f"{e} (check the token's access and [github] api_url = {self.config.api_url!r})") from None
                raise
            if result.incomplete_results:
                self.warnings.append(f"GitHub's search timed out and may have missed some results: {query}")
            for index, raw in enumerate(result.items):
                try:
                    item = SearchItem.model_validate(raw)
                except ValidationError as e:
                    name = raw.get("html_url") if isinstance(raw.get("html_url"), str) else f"result {index + 1}"
                    self.warnings.append(f"skipped a malformed search result ({name}) from "
                                         f"{self.api.url('/search/issues', params)}: {validation_summary(e)}")
                    continue
                found.setdefault(item.html_url, item)
            seen = (page - 1) * per_page + len(result.items)
            if len(found) >= limit or len(result.items) < per_page or seen >= min(result.total_count, 1000):
                break
            page += 1
        return list(found.values())[:limit]

    def _only(self, found: list[SearchItem], *, pulls: bool) -> list[SearchItem]:
        """The results of the asked-for type (a search for one should never return the other)."""
        kept = []
        for item in found:
            if (item.pull_request is not None) == pulls:
                kept.append(item)
            else:
                self.warnings.append(f"skipped {item.html_url}: the search for {'pull requests' if pulls else 'issues'} "
                                     f"returned {'an issue' if pulls else 'a pull request'}")
        return kept

    # -- my pull requests and their CI

    def _my_pull(self, found: SearchItem) -> StateItem:
        assert found.pull_request is not None
        try:
            pull = self.api.get(found.pull_request.url, WirePull, now=self.now)
            commit = f"{found.repository_url}/commits/{pull.head.sha}"
            status = self.api.get(f"{commit}/status", CombinedStatus, {"per_page": 100}, now=self.now)
            runs: list[WireCheckRun] = []
            for page in range(1, CHECK_RUN_PAGES + 1):
                params = {"per_page": 100, **({"page": page} if page > 1 else {})}
                result = self.api.get(f"{commit}/check-runs", CheckRunsPage, params, now=self.now)
                runs += result.check_runs
                if not result.check_runs or len(runs) >= result.total_count:
                    break
        except RequestFailed as e:  # one PR we cannot read (deleted since, SSO-protected org): not the whole poll
            self.warnings.append(f"{found.html_url}: CI state unknown: {e}")
            return self._item(KIND_PR, _pull(found, draft=bool(found.draft)), error=f"CI state unknown: {e}")
        ci, failing = combine_ci(((s.context, s.state) for s in status.statuses),
                                 ((r.name, r.status, r.conclusion) for r in runs))
        return self._item(KIND_PR, _pull(found, draft=pull.draft, ci=ci, failing_checks=failing, head_sha=pull.head.sha))


def _pull(found: SearchItem, **fields) -> PullRequest:
    return PullRequest(number=found.number, title=found.title, repo=found.repo, url=found.html_url,
                       author=found.user.login if found.user else "ghost", updated_at=utc_iso(found.updated_at), **fields)


def _issue(found: SearchItem) -> Issue:
    return Issue(number=found.number, title=found.title, repo=found.repo, url=found.html_url,
                 labels=[label.name for label in found.labels], updated_at=utc_iso(found.updated_at))
