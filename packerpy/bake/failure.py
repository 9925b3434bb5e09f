"""A failed build's `--json` data: where its run record is and the phase that failed.

CI uploads the run directory of a failed build; before, its path existed only inside the error
message (ux review 5: `data: {}`). The data travels on the exception (PackerpyError.data) to the
CLI's error boundary, which puts it in the envelope.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from packerpy import records
from packerpy.bake.plan import Target
from packerpy.contract import BuildFailedData
from packerpy.errors import PackerpyError


def data(target: Target, record: records.RunRecord, exc: PackerpyError) -> BuildFailedData:
    phase = record.payload(exc)["phase"]
    return BuildFailedData(
        image=target.name,
        version=target.image.version,
        run_dir=str(record.dir),
        phase=phase,
        log=str(record.dir / records.LOG_NAME),
        exit_code=exc.exit_code,
    )


@contextmanager
def annotated(target: Target, record: records.RunRecord) -> Iterator[None]:
    """Attach BuildFailedData to a PackerpyError leaving the block (inside the run record)."""
    try:
        yield
    except PackerpyError as exc:
        exc.data = data(target, record, exc).model_dump(mode="json")
        raise
