"""Wiring: config, guides, understanding, store and dialog built once for any channel."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.cases import CaseDesk, assign_offices
from bot.catalog import Catalog, load_catalog
from bot.config import Config
from bot.storage import Store
from bot.workdays import Calendar

if TYPE_CHECKING:
    from bot.dialog import Dialog, Forward


@dataclass
class App:
    config: Config
    catalog: Catalog
    store: Store
    desk: CaseDesk
    dialog: Dialog

    async def close(self) -> None:
        await self.store.close()


async def open_desk(config: Config) -> CaseDesk:
    """The case desk alone, for staff commands that need no dialog."""
    catalog = load_catalog(config.procedures)    # a broken guide is reported before the database opens
    store = await Store.open(config.database)
    try:
        await assign_offices(store, config.offices)
    except BaseException:
        await store.close()
        raise
    return make_desk(config, store, catalog)


def make_desk(config: Config, store: Store, catalog: Catalog) -> CaseDesk:
    return CaseDesk(store, catalog, Calendar(config.days_off, config.working_days), config.case_code_pattern,
                    front=config.office, offices=config.offices)


async def build_app(config: Config, forward: Forward | None = None) -> App:
    """The database opens first: an unusable one stops the command at once with its name,
    before minutes of training a model that could not be used; if the rest fails, the
    database is closed again (its open connection would keep the process alive). The dialog
    and the model are imported here: staff commands open the desk alone and need neither
    numpy nor the matcher (0.2 s of every command)."""
    from bot.classifier import load_model
    from bot.dialog import Dialog
    from bot.matching import Matcher

    catalog = load_catalog(config.procedures)
    store = await Store.open(config.database)
    try:
        await assign_offices(store, config.offices)
        model = await asyncio.to_thread(load_model, catalog)  # trains only when its cache is stale
    except BaseException:
        await store.close()
        raise
    desk = make_desk(config, store, catalog)
    dialog = Dialog(catalog, Matcher(catalog, model, config.case_code_pattern), store, config, desk, forward)
    return App(config, catalog, store, desk, dialog)
