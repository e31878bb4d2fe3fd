"""Every action kind this installation can perform: the core's own and each connector's.

Apart from the contract (oxymus/actions/effects.py) so that the contract does not import its
own implementations (`plans.edit`, `memory.update`, `ui.theme`, `file.patch`): this module sits above both.
"""

from __future__ import annotations

import logging
from typing import Any

from oxymus.actions.effects import ActionSpec

log = logging.getLogger("oxymus.actions.effects")


def action_specs(config: Any) -> dict[str, ActionSpec]:
    """Every action kind this installation can perform: the core's own plus each connector's.

    A connector opts in with a classmethod `actions(section) -> list[ActionSpec]`,
    called with its config section (None if the user wrote none). A connector whose
    `actions()` raises is left out (its kinds are then unknown and refused at
    proposal), so one bad plugin cannot stop the daemon.
    """
    from oxymus.actions.file_patch import FilePatchSpec
    from oxymus.memory.update_action import MemoryUpdateSpec
    from oxymus.plans.edit_action import PlansEditSpec
    from oxymus.plugins import connectors
    from oxymus.records.create_action import RecordCreateSpec
    from oxymus.records.update_action import RecordUpdateSpec
    from oxymus.settings.theme_action import ThemeSpec

    specs: dict[str, ActionSpec] = {PlansEditSpec.kind: PlansEditSpec(), MemoryUpdateSpec.kind: MemoryUpdateSpec(),
                                    ThemeSpec.kind: ThemeSpec(), RecordUpdateSpec.kind: RecordUpdateSpec(),
                                    RecordCreateSpec.kind: RecordCreateSpec(), FilePatchSpec.kind: FilePatchSpec()}
    for name, cls in connectors().items():
        make = getattr(cls, "actions", None)
        if make is None:
            continue
        try:
            for spec in make(getattr(config, name, None)):
                specs[spec.kind] = spec
        except Exception:  # noqa: BLE001 - reported by the caller through the missing kinds
            log.exception("connector %r failed to declare its actions", name)
    return specs
