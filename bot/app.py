"""Wiring: config, guides, understanding, store and dialog built once for any channel."""

from __future__ import annotations

from dataclasses import dataclass

from bot.catalog import Catalog, load_catalog
from bot.config import Config
from bot.dialog import Dialog, Forward
from bot.matching import Matcher
from bot.store import Store


@dataclass
class App:
    config: Config
    catalog: Catalog
    store: Store
    dialog: Dialog

    async def close(self) -> None:
        await self.store.close()


async def build_app(config: Config, forward: Forward | None = None) -> App:
    catalog = load_catalog(config.procedures)
    store = await Store.open(config.database)
    dialog = Dialog(catalog, Matcher(catalog, config.case_code_pattern), store, config, forward)
    return App(config, catalog, store, dialog)
