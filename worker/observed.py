"""What every job does around its work: carry the request id and count its run."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from rq import get_current_job

from paperlens import job_metrics
from paperlens.logs import request_id_var
from worker.context import get_context

P = ParamSpec("P")
R = TypeVar("R")


def observed(func: Callable[P, R]) -> Callable[P, R]:
    """Log under the enqueuing request's id and record duration and failure in Redis."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        job = get_current_job()
        token = request_id_var.set(job.meta.get("request_id") if job is not None else None)
        started = time.perf_counter()
        failed = True
        try:
            result = func(*args, **kwargs)
            failed = False
            return result
        finally:
            seconds = time.perf_counter() - started
            job_metrics.record(get_context().redis, func.__name__, seconds, failed)
            request_id_var.reset(token)

    return run
