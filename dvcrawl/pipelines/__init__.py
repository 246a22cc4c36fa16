"""Item pipelines, one concern each: validate -> (deduplicate) -> store.

Pipelines take settings and a stats collector, so ``dvcrawl import`` runs the very same chain
outside a crawl (`run_chain`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from scrapy.exceptions import DropItem
from scrapy.settings import BaseSettings
from scrapy.utils.misc import load_object

from dvcrawl.items import FetchedArticle


class Stats(Protocol):
    """The part of Scrapy's StatsCollector pipelines use."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        """Add `count` to a counter."""

    def get_value(self, key: str, default: Any = None) -> Any:
        """Read a counter."""

    def set_value(self, key: str, value: Any) -> None:
        """Set a value."""


class CounterStats:
    """A minimal stats collector for chains run outside a crawl (``dvcrawl import``)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        """Add `count` to a counter."""
        self.values[key] = self.values.get(key, start) + count

    def get_value(self, key: str, default: Any = None) -> Any:
        """Read a counter."""
        return self.values.get(key, default)

    def set_value(self, key: str, value: Any) -> None:
        """Set a value."""
        self.values[key] = value

    def get_stats(self) -> dict[str, Any]:
        """All counters."""
        return dict(self.values)


class Chain:
    """The configured ``ITEM_PIPELINES``, run in order on items outside a Scrapy crawl."""

    def __init__(self, settings: BaseSettings, stats: CounterStats):
        ordered = sorted(settings.getdict("ITEM_PIPELINES").items(), key=lambda pair: pair[1])
        self.stats = stats
        self.pipelines = [
            load_object(path)(settings, stats) for path, order in ordered if order is not None
        ]

    def __enter__(self) -> Chain:
        for pipeline in self.pipelines:
            getattr(pipeline, "open_spider", _noop)()
        return self

    def __exit__(self, *exc: object) -> None:
        for pipeline in reversed(self.pipelines):
            getattr(pipeline, "close_spider", _noop)()

    def process(self, item: FetchedArticle) -> FetchedArticle | None:
        """Run one item through every pipeline; None if one of them dropped it."""
        for pipeline in self.pipelines:
            try:
                item = pipeline.process_item(item)
            except DropItem:
                return None
        return item


def _noop() -> None:
    return None


PipelineFactory = Callable[[BaseSettings, Stats], Any]
