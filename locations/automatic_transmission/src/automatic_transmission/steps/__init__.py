"""One module per pipeline step: its decide functions and its thin Dagster op."""

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

import dagster as dg

from dagstributor_shared.notify import NotifierResource

NOTIFIER_KEY = "notifier"


def step_op(name: str, **kwargs: Any) -> Callable[[Callable[..., None]], dg.OpDefinition]:
    """The op decorator every step uses: an optional `after` input orders steps in the full job.

    Every step op also requires the `notifier` resource, without the step function taking it:
    `report_step` finds it in `context.resources` and notifies what the recorded outcomes call
    for (reporting.notify_step), so no step handles notifications itself.
    """

    def decorate(run: Callable[..., None]) -> dg.OpDefinition:
        signature = inspect.signature(run)
        hints = typing.get_type_hints(run)  # resolved here: Dagster reads them off the wrapper
        parameters = [
            p.replace(annotation=hints.get(p.name, p.annotation))
            for p in signature.parameters.values()
        ]
        parameters.append(
            inspect.Parameter(
                NOTIFIER_KEY, inspect.Parameter.KEYWORD_ONLY, annotation=NotifierResource
            )
        )

        @functools.wraps(run)
        def body(*args: Any, **values: Any) -> None:
            values.pop(NOTIFIER_KEY)
            run(*args, **values)

        body.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return dg.op(
            name=name,
            ins={"after": dg.In(dg.Nothing)},
            out=dg.Out(dg.Nothing),
            **kwargs,
        )(body)

    return decorate
