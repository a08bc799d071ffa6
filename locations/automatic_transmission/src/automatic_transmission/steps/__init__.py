"""One module per pipeline step: its decide functions and its thin Dagster op."""

from collections.abc import Callable
from typing import Any

import dagster as dg


def step_op(name: str, **kwargs: Any) -> Callable[[Callable[..., None]], dg.OpDefinition]:
    """The op decorator every step uses: an optional `after` input orders steps in the full job."""
    return dg.op(
        name=name,
        ins={"after": dg.In(dg.Nothing)},
        out=dg.Out(dg.Nothing),
        **kwargs,
    )
